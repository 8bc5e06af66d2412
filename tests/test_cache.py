"""The content cache (droplint/cache.py): a warm run gives the same report as a cold one,
and the cache is never a source of errors (corrupt, shared, unwritable, old)."""
from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from droplint import cache, pipeline
from droplint.config import Settings
from droplint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
SETTINGS = Settings(keras_version="3")


def _fresh(path: str, data: bytes):
    return pipeline.check_text(data.decode("utf-8"), path, SETTINGS)


def _roundtrip(result):
    raw = json.loads(json.dumps(cache.encode(result.findings, result.sites, result.notes)))
    return cache.decode(raw)


def _same(result, decoded) -> None:
    findings, sites, notes = decoded
    assert [f.to_dict() for f in findings] == [f.to_dict() for f in result.findings]
    assert [s.to_dict() for s in sites] == [s.to_dict() for s in result.sites]
    assert notes == result.notes
    for a, b in zip(findings, result.findings):
        assert a == b  # the objects themselves, fixes and edits included


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_results_survive_the_json_round_trip(path):
    result = _fresh(str(path), path.read_bytes())
    assert result.sites
    _same(result, _roundtrip(result))


def test_every_rule_example_survives_the_round_trip():
    count = 0
    for rule in ALL_RULES:
        for source in (*getattr(rule, "BAD", ()), *getattr(rule, "GOOD", ())):
            result = pipeline.check_text(source, "example.py", Settings(keras_version="3"))
            _same(result, _roundtrip(result))
            count += bool(result.findings)
    assert count >= sum(len(getattr(r, "BAD", ())) for r in ALL_RULES if not r.loader_only)


def _open(folder: Path, settings: Settings = SETTINGS) -> cache.Cache:
    c = cache.Cache.open(folder, settings)
    assert c is not None
    return c


def test_a_hit_needs_the_same_bytes(tmp_path):
    path = EXAMPLES[0]
    data = path.read_bytes()
    result = _fresh(str(path), data)
    c = _open(tmp_path)
    assert c.get(str(path), cache.digest(data)) is None
    c.put(str(path), cache.digest(data), result.findings, result.sites, result.notes)
    c.save()
    again = _open(tmp_path)
    _same(result, again.get(str(path), cache.digest(data)))
    assert again.get(str(path), cache.digest(data + b"\n")) is None
    assert again.get("other.py", cache.digest(data)) is None


def test_the_settings_and_droplint_code_are_part_of_the_key(tmp_path, monkeypatch):
    data = b"x = 1\n"
    c = _open(tmp_path)
    c.put("a.py", cache.digest(data), [], [], [])
    c.save()
    assert _open(tmp_path).get("a.py", cache.digest(data)) == ([], [], [])
    for other in (Settings(keras_version="2"), Settings(keras_version="3", ignore=("DL101",)),
                  Settings(keras_version="3", per_file_ignores={"*.py": ("DL1",)})):
        assert _open(tmp_path, other).get("a.py", cache.digest(data)) is None
    # a developer's edit of droplint's own source starts a new index
    fake = tmp_path / "fake_rule.py"
    fake.write_text("A = 1\n")
    monkeypatch.setattr(cache, "_source_files", lambda: [fake])
    before = cache.code_fingerprint()
    fake.write_text("A = 2\n")
    assert cache.code_fingerprint() != before


def test_the_fingerprint_covers_the_rules():
    names = {p.name for p in cache._source_files()}
    assert "dl101_dropout_on_sequence_input.py" in names
    assert {"pipeline.py", "prefilter.py", "report.py"} <= names


def test_the_folder_is_marked(tmp_path):
    _open(tmp_path / "c")
    assert (tmp_path / "c" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (tmp_path / "c" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28")


@pytest.mark.parametrize("content", [
    b"", b"{", b"\x00\xff garbage", b"[]", b'{"format": "v1", "files": []}',
    b'{"format": "v0", "files": {}}',
    b'{"format": "v1", "files": {"a.py": ["DIGEST", 1]}}',
    b'{"format": "v1", "files": {"a.py": [1, 2, 3]}}',
])
def test_a_corrupt_index_is_a_miss(tmp_path, content):
    data = b"x = 1\n"
    c = _open(tmp_path)
    c.put("a.py", cache.digest(data), [], [], [])
    c.save()
    c.file.write_bytes(content)
    again = _open(tmp_path)
    assert again.get("a.py", cache.digest(data)) is None
    again.put("a.py", cache.digest(data), [], [], [])
    again.save()  # and it is rewritten as a valid index
    assert _open(tmp_path).get("a.py", cache.digest(data)) == ([], [], [])


def test_a_corrupt_entry_is_a_miss(tmp_path):
    data = b"x = 1\n"
    c = _open(tmp_path)
    key = cache.digest(data)
    index = {"format": "v1", "files": {
        "a.py": [key, cache._today(), [[["DL101"]], [], []]],  # a finding of the wrong shape
        "b.py": [key, cache._today(), [[], [], [3]]],
        "c.py": [key, cache._today(), "not a result"],
        "d.py": [key, cache._today(), [[["DL101", "n", "nonsense-severity", "a.py", 1, 1, 1, 2,
                                          "m", None, None, None, None, None]], [], []]],
    }}
    c.file.write_text(json.dumps(index))
    again = _open(tmp_path)
    for path in ("a.py", "b.py", "c.py", "d.py"):
        assert again.get(path, key) is None


def test_a_truncated_index_written_by_a_killed_run_is_a_miss(tmp_path):
    path = EXAMPLES[0]
    data = path.read_bytes()
    result = _fresh(str(path), data)
    c = _open(tmp_path)
    c.put(str(path), cache.digest(data), result.findings, result.sites, result.notes)
    c.save()
    whole = c.file.read_bytes()
    for cut in (1, len(whole) // 3, len(whole) - 2):
        c.file.write_bytes(whole[:cut])
        assert _open(tmp_path).get(str(path), cache.digest(data)) is None


def test_an_unusable_folder_means_no_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cache.Cache.open(blocker / "cache", SETTINGS) is None
    c = _open(tmp_path / "ok")
    c.put("a.py", "d", [], [], [])
    (tmp_path / "ok" / cache.FORMAT).rename(tmp_path / "moved")
    blocker2 = tmp_path / "ok" / cache.FORMAT
    blocker2.write_text("")  # the index folder is now a file: saving fails quietly
    c.save()


def test_two_runs_sharing_an_index_keep_both_entries(tmp_path):
    a, b = _open(tmp_path), _open(tmp_path)
    a.put("a.py", "1", [], [], [])
    b.put("b.py", "2", [], [], [])
    a.save()
    time.sleep(0.01)
    b.save()
    both = _open(tmp_path)
    assert both.get("a.py", "1") == ([], [], []) and both.get("b.py", "2") == ([], [], [])


def _writer(folder: str, n: int) -> None:
    for i in range(20):
        c = cache.Cache.open(folder, SETTINGS)
        c.put(f"w{n}_{i}.py", "d", [], [], [])
        c.save()


def test_concurrent_writers_never_leave_a_broken_index(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), n)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    c = _open(tmp_path)
    raw = json.loads(c.file.read_bytes())
    assert raw["format"] == "v1" and len(raw["files"]) >= 20  # the last writer's at least
    assert not [p for p in c.file.parent.iterdir() if p.name.startswith(".tmp-")]


def test_old_entries_and_indexes_are_pruned(tmp_path, monkeypatch):
    c = _open(tmp_path)
    c.put("old.py", "d", [], [], [])
    c.put("new.py", "d", [], [], [])
    c.entries["old.py"][1] = cache._today() - cache.MAX_AGE_DAYS - 1
    c.save()
    again = _open(tmp_path)
    assert again.get("old.py", "d") is None and again.get("new.py", "d") == ([], [], [])
    # index files: unused for 30 days, or beyond the newest MAX_INDEXES
    monkeypatch.setattr(cache, "MAX_INDEXES", 3)
    folder = c.file.parent
    stale = folder / "stale.json"
    stale.write_text("{}")
    month = time.time() - 31 * 86400
    os.utime(stale, (month, month))
    for i in range(5):
        (folder / f"other{i}.json").write_text("{}")
        os.utime(folder / f"other{i}.json", (time.time() - 100 + i, time.time() - 100 + i))
    leftover = folder / ".tmp-crashed"
    leftover.write_text("partial")
    os.utime(leftover, (month, month))
    again.put("x.py", "d", [], [], [])
    again.save()
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([c.file.name, "other3.json", "other4.json"])


def test_entries_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 5)
    c = _open(tmp_path)
    for i in range(8):
        c.put(f"{i}.py", "d", [], [], [])
        c.entries[f"{i}.py"][1] = cache._today() - 8 + i
    c.save()
    assert sorted(_open(tmp_path).entries) == [f"{i}.py" for i in range(3, 8)]


# --- the command line ---------------------------------------------------------------------------

def _droplint(*args: str, cwd: Path, code: str = "") -> subprocess.CompletedProcess:
    """`droplint ARGS` in a fresh process; with `code`, run that after main() instead of
    exiting (to look at sys.modules)."""
    prog = ("import sys\nfrom droplint.cli import cli\n"
            f"rv = cli.main(args={list(args)!r}, prog_name='droplint', standalone_mode=False)\n"
            f"{code}\nsys.exit(rv)\n")
    return subprocess.run([sys.executable, "-c", prog], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def _project(tmp_path: Path, table: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.droplint]\n{table}")
    (tmp_path / "pkg").mkdir()
    for p in EXAMPLES:
        (tmp_path / "pkg" / p.name).write_bytes(p.read_bytes())
    (tmp_path / "pkg" / "plain.py").write_text('"""Dropout(0.5), in a docstring."""\n')
    return tmp_path


def test_a_warm_run_reports_the_same_and_parses_nothing(tmp_path):
    root = _project(tmp_path)
    args = ("check", "--format", "json", "--keras-version", "3", "pkg")
    cold = _droplint(*args, cwd=root, code="print('LIBCST', 'libcst' in sys.modules, "
                                             "file=sys.stderr)")
    assert "LIBCST True" in cold.stderr
    assert (root / ".droplint_cache" / ".gitignore").is_file()  # the project root's
    warm = _droplint(*args, cwd=root, code="print('LIBCST', 'libcst' in sys.modules, "
                                             "file=sys.stderr)")
    assert "LIBCST False" in warm.stderr
    assert warm.returncode == cold.returncode == 1
    assert json.loads(warm.stdout) == json.loads(cold.stdout)
    assert json.loads(warm.stdout)["findings"]
    # explain works from cached sites too
    explained = [_droplint("explain", "--keras-version", "3", "pkg", cwd=root).stdout
                 for _ in range(2)]
    assert explained[0] == explained[1] and "mask" in explained[0]


def test_an_edited_file_is_checked_again(tmp_path):
    root = _project(tmp_path)
    args = ("check", "--format", "json", "--keras-version", "3", "pkg/question_forecaster.py")
    before = json.loads(_droplint(*args, cwd=root).stdout)
    target = root / "pkg" / "question_forecaster.py"
    target.write_text(target.read_text().replace("CuDNNLSTM(10", "LSTM(10"))
    after = json.loads(_droplint(*args, cwd=root).stdout)
    fresh = json.loads(_droplint(*args, "--no-cache", cwd=root).stdout)
    assert after == fresh and after != before
    lines = {f["line"] for f in before["findings"] if f["code"] == "DL303"}
    assert 10 in lines and 10 not in {f["line"] for f in after["findings"]
                                      if f["code"] == "DL303"}
    # a settings change is a different key: --ignore is honoured on the warm run
    ignored = json.loads(_droplint(*args, "--ignore", "DL101", cwd=root).stdout)
    assert "DL101" not in {f["code"] for f in ignored["findings"]}


def test_no_cache_and_cache_dir(tmp_path):
    root = _project(tmp_path)
    _droplint("check", "--no-cache", "pkg", cwd=root)
    assert not (root / ".droplint_cache").exists()
    _droplint("check", "--cache-dir", "elsewhere", "pkg", cwd=root)
    assert not (root / ".droplint_cache").exists()
    assert list((root / "elsewhere" / cache.FORMAT).glob("*.json"))


def test_cache_dir_in_the_config_is_relative_to_it(tmp_path):
    root = _project(tmp_path, 'cache-dir = "build/lint-cache"\n')
    sub = root / "pkg"
    _droplint("check", ".", cwd=sub)
    assert list((root / "build" / "lint-cache" / cache.FORMAT).glob("*.json"))
    (root / "pyproject.toml").write_text("[tool.droplint]\ncache-dir = 3\n")
    bad = _droplint("check", ".", cwd=sub)
    assert bad.returncode == 2 and "cache-dir must be a folder path" in bad.stderr


def test_an_unwritable_cache_folder_is_no_error(tmp_path):
    root = _project(tmp_path)
    (root / "blocker").write_text("")
    result = _droplint("check", "--format", "json", "--cache-dir", "blocker/cache", "pkg",
                       cwd=root)
    assert result.returncode == 1 and json.loads(result.stdout)["findings"]
    assert not result.stderr.strip()


def test_a_corrupt_cache_is_no_error(tmp_path):
    root = _project(tmp_path)
    args = ("check", "--format", "json", "--keras-version", "3", "pkg")
    first = _droplint(*args, cwd=root)
    for index in (root / ".droplint_cache" / cache.FORMAT).glob("*.json"):
        index.write_bytes(index.read_bytes()[:100])
    second = _droplint(*args, cwd=root)
    assert json.loads(second.stdout) == json.loads(first.stdout) and not second.stderr.strip()


def test_fix_rechecks_the_fixed_bytes(tmp_path):
    root = _project(tmp_path)
    target = "pkg/question_forecaster.py"
    _droplint("check", "--keras-version", "3", target, cwd=root)  # warm the cache
    _droplint("check", "--keras-version", "3", "--fix", target, cwd=root)
    after = json.loads(_droplint("check", "--format", "json", "--keras-version", "3", target,
                                 cwd=root).stdout)
    fresh = json.loads(_droplint("check", "--format", "json", "--keras-version", "3",
                                 "--no-cache", target, cwd=root).stdout)
    assert after == fresh
    assert "DL303" not in {f["code"] for f in after["findings"]}  # the safe fix was applied


def test_a_timed_out_file_is_not_cached(tmp_path):
    root = _project(tmp_path)
    for i in range(20):  # enough files for worker processes (the per-file timeout is there)
        (root / "pkg" / f"copy{i}.py").write_bytes(EXAMPLES[1].read_bytes())
    args = ("check", "--format", "json", "--keras-version", "3", "pkg")
    timed_out = json.loads(_droplint(*args, "--file-timeout", "0.001", cwd=root).stdout)
    assert any("timeout" in f["message"] or "time" in f["message"]
               for f in timed_out["findings"] if f["code"] == "DL900")
    normal = json.loads(_droplint(*args, cwd=root).stdout)
    fresh = json.loads(_droplint(*args, "--no-cache", cwd=root).stdout)
    assert normal == fresh and "DL900" not in {f["code"] for f in normal["findings"]}


def test_budgets_are_part_of_the_key():
    assert cache.settings_key(Settings(max_nodes=10)) != cache.settings_key(Settings())


def test_a_file_with_nothing_relevant_imports_no_parser_and_json_no_rich(tmp_path):
    (tmp_path / "plain.py").write_text('import keras\n"""Dropout(0.5) in a docstring."""\n'
                                       "x = keras.layers.Dense(3)\n")
    probe = ("print('MODULES', 'libcst' in sys.modules, 'rich' in sys.modules, "
             "'tensorflow' in sys.modules, file=sys.stderr)")
    run = _droplint("check", "--no-cache", "--format", "json", "plain.py", cwd=tmp_path,
                    code=probe)
    assert "MODULES False False False" in run.stderr
    assert json.loads(run.stdout)["findings"] == []


def test_the_keras_version_is_read_as_importlib_metadata_reads_it():
    """keras_version reads dist-info folders itself (importlib.metadata costs ~20 ms of
    imports a run): the same answer for every installed distribution and a few absent ones."""
    from importlib import metadata

    from droplint import keras_version

    names = {d.metadata["Name"] for d in metadata.distributions()} - {None}
    names |= {"keras", "Keras", "tf-keras", "tf_keras", "tf.keras", "tensorflow-cpu",
              "no-such-distribution"}
    for name in sorted(names):
        try:
            expected = metadata.version(name)
        except metadata.PackageNotFoundError:
            expected = None
        got = keras_version._scan_version(name)
        assert got is keras_version._UNSURE or got == expected, name
    assert keras_version._scan_version("keras") == metadata.version("keras")
    assert keras_version._scan_version("no-such-distribution") is None


def test_checking_a_model_file_imports_only_what_it_needs(tmp_path):
    """One source file with findings: no importlib.metadata (the Keras version is read from
    the dist-info folder), no built-model loader, no Keras or TensorFlow."""
    (tmp_path / "model.py").write_bytes((ROOT / "examples" / "question_forecaster.py")
                                        .read_bytes())
    probe = ("print('MODULES', *(name in sys.modules for name in ('importlib.metadata', "
             "'email', 'droplint.loaders.model', 'keras', 'tensorflow')), file=sys.stderr)")
    run = _droplint("check", "--no-cache", "--format", "json", "model.py", cwd=tmp_path,
                    code=probe)
    assert "MODULES False False False False False" in run.stderr
    assert json.loads(run.stdout)["findings"]
