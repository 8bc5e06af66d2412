"""Hostile input (issue 10): one bad file costs only its own result, never a traceback, a
signal, a hang or gigabytes. Inputs are generated here, never checked in; the CLI runs in a
subprocess wherever a crash or a hang must be observed from outside."""
from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import droplint
from droplint import budgets, isolate
from droplint.config import ConfigError, Settings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HEAD = "from keras.layers import Dropout, LSTM, Input\ninp = Input((10, 4))\n"
SITE = "x = Dropout(0.2)(inp)\n"
RAISED = ["--max-depth", "1000000", "--max-nodes", "100000000"]  # let libcst see it all


def deep(kind: str, n: int) -> str:
    """An expression or statement nested n deep, of one kind."""
    return {
        "neg": "y = " + "-" * n + "1\n",
        "not": "y = " + "not " * n + "1\n",
        "ternary": "y = " + "1 if a else " * n + "2\n",
        "lambda": "y = " + "lambda: " * n + "1\n",
        "and": "y = " + " and ".join(["a"] * n) + "\n",
        "or": "y = " + " or ".join(["a"] * n) + "\n",
        "compare": "y = " + " < ".join(["a"] * n) + "\n",
        "power": "y = " + "**".join(["a"] * n) + "\n",
        "plus": "y = " + "+".join(["a"] * n) + "\n",
        "elif": "if a:\n    pass\n" + "elif a:\n    pass\n" * n,
        "calls": "y = z" + ".f()" * n + "\n",
        "subscripts": "y = z" + "[0]" * n + "\n",
        "attributes": "y = z" + ".a" * n + "\n",
        "strings": "y = " + " ".join(["'a'"] * n) + "\n",
    }[kind]


def run_cli(*args, cwd=None, timeout=120, unprivileged=False):
    """droplint in a subprocess: (exit status, stdout, stderr). `unprivileged` as root: without
    the capabilities that let root read any file (so permissions apply as to a normal user)."""
    prefix = []
    if unprivileged and os.geteuid() == 0:
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    proc = subprocess.run([*prefix, sys.executable, "-m", "droplint", "--no-cache", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def assert_clean(rc: int, err: str) -> None:
    """No signal, no traceback, no internal error line."""
    assert rc in (0, 1, 2), rc
    assert "Traceback" not in err
    assert "internal error" not in err, err


# --- 1. budgets: the pre-check refuses what would crash or hang libcst -----------------------

KINDS = ["neg", "not", "ternary", "lambda", "and", "or", "compare", "power", "plus", "elif",
         "calls", "subscripts", "attributes", "strings"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_deep_nesting_is_refused_before_libcst(kind):
    for n in (1_000, 10_000, 100_000):
        verdict = budgets.precheck(HEAD + deep(kind, n) + SITE)
        assert verdict.reason, (kind, n)
        assert "not analyzed" in verdict.reason or "SyntaxError" in verdict.reason


@pytest.mark.parametrize("kind", KINDS)
def test_shallow_nesting_of_every_kind_is_within_budget(kind):
    verdict = budgets.precheck(HEAD + deep(kind, 20) + SITE)
    assert verdict.reason is None and not verdict.risky


def test_real_sources_are_far_below_every_budget():
    for path in sorted(EXAMPLES.glob("*.py")):
        verdict = budgets.precheck(path.read_text())
        assert verdict.reason is None and not verdict.risky, path
        assert verdict.shape.depth < budgets.MAX_DEPTH // 8
        assert verdict.shape.weight < budgets.MAX_NODES // 20


def test_a_huge_literal_is_over_the_node_budget():
    verdict = budgets.precheck("x = [" + "1," * 200_000 + "]\n")
    assert verdict.reason.startswith("not analyzed: ") and "max-nodes" in verdict.reason


def test_size_reason_names_size_limit_and_setting():
    assert budgets.size_reason(1000, 1.0) is None
    reason = budgets.size_reason(3 * budgets.MB, 1.0)
    assert reason.startswith("not analyzed: 3.0 MB > limit of 1 MB") and "max-file-size" in reason


def test_max_file_size_on_the_command_line(tmp_path):
    (tmp_path / "big.py").write_text(HEAD + SITE + "# padding\n" * 3000)
    (tmp_path / "big_unrelated.py").write_text("x = 1\n" * 10000)
    rc, out, err = run_cli("--format", "concise", "--max-file-size", "0.01", ".", cwd=tmp_path)
    assert_clean(rc, err)
    assert "big.py:1:1: DL900" in out and "not analyzed: 29 KB > limit of 0.01 MB" in out
    assert "big_unrelated" not in out  # cannot hold a finding: skipped, as before
    rc, out, err = run_cli("--format", "concise", "--max-file-size", "1", ".", cwd=tmp_path)
    assert "DL900" not in out and rc == 0


def test_budget_settings_from_pyproject_and_their_validation(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.droplint]\nmax-depth = 10\n")
    (tmp_path / "m.py").write_text(HEAD + "y = " + "-" * 30 + "1\n" + SITE)
    rc, out, err = run_cli("--format", "concise", "m.py", cwd=tmp_path)
    assert rc == 1 and "over the limit of 10 (raise max-depth" in out
    (tmp_path / "pyproject.toml").write_text("[tool.droplint]\nmax-depth = -3\n")
    rc, out, err = run_cli("m.py", cwd=tmp_path)
    assert rc == 2 and err.count("\n") == 1 and "max-depth must be a positive" in err
    (tmp_path / "pyproject.toml").write_text("[tool.droplint]\n")
    rc, out, err = run_cli("--file-timeout", "0", "m.py", cwd=tmp_path)
    assert rc == 2 and "--file-timeout" in err


# --- 2. caps in the value evaluator ---------------------------------------------------------

EXPENSIVE = {
    "sum": "n = sum(range(10**15))\n",
    "max": "n = max(range(10**15))\n",
    "squaring": "n = 3\n" + "n = n * n\n" * 40,
    "power": "n = 7 ** 10 ** 6\n",
    "doubling": "s = 'ab'\n" + "s = s + s\n" * 40,
    "repetition": "t = (1, 2)\n" + "t = t * 60\n" * 10,
    "enumerate": "e = enumerate(range(10**10))\n",
    "list": "e = list(range(10**12))\n",
    "extend": "l = [1]\n" + "l.extend(l)\n" * 40,
    "nested": "t = (1,) * 64\n" + "t = (t, t, t, t)\n" * 20 + "u = Dropout(t)\n",
    "str": "s = str(10 ** 5000)\n",
    "int": "n = int('9' * 4400)\n",
}


def _site_count(code: str) -> int:
    return len(droplint.analyze_source(code).sites)


@pytest.mark.parametrize("name", sorted(EXPENSIVE))
def test_values_over_the_caps_are_unknown_never_computed(name):
    code = HEAD + EXPENSIVE[name] + SITE
    outcome = isolate.run_isolated(_site_count, code, timeout=30, memory_mb=1024)
    assert outcome == 1, outcome  # not a Failure (time-out, out of memory): analyzed


def test_huge_integer_rates_and_sizes_do_not_crash():
    big = "1" + "0" * 309
    code = (HEAD + f"a = Dropout({big})(inp)\nb = LSTM(4, dropout=10**400)(inp)\n"
            f"c = LSTM(1{'0' * 5000}, dropout=0.2)(inp)\nd = Dropout(0.2)(LSTM(10**4000)(inp))\n")
    report = droplint.analyze_source(code)
    assert len(report.sites) >= 3
    assert not [f for f in report.findings if f.code == "DL900"]


# --- 3. the crash boundary ------------------------------------------------------------------

def _crash(item, *_):
    kind, value = item
    if kind == "segv":
        ctypes.string_at(0)
    if kind == "sleep":
        time.sleep(value)
    if kind == "memory":
        return len(bytearray(value << 20))
    if kind == "exit":
        sys.exit(value)
    if kind == "exit_now":
        os._exit(value)
    return value


def test_pool_keeps_every_other_result_when_workers_die_or_hang():
    items = [("ok", 1), ("segv", 0), ("ok", 2), ("sleep", 30), ("memory", 8000),
             ("exit", 3), ("exit_now", 4), *[("ok", i) for i in range(10, 20)]]
    results = isolate.Pool(_crash, (), jobs=2, timeout=2, memory_mb=1024).map(items)
    kinds = [r.kind if isinstance(r, isolate.Failure) else r for r in results]
    assert kinds == [1, "crash", 2, "timeout", "memory", "exit", "exit", *range(10, 20)]
    assert "SIGSEGV" in results[1].message


def test_guarded_catches_what_python_can():
    assert isolate.guarded(_crash, ("exit", 5)).kind == "exit"
    assert isolate.guarded(_crash, ("ok", 7)) == 7
    assert isolate.run_isolated(_crash, ("segv", 0)).kind == "crash"


def _segfaulting_source() -> str:
    return HEAD + SITE + deep("and", 20_000)


def test_native_crash_among_many_files_costs_only_that_file(tmp_path):
    for i in range(17):
        (tmp_path / f"ok{i:02}.py").write_text((EXAMPLES / "question_forecaster.py").read_text())
    (tmp_path / "crash.py").write_text(_segfaulting_source())
    rc, out, err = run_cli("--format", "concise", *RAISED, ".", cwd=tmp_path)
    assert_clean(rc, err)
    assert rc == 1
    assert "crash.py:1:1: DL900 [error] internal error: the analysis ended with SIGSEGV" in out
    assert sum(f"ok{i:02}.py:10:5: DL303" in out for i in range(17)) == 17
    # serially (fewer than 16 files): the same
    rc, out, err = run_cli("--format", "concise", *RAISED, "crash.py", "ok00.py", cwd=tmp_path)
    assert_clean(rc, err)
    assert "crash.py:1:1: DL900" in out and "ok00.py:10:5: DL303" in out
    # with the default budgets the pre-check refuses it before any crash
    rc, out, err = run_cli("--format", "concise", "crash.py", cwd=tmp_path)
    assert rc == 1 and "not analyzed: nested" in out


def test_the_python_api_survives_a_native_crash():
    settings = Settings(max_depth=10**6, max_nodes=10**8)
    report = droplint.analyze_source(_segfaulting_source(), "crash.py", settings=settings)
    assert [f.code for f in report.findings] == ["DL900"]
    assert "SIGSEGV" in report.findings[0].message


def test_a_file_over_the_time_budget_is_dl900_and_the_others_are_checked(tmp_path):
    for i in range(17):
        (tmp_path / f"ok{i:02}.py").write_text((EXAMPLES / "question_forecaster.py").read_text())
    (tmp_path / "slow.py").write_text(HEAD + SITE + deep("calls", 900) * 20)  # ~1 min
    rc, out, err = run_cli("--format", "concise", *RAISED, "--file-timeout", "5", ".",
                           cwd=tmp_path)
    assert_clean(rc, err)
    assert "slow.py:1:1: DL900 [error] not analyzed: took longer than the limit of 5 s" in out
    assert sum(f"ok{i:02}.py:10:5: DL303" in out for i in range(17)) == 17


# --- 4. decoding, notebooks, configuration, special files, permissions ----------------------

@pytest.mark.parametrize("codec", ["rot13", "hex", "base64", "zlib", "uu", "undefined",
                                   "punycode", "utf-16"])
def test_non_text_codecs_are_dl900_as_python_refuses_them(tmp_path, codec):
    path = tmp_path / "m.py"
    path.write_bytes(f"# -*- coding: {codec} -*-\n".encode() + (HEAD + SITE).encode())
    report = droplint.analyze(str(path))
    assert [f.code for f in report.findings] == ["DL900"]
    assert f"encoding problem: {codec}" in report.findings[0].message
    assert subprocess.run([sys.executable, str(path)], capture_output=True).returncode != 0


@pytest.mark.parametrize("codec", ["utf-16", "utf-32", "utf-16-be"])
def test_wide_unicode_sources_are_not_silently_passed(tmp_path, codec):
    path = tmp_path / "m.py"
    data = (HEAD + SITE).encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    report = droplint.analyze(str(path))
    assert [f.code for f in report.findings] == ["DL900"]
    assert "byte order mark" in report.findings[0].message


def test_a_text_codec_python_accepts_is_still_checked(tmp_path):
    path = tmp_path / "m.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\n" + (HEAD + SITE).encode())
    assert len(droplint.analyze(str(path)).sites) == 1


def test_odd_notebooks_are_findings_not_internal_errors(tmp_path):
    cell = {"cell_type": "code", "source": [HEAD, SITE], "metadata": {}, "outputs": [],
            "execution_count": None}
    (tmp_path / "list_metadata.ipynb").write_text(json.dumps(
        {"cells": [cell], "metadata": [], "nbformat": 4, "nbformat_minor": 5}))
    (tmp_path / "deep.ipynb").write_text(
        '{"cells": [], "metadata": ' + "[" * 5000 + "]" * 5000 + ', "x": "Dropout"}')
    (tmp_path / "odd_cells.ipynb").write_text(json.dumps(
        {"cells": [dict(cell, metadata=[1], source=5), 7], "nbformat": 4,
         "metadata": {"kernelspec": 5, "language_info": []}}))
    rc, out, err = run_cli("--format", "concise", ".", cwd=tmp_path)
    assert_clean(rc, err)
    assert rc == 1 and "deep.ipynb:1:1: DL900" in out and "odd_cells.ipynb:1:1: DL900" in out
    assert len(droplint.analyze(str(tmp_path / "list_metadata.ipynb")).sites) == 1


@pytest.mark.parametrize("content", ["tool = 5\n", "x = " + "[" * 3000 + "]" * 3000 + "\n",
                                     "[tool]\ndroplint = 5\n"])
def test_odd_pyproject_files_are_one_line(tmp_path, content):
    (tmp_path / "pyproject.toml").write_text(content)
    (tmp_path / "m.py").write_text(HEAD + SITE)
    rc, out, err = run_cli("--format", "concise", "m.py", cwd=tmp_path)
    assert_clean(rc, err)
    assert rc in (0, 1) or (rc == 2 and err.count("\n") == 1)


def test_settings_from_python_name_the_argument():
    assert Settings(select="DL101,DL2").select == ("DL101", "DL2")
    with pytest.raises(TypeError, match="select must be a list of strings"):
        Settings(select=5)
    with pytest.raises(ConfigError, match="max_nodes"):
        Settings(max_nodes=0)
    with pytest.raises(ValueError, match="select: unknown rule code or name 'nope'"):
        droplint.analyze_source("x = 1", settings=Settings(select=["nope"]))
    with pytest.raises(TypeError, match=r"analyze_source\(code=...\) expects Python source as "
                                        r"str, not bytes"):
        droplint.analyze_source(b"x = 1")
    one = droplint.analyze_source((EXAMPLES / "question_forecaster.py").read_text(),
                                  settings=Settings(select="DL101"))
    assert [f.code for f in one.findings] == ["DL101"]


def test_special_files_are_reported_never_opened(tmp_path):
    (tmp_path / "ok.py").write_text((EXAMPLES / "question_forecaster.py").read_text())
    os.mkfifo(tmp_path / "fifo.py")
    os.symlink("/dev/zero", tmp_path / "zero.py")
    rc, out, err = run_cli("--format", "concise", ".", cwd=tmp_path, timeout=60)
    assert rc == 2 and "ok.py:10:5: DL303" in out
    assert "fifo.py: not analyzed: a FIFO (named pipe), not a regular file" in err
    assert "zero.py: not analyzed: a character device, not a regular file" in err
    assert "Traceback" not in err
    rc, out, err = run_cli("--format", "concise", "fifo.py", "/dev/null", "ok.py",
                           cwd=tmp_path, timeout=60)
    assert rc == 2 and "ok.py:10:5: DL303" in out and err.count("not a regular file") == 2


def test_unreadable_files_and_folders_cost_only_themselves(tmp_path):
    tmp_path.chmod(0o755)
    (tmp_path / "ok.py").write_text((EXAMPLES / "question_forecaster.py").read_text())
    secret = tmp_path / "secret.py"
    secret.write_text(HEAD + SITE)
    secret.chmod(0)
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.py").write_text(HEAD + SITE)
    locked.chmod(0)
    (tmp_path / ".gitignore").write_text("*.tmp\n")
    (tmp_path / ".gitignore").chmod(0)
    try:
        rc, out, err = run_cli("--format", "concise", "secret.py", ".", cwd=tmp_path,
                               unprivileged=True)
    finally:
        locked.chmod(0o755)
    assert_clean(rc, err)
    assert rc == 2 and "ok.py:10:5: DL303" in out
    assert "secret.py:1:1: DL900 [error] cannot read file: Permission denied" in out
    assert "locked: cannot read folder: Permission denied" in err


def _notebook(code: str, output_bytes: int) -> str:
    cell = {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": code,
            "outputs": [{"output_type": "display_data", "metadata": {},
                         "data": {"image/png": "A" * output_bytes}}]}
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]})


def test_notebook_size_budget_counts_code_not_outputs(tmp_path):
    """A 2 MB notebook that is mostly a plot is analyzed (outputs get a larger allowance);
    its code cells, joined, are held to max-file-size like any source text."""
    code = ("from keras.layers import Input, Dropout, LSTM\n"
            "x = Dropout(0.3)(Input((30, 8)))\ny = LSTM(4)(x)\n")
    (tmp_path / "plots.ipynb").write_text(_notebook(code, 2_100_000))
    big_code = code + "".join(f"v{i} = {i}\n" for i in range(120_000))  # > 1 MB of code
    (tmp_path / "code.ipynb").write_text(_notebook(big_code, 10))
    rc, out, err = run_cli("check", "--format", "concise", "plots.ipynb", "code.ipynb",
                           cwd=tmp_path)
    assert_clean(rc, err)
    assert "plots.ipynb:cell 1:2:5: DL101" in out
    assert out.count("code.ipynb:cell 1:1:1: DL900") == 1 and "> limit of 1 MB" in out


def test_in_process_time_limit_and_the_hosts_signals_are_left_as_they_were():
    """The serial path and the API: a file past file-timeout in the main thread is a Failure
    (DL900), and the alarm handler and timer are restored; a host that uses alarms itself is
    not disturbed (then the budgets bound the work)."""
    import signal

    start = time.monotonic()
    outcome = isolate.guarded(time.sleep, 5, timeout=0.3)
    assert isinstance(outcome, isolate.Failure) and outcome.kind == "timeout"
    assert time.monotonic() - start < 3
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert isolate.guarded(sum, [1, 2], timeout=0.3) == 3

    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(1))
    try:
        assert isolate.guarded(time.sleep, 0.2, timeout=0.05) is None  # not limited
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0) and not fired
    finally:
        signal.signal(signal.SIGALRM, previous)
