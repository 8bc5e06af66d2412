"""The command line, end to end on small model sources: click's CliRunner for most cases, and a
few real subprocesses (`python -m droplint`, the `droplint` console script)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from droplint.rules import ALL_RULES

from droplint import __version__
from droplint.cli import cli

# Plain Dropout on a (None, 30, 8) sequence feeding an LSTM: DL101 (info), line 4.
INFO_SRC = """\
from keras import layers, models

inputs = layers.Input(shape=(30, 8))
x = layers.Dropout(0.3)(inputs)
x = layers.LSTM(10)(x)
outputs = layers.Dense(1)(x)
model = models.Model(inputs, outputs)
"""
# noise_shape with 1 in the batch axis: DL201 (warning), line 4.
WARNING_SRC = """\
from keras import layers, models

inputs = layers.Input(shape=(30, 8))
x = layers.Dropout(0.3, noise_shape=(1, 30, 8))(inputs)
x = layers.LSTM(10)(x)
outputs = layers.Dense(1)(x)
model = models.Model(inputs, outputs)
"""
# rate 1.0 drops everything: DL404 (error), line 3.
ERROR_SRC = """\
from keras import layers

layer = layers.Dropout(1.0)
"""
SUPPRESSED_SRC = """\
from keras import layers

a = layers.Dropout(1.0)  # noqa: DL404
b = layers.Dropout(1.0)  # droplint: ignore[dropout-rate-out-of-range]
c = layers.Dropout(1.0)  # noqa
d = layers.Dropout(1.0)  # noqa: DL101
e = layers.Dropout(1.0)  # droplint: ignore[DL101]
f = layers.Dropout(1.0)
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A temporary folder as the working directory, with a helper to write files."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)

    def write(name: str, text: str | bytes) -> str:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text)
        return name

    write.root = tmp_path
    return write


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def codes(result) -> list[tuple[str, int, str]]:
    """(path, line, code) of each finding of a `--format json` run."""
    data = json.loads(result.stdout)
    return [(f["path"], f["line"], f["code"]) for f in data["findings"]]


def one_error_line(result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("droplint: error: ")
    assert "Traceback" not in result.output
    return lines[0]


# ------------------------------------------------------------------------------ exit status

def test_default_command_is_check_and_output_is_ruff_like(project):
    project("m.py", INFO_SRC)
    plain = run("m.py", "--fail-on", "info")
    explicit = run("check", "m.py", "--fail-on", "info")
    assert plain.exit_code == explicit.exit_code == 1
    assert plain.stdout == explicit.stdout
    out = plain.stdout.splitlines()
    assert out[0] == "m.py:4:5: DL101 [info] dropout-on-sequence-input"
    assert "4 | x = layers.Dropout(0.3)(inputs)" in out
    assert any(line.lstrip(" |").startswith("^^^") and line.endswith("DL101") for line in out)
    assert any(line.startswith("  = help: ") and "SpatialDropout1D" in line for line in out)
    assert out[-1].startswith("Found 1 finding (1 info) in 1 file")


def test_info_does_not_fail_by_default(project):
    project("m.py", INFO_SRC)
    result = run("m.py")
    assert result.exit_code == 0 and "DL101" in result.stdout


def test_fail_on_levels(project):
    project("warn.py", WARNING_SRC)
    assert run("warn.py", "--select", "DL201").exit_code == 1
    assert run("warn.py", "--select", "DL201", "--fail-on", "error").exit_code == 0
    assert run("warn.py", "--select", "DL201", "--fail-on", "info").exit_code == 1
    project("err.py", ERROR_SRC)
    assert run("err.py", "--fail-on", "error").exit_code == 1


def test_exit_zero(project):
    project("err.py", ERROR_SRC)
    result = run("err.py", "--exit-zero")
    assert result.exit_code == 0 and "DL404 [error]" in result.stdout


def test_clean_file_passes(project):
    project("ok.py", "from keras import layers\nx = layers.SpatialDropout1D(0.2)\n")
    project("notes.txt", "Dropout")
    result = run(".")
    assert result.exit_code == 0
    assert result.stdout.strip().startswith("All checks passed! (1 file,")


# ------------------------------------------------------------------------------ selection

def test_select_and_ignore_by_code_name_and_prefix(project):
    project("m.py", INFO_SRC)
    project("err.py", ERROR_SRC)
    base = ["--format", "json", "m.py", "err.py"]
    everything = {c for _, _, c in codes(run(*base))}
    assert {"DL101", "DL404"} <= everything
    assert {c for _, _, c in codes(run(*base, "--select", "DL404"))} == {"DL404"}
    assert {c for _, _, c in codes(run(*base, "--select", "dropout-rate-out-of-range"))} \
        == {"DL404"}
    assert {c for _, _, c in codes(run(*base, "--select", "DL1"))} == \
        {c for c in everything if c.startswith("DL1")}
    ignored = {c for _, _, c in codes(run(*base, "--ignore", "dropout-on-sequence-input"))}
    assert "DL101" not in ignored and "DL404" in ignored
    both = {c for _, _, c in codes(run(*base, "--ignore", "DL101,DL404"))}
    assert not both & {"DL101", "DL404"}
    repeated = {c for _, _, c in codes(run(*base, "--select", "DL101", "--select", "DL404"))}
    assert repeated == {"DL101", "DL404"}


def test_unknown_selector_is_a_usage_error(project):
    project("m.py", INFO_SRC)
    result = run("m.py", "--select", "DL999")
    assert result.exit_code == 2
    assert "DL999" in one_error_line(result)
    result = run("m.py", "--ignore", "no-such-rule")
    assert result.exit_code == 2 and "no-such-rule" in one_error_line(result)


# ------------------------------------------------------------------------------ configuration

PYPROJECT = """\
[tool.droplint]
select = ["DL1", "DL4"]
ignore = ["DL404"]
keras-version = "2"
exclude = ["generated"]

[tool.droplint.per-file-ignores]
"legacy/*.py" = ["dropout-on-sequence-input"]
"""


def test_config_select_ignore_per_file_ignores_keras_version(project):
    project("pyproject.toml", PYPROJECT)
    project("m.py", INFO_SRC)
    project("legacy/old.py", INFO_SRC)
    project("err.py", ERROR_SRC)
    project("warn.py", WARNING_SRC)
    result = run("--format", "json", ".")
    data = json.loads(result.stdout)
    found = [(f["path"], f["code"]) for f in data["findings"]]
    assert ("m.py", "DL101") in found
    assert not any(p.startswith("legacy") for p, _ in found)  # per-file-ignores
    assert not any(c in ("DL404", "DL201") for _, c in found)  # ignore / not selected
    assert data["keras"] == "2.21.0" and data["keras_source"] == "config"
    # command-line flags override the config
    over = json.loads(run("--format", "json", ".", "--keras-version", "3.8").stdout)
    assert over["keras"] == "3.8.0"
    selected = run("--format", "json", ".", "--select", "DL404")
    assert {c for _, _, c in codes(selected)} == {"DL404"}


def test_config_exclude_and_force_exclude(project):
    project("pyproject.toml", PYPROJECT)
    project("generated/gen.py", INFO_SRC)
    project("m.py", INFO_SRC)
    walked = {p for p, _, _ in codes(run("--format", "json", "."))}
    assert walked == {"m.py"}
    named = {p for p, _, _ in codes(run("--format", "json", "generated/gen.py"))}
    assert named == {"generated/gen.py"}  # an explicit path is checked...
    forced = run("--format", "json", "--force-exclude", "generated/gen.py", "m.py")
    assert {p for p, _, _ in codes(forced)} == {"m.py"}  # ...unless --force-exclude


def test_explicit_config_file(project):
    project("conf/pyproject.toml", '[tool.droplint]\nignore = ["DL101"]\n')
    project("m.py", INFO_SRC)
    assert "DL101" in run("m.py").stdout
    result = run("m.py", "--config", "conf/pyproject.toml", "--fail-on", "info")
    assert "DL101" not in result.stdout and result.exit_code == 0
    project("other/pyproject.toml", '[project]\nname = "x"\n')
    for path, needle in (("other/pyproject.toml", "no [tool.droplint] table"),
                         ("nowhere.toml", "config file not found")):
        result = run("m.py", "--config", path)
        assert result.exit_code == 2 and needle in one_error_line(result)


@pytest.mark.parametrize("toml, needle", [
    ('[tool.droplint]\nselekt = ["DL1"]\n', "selekt"),
    ('[tool.droplint]\nselect = ["DL999"]\n', "DL999"),
    ('[tool.droplint]\nkeras-version = "9"\n', "keras-version"),
    ('[tool.droplint]\nfail-on = "fatal"\n', "fail-on"),
    ('[tool.droplint\n', "pyproject.toml"),
    ('[tool.droplint]\nkeras-version = 3.10\n', "must be in quotes"),  # TOML: 3.1
    ('[tool.droplint]\nrespect-gitignore = "false"\n', "respect-gitignore"),
])
def test_bad_config_is_one_line_exit_2(project, toml, needle):
    project("pyproject.toml", toml)
    project("m.py", INFO_SRC)
    result = run("m.py")
    assert result.exit_code == 2
    assert needle in one_error_line(result)
    assert result.stdout == ""


# ------------------------------------------------------------------------------ suppressions

def test_suppression_comments(project):
    project("s.py", SUPPRESSED_SRC)
    lines = [line for _, line, code in codes(run("--format", "json", "s.py"))
             if code == "DL404"]
    assert lines == [6, 7, 8]  # the DL101 suppressions do not hide DL404
    project("m.py", INFO_SRC.replace("(inputs)\n", "(inputs)  # noqa: DL101\n", 1))
    assert "DL101" not in run("m.py").stdout
    project("n.py", INFO_SRC.replace(
        "(inputs)\n", "(inputs)  # droplint: ignore[dropout-on-sequence-input]\n", 1))
    assert "DL101" not in run("n.py").stdout


def test_file_level_noqa(project):
    project("f.py", "# droplint: noqa\n" + ERROR_SRC + "x = layers.Dropout(2.0)\n")
    result = run("f.py")
    assert result.exit_code == 0 and "All checks passed!" in result.stdout


# ------------------------------------------------------------------------------ bad input

def test_missing_path_is_exit_2_and_other_paths_are_checked(project):
    project("err.py", ERROR_SRC)
    result = run("err.py", "missing.py")
    assert result.exit_code == 2
    assert one_error_line(result) == "droplint: error: missing.py: No such file or directory"
    assert "err.py:3:9: DL404 [error]" in result.stdout
    data = json.loads(run("--format", "json", "err.py", "missing.py").stdout)
    assert data["errors"] == ["missing.py: No such file or directory"]
    assert [f["code"] for f in data["findings"]] == ["DL404"]


def test_symlink_loop_is_one_error_line_and_other_paths_are_checked(project):
    project("err.py", ERROR_SRC)
    os.symlink("loop_b.py", project.root / "loop_a.py")
    os.symlink("loop_a.py", project.root / "loop_b.py")
    first = run("loop_a.py", "err.py")  # the first path is also where the config is looked up
    assert first.exit_code == 2
    assert one_error_line(first) == "droplint: error: loop_a.py: broken symlink or symlink loop"
    assert "err.py:3:9: DL404 [error]" in first.stdout


def test_syntax_error_is_dl900_and_other_files_checked(project):
    project("bad.py", "from keras import layers\nx = layers.Dropout(0.3\ndef (:\n")
    project("err.py", ERROR_SRC)
    result = run("--format", "json", "bad.py", "err.py")
    assert result.exit_code == 1
    found = codes(result)
    assert found[0][0] == "bad.py" and found[0][2] == "DL900"
    assert ("err.py", 3, "DL404") in found
    assert "Traceback" not in result.output


def test_undecodable_file_is_dl900(project):
    project("latin.py", b"from keras import layers\nx = layers.Dropout(0.3)  # caf\xe9\n")
    result = run("latin.py")
    assert result.exit_code == 1
    assert "latin.py:1:1: DL900 [error] parse-error" in result.stdout
    assert "UTF-8" in result.stdout


def test_nesting_python_refuses_is_dl900_not_a_crash(cli, project):
    """5,000 nested brackets crash libcst's native parser (the process dies); Python refuses
    more than 200, so droplint reports what Python says, and checks the other files."""
    head = "from keras.layers import Dropout\nx = "
    project("deep.py", head + "[" * 5000 + "]" * 5000 + "\n")
    project("pairs.py", head + "[[], " * 3000 + "]" * 3000 + "\n")
    project("fine.py", head + "[" * 150 + "]" * 150 + "\n")
    project("err.py", ERROR_SRC)
    result = cli("--format", "concise", ".", cwd=project.root, env=NO_COLOR_ENV)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "deep.py:2:205: DL900 [error] SyntaxError: too many nested parentheses"
    assert lines[1].startswith("err.py:3:9: DL404 [error]")
    assert lines[2].startswith("pairs.py:1:1: DL900 [error] SyntaxError: too deeply nested")
    assert "fine.py" not in result.stdout


LATIN1_SRC = (b"# -*- coding: latin-1 -*-\n"
              b"from keras.layers import CuDNNLSTM, Dropout  # caf\xe9\n"
              b"a = Dropout(1.0)  # \xe9t\xe9\n"
              b"b = CuDNNLSTM(4)\n")


def test_coding_cookie_is_honoured_by_check_fix_and_add_noqa(project):
    """PEP 263: Python runs a latin-1 file with a coding line, so droplint reads it, shows it
    and writes it back in latin-1."""
    project("l.py", LATIN1_SRC)
    result = run("l.py")
    assert result.exit_code == 1 and "DL900" not in result.stdout
    assert "l.py:3:5: DL404 [error]" in result.stdout
    assert "3 | a = Dropout(1.0)  # \u00e9t\u00e9" in result.stdout  # the frame, decoded
    assert run("--fix", "l.py").exit_code == 1
    assert (project.root / "l.py").read_bytes() == LATIN1_SRC.replace(
        b"CuDNNLSTM", b"LSTM")
    assert run("--add-noqa", "l.py").exit_code == 0
    assert (project.root / "l.py").read_bytes().splitlines()[2] == \
        b"a = Dropout(1.0)  # \xe9t\xe9  # noqa: DL404"
    assert run("l.py").exit_code == 0
    project("u.py", b"# coding: no-such-codec\nfrom keras import layers\nx = layers.LSTM(3)\n")
    unknown = run("--format", "concise", "u.py")
    assert unknown.stdout.startswith("u.py:1:1: DL900 [error] cannot decode file: unknown encoding")


@pytest.mark.parametrize("args, needle", [
    (["--format", "xml", "."], "--format"),
    (["--fail-on", "fatal", "."], "--fail-on"),
    (["--keras-version", "7", "."], "keras-version"),
    (["--no-such-flag", "."], "--no-such-flag"),
    (["rule"], "CODE_OR_NAME"),
])
def test_usage_errors_are_one_line_exit_2(project, args, needle):
    result = run(*args)
    assert result.exit_code == 2
    assert needle in one_error_line(result)


def test_unexpected_exception_is_one_line_internal_error(project, monkeypatch):
    import droplint.api

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(droplint.api, "check_paths", broken)
    project("m.py", INFO_SRC)
    result = run("m.py")
    assert result.exit_code == 2
    assert one_error_line(result) == "droplint: error: internal error: RuntimeError: boom"


# ------------------------------------------------------------------------------ formats

def test_json_output_shape_and_deterministic_order(project):
    project("b.py", ERROR_SRC + INFO_SRC.replace("from keras import layers, models\n", ""))
    project("a.py", INFO_SRC)
    first = run("--format", "json", "b.py", "a.py")
    second = run("--format", "json", "a.py", "b.py")
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert set(data) >= {"droplint", "keras", "keras_source", "findings", "sites", "errors"}
    assert data["droplint"] == __version__
    assert data["findings"], "expected findings"
    finding_keys = {"code", "name", "severity", "path", "line", "column", "end_line",
                    "end_column", "layer", "site", "message", "fix"}
    site_keys = {"id", "path", "line", "column", "layer", "argument", "rate", "input_shape",
                 "mask_shape", "drops", "per_sample", "over_time", "masks"}
    assert all(finding_keys <= set(f) for f in data["findings"])
    assert all(site_keys <= set(s) for s in data["sites"])
    keys = [(f["path"], f["line"], f["column"], f["code"]) for f in data["findings"]]
    assert keys == sorted(keys)
    assert [s["id"] for s in data["sites"]] == list(range(len(data["sites"])))
    fix = next(f["fix"] for f in data["findings"] if f["code"] == "DL101")
    assert fix["applicability"] == "unsafe" and fix["edits"]
    assert set(fix["edits"][0]) == {"line", "column", "end_line", "end_column", "content"}


def test_concise_statistics_and_output_file(project):
    project("m.py", INFO_SRC)
    project("err.py", ERROR_SRC)
    concise = run("--format", "concise", "m.py", "err.py").stdout.splitlines()
    assert concise[0].startswith("err.py:3:9: DL404 [error] ")
    assert concise[1].startswith("m.py:4:5: DL101 [info] ")
    assert concise[-1].startswith("Found 2 findings (1 error, 1 info) in 2 files")
    stats = run("--statistics", "m.py", "err.py").stdout.splitlines()
    assert [line.split()[:3] for line in stats[:2]] == [["1", "DL101", "[info]"],
                                                        ["1", "DL404", "[error]"]]
    result = run("--format", "json", "-o", "out.json", "m.py", "err.py")
    assert result.exit_code == 1 and result.stdout == ""
    written = json.loads((project.root / "out.json").read_text())
    assert [f["code"] for f in written["findings"]] == ["DL404", "DL101"]


def test_color_only_when_wanted(project):
    project("err.py", ERROR_SRC)
    assert "\x1b[" not in run("err.py").stdout  # not a terminal
    forced = run("err.py", env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" in forced
    assert "\x1b[" not in run("err.py", "--no-color", env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" not in run("err.py", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout


# ------------------------------------------------------------------------------ explain

def test_explain_shows_site_facts_and_picture(project):
    project("m.py", INFO_SRC)
    result = run("explain", "m.py")
    assert result.exit_code == 0
    out = result.stdout
    assert "m.py:4:5: line 4 · site 0 · Dropout(0.3)" in out
    assert "input (None, 30, 8) -> mask (None, 30, 8)" in out
    assert "drops: elements" in out and "over time: fresh-each-step" in out
    grid = [line for line in out.splitlines() if "│" in line]
    assert len(grid) == 20 and all(set(line.split("│")[1]) <= {"█", "·"} for line in grid)
    assert "truncated: showing the first 20 of 30 timesteps" in out
    assert "findings: DL101" in out
    data = json.loads(run("explain", "--format", "json", "m.py").stdout)
    assert data["sites"][0]["drops"] == "elements"
    assert any("│" in line for line in data["sites"][0]["picture"])


def test_explain_stripes_for_keras3_lstm_dropout(project):
    project("r.py", "from keras import layers\n\ninputs = layers.Input(shape=(6, 5))\n"
                    "x = layers.LSTM(4, dropout=0.5)(inputs)\n")
    data = json.loads(run("explain", "--format", "json", "--keras-version", "3",
                          "r.py").stdout)
    site = next(s for s in data["sites"] if s["argument"] == "dropout")
    rows = [line.split("│")[1] for line in site["picture"] if "│" in line]
    assert len(rows) == 6 and len(set(rows)) == 1  # the same mask at every step


def test_explain_missing_path(project):
    project("m.py", INFO_SRC)
    result = run("explain", "m.py", "nope.py")
    assert result.exit_code == 2 and "nope.py" in one_error_line(result)
    assert "· site 0 ·" in result.stdout


def test_explain_reports_a_file_it_cannot_parse(project):
    project("m.py", INFO_SRC)
    project("bad.py", "from keras import layers\nx = layers.Dropout(0.3\n")
    for fmt in ("text", "json"):
        result = run("explain", "--format", fmt, "bad.py", "m.py")
        assert result.exit_code == 1
        assert one_error_line(result).startswith("droplint: error: bad.py:")
        assert " DL900 " in result.stderr
    assert "· site 0 ·" in run("explain", "bad.py", "m.py").stdout


# ------------------------------------------------------------------------------ rule / rules

def test_rule_by_code_and_name(project):
    by_code = run("rule", "DL101")
    by_name = run("rule", "dropout-on-sequence-input")
    assert by_code.exit_code == 0 and by_code.stdout == by_name.stdout
    assert by_code.stdout.startswith("# dropout-on-sequence-input (DL101)")
    assert "## What it does" in by_code.stdout
    unknown = run("rule", "DL999")
    assert unknown.exit_code == 2
    assert "droplint rules" in one_error_line(unknown)


def test_rules_lists_every_rule(project):
    text = run("rules").stdout.splitlines()
    assert text[0].split()[:4] == ["code", "name", "severity", "fix"]
    # each rule: `code  name  severity  fix`, then its summary indented under it
    assert [line.split()[0] for line in text[1:] if not line.startswith(" ")] == \
        [r.code for r in ALL_RULES]
    data = json.loads(run("rules", "--format", "json").stdout)
    assert [r["code"] for r in data] == [r.code for r in ALL_RULES]
    assert set(data[0]) == {"code", "name", "severity", "fix", "summary"}


def test_version(project):
    from droplint.keras_version import resolve

    result = run("--version")
    assert result.exit_code == 0
    assert f"droplint {__version__}" in result.stdout
    assert f"Keras {resolve('auto')}" in result.stdout


# ------------------------------------------------------------------------------ subprocesses

NO_COLOR_ENV = {"NO_COLOR": None, "FORCE_COLOR": None}  # for cli(env=): None removes it


def _sub(args: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in NO_COLOR_ENV}
    return subprocess.run(args, check=False, cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=120, **kw)


def test_python_dash_m_and_console_script(cli, project):
    project("m.py", INFO_SRC)
    project("err.py", ERROR_SRC)
    mod = cli("--format", "concise", "m.py", "err.py", "gone.py", cwd=project.root,
              env=NO_COLOR_ENV)
    assert mod.returncode == 2
    assert mod.stderr.strip() == "droplint: error: gone.py: No such file or directory"
    assert mod.stdout.splitlines()[0].startswith("err.py:3:9: DL404 [error]")
    script = shutil.which("droplint")
    assert script, "the droplint console script is not installed"
    ok = _sub([script, "check", "m.py"], project.root)
    assert ok.returncode == 0 and "DL101" in ok.stdout
    bad = _sub([script, "err.py"], project.root)
    assert bad.returncode == 1 and "DL404" in bad.stdout and bad.stderr == ""
    usage = _sub([script, "--fail-on", "nope", "m.py"], project.root)
    assert usage.returncode == 2 and len(usage.stderr.splitlines()) == 1


def test_python_dash_m_in_a_source_checkout_without_editable_install(project):
    """`pip install . && python -m droplint ...` in the clone's root: `droplint` is the source
    folder (the current directory comes first on sys.path) and its rules are in ../rules.
    `-S` leaves out the editable install's finder; the dependencies come from site-packages."""
    import site

    repo = Path(__file__).resolve().parent.parent
    for folder in ("droplint", "rules"):
        shutil.copytree(repo / folder, project.root / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    project("m.py", ERROR_SRC)
    code = (f"import sys; sys.path[1:1] = {site.getsitepackages()!r}; "
            "import runpy; runpy.run_module('droplint', run_name='__main__')")
    result = _sub([sys.executable, "-S", "-c", code, "--format", "concise", "m.py"],
                  project.root)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("m.py:3:9: DL404 [error]")


def test_checking_source_imports_neither_tensorflow_nor_keras(project):
    project("m.py", INFO_SRC)
    project("t.py", "import tensorflow as tf\nx = tf.keras.layers.Dropout(0.3)\n"
                    "y = tf.keras.layers.LSTM(3, dropout=0.2)\n")
    code = (
        "import sys\n"
        "from droplint.cli import cli\n"
        "rv = [cli.main(a, standalone_mode=False) for a in\n"
        "      (['check', 'm.py', 't.py'], ['explain', 'm.py', 't.py'])]\n"
        "heavy = sorted(m for m in sys.modules\n"
        "               if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras'))\n"
        "print('RV', rv, 'HEAVY', heavy)\n"
    )
    result = _sub([sys.executable, "-c", code], project.root)
    assert result.returncode == 0, result.stderr
    assert "RV [0, 0] HEAVY []" in result.stdout, result.stdout + result.stderr


def test_model_file_without_keras_is_a_clear_dl901(project):
    """Without Keras (the pre-commit environment) a named model file is DL901 saying what to
    install, not an internal error; the source files next to it are still checked. The
    subprocess stands for such an environment: Keras, tf_keras and h5py cannot be imported."""
    project("err.py", ERROR_SRC)
    project("m.h5", b"\x89HDF\r\n\x1a\n" + bytes(64))
    project("m.keras", b"PK\x05\x06" + bytes(18))
    code = (
        "import sys\n"
        "for name in ('keras', 'tf_keras', 'tensorflow', 'h5py'):\n"
        "    sys.modules[name] = None\n"
        "from droplint.cli import main\n"
        "main(['--format', 'concise', 'm.h5', 'm.keras', 'err.py'])\n"
    )
    result = _sub([sys.executable, "-c", code], project.root)
    assert result.returncode == 1 and result.stderr == "", result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("err.py:3:9: DL404 [error]")
    for i, name in ((1, "m.h5"), (2, "m.keras")):
        assert lines[i].startswith(f"{name}: DL901 [error] model files are loaded with Keras")
        assert "(pip install tensorflow)" in lines[i]


def test_bare_droplint_prints_help(project):
    result = run()
    assert result.exit_code == 0
    assert "Commands:" in result.stdout and "check" in result.stdout


def test_source_is_never_executed(cli, tmp_path):
    """Code with side effects at import, in a function and in a class body: checking,
    explaining and fixing read it, and none of it runs."""
    marker = tmp_path / "ran.txt"
    src = tmp_path / "side_effects.py"
    src.write_text(
        "import pathlib\n"
        "from keras import layers, models\n"
        f"pathlib.Path({str(marker)!r}).write_text('module')\n\n"
        "def build():\n"
        f"    pathlib.Path({str(marker)!r}).write_text('function')\n"
        "    return models.Sequential([layers.Input((30, 8)), layers.Dropout(0.3),\n"
        "                              layers.LSTM(4), layers.Dense(1)])\n\n"
        "class Model(models.Model):\n"
        f"    pathlib.Path({str(marker)!r}).write_text('class body')\n\n"
        "model = build()\n", encoding="utf-8")
    for args in (["check", str(src)], ["explain", str(src)],
                 ["check", "--fix", "--unsafe-fixes", str(src)]):
        run(*args)
        proc = cli(*args)
        assert proc.returncode in (0, 1), proc.stderr
    assert "SpatialDropout1D" in src.read_text(encoding="utf-8")  # the fix did run
    assert not marker.exists()


def test_a_keras_newer_than_droplint_knows_is_noted(tmp_path):
    src = tmp_path / "m.py"
    src.write_text(INFO_SRC, encoding="utf-8")
    newer = run("check", "--keras-version", "3.99", "--format", "json", str(src))
    notes = json.loads(newer.output)["notes"]
    assert notes == ["Keras 3.99.0 is newer than the newest Keras 3 droplint knows (3.15.1): "
                     "the explanations follow 3.15.1"]
    known = run("check", "--keras-version", "3.15", "--format", "json", str(src))
    assert json.loads(known.output)["notes"] == []


def test_noqa_inside_a_string_is_not_a_suppression(project):
    project("s.py", "from keras import layers\n"
                    "x = layers.Dropout(1.5), '# noqa: DL404'\n"
                    "DOC = \"\"\"\n# noqa: DL101\n# droplint: noqa\n\"\"\"\n")
    found = [(line, code) for _, line, code in codes(run("--format", "json", "s.py"))]
    assert found == [(2, "DL404")]  # not suppressed, and no DL910 for the strings
