"""--add-noqa: a comment on every line where a finding starts, where Python allows one and
suppress.py reads it; findings that cannot get one (a backslash continuation outside brackets,
a line that opens a multi-line string, a file whose encoding does not round-trip) are named on
stderr and the exit status says so, never silently skipped. Lone-CR files are fixed and get
their comments like any other."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from droplint.add_noqa import BACKSLASH, BRACKET_BACKSLASH, IN_STRING, OK, line_ends

KERAS = ("--keras-version", "3.15")
QUESTION = (Path(__file__).parents[1] / "examples" / "question_forecaster.py").read_text(
    encoding="utf-8")

# Dropout(1.5) is DL404 (error) wherever it is written.
AWKWARD = """\
import keras
from keras import layers
a = layers.Dropout(1.5) if True else \\
    None
b = layers.Dropout(1.5, name='''a
b''')
c = layers.Dropout(1.5)(keras.Input((3,)), \\
    training=None)
d = layers.Dropout(1.5)  # noqa: DL101
e = layers.Dropout(1.5)
"""


def droplint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "droplint", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def test_line_ends_tell_where_a_comment_can_go():
    ends = line_ends(AWKWARD)
    assert [ends.get(n) for n in range(1, 11)] == [
        OK, OK, BACKSLASH, OK, IN_STRING, OK, BRACKET_BACKSLASH, OK, OK, OK]
    assert line_ends("x = (1,\r    2)\ry = 3\r") == {1: OK, 2: OK, 3: OK}  # lone CRs are breaks
    assert line_ends("x = (\n") is None  # does not tokenize


def test_comments_go_where_suppression_reads_them_and_the_rest_is_reported(tmp_path: Path):
    path = tmp_path / "m.py"
    path.write_text(AWKWARD, encoding="utf-8")
    run = droplint("check", "--add-noqa", *KERAS, "m.py", cwd=tmp_path)
    assert run.stdout.strip() == "Added 3 noqa directives."
    assert run.stderr.strip() == (
        "droplint: warning: m.py: 2 findings could not get a noqa comment: line 3 (after a "
        "backslash continuation), line 5 (inside a string)")
    assert run.returncode == 1  # findings are left unsuppressed
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[6] == "c = layers.Dropout(1.5)(keras.Input((3,)),  # noqa: DL404"
    assert lines[8] == "d = layers.Dropout(1.5)  # noqa: DL101, DL404"
    assert lines[9] == "e = layers.Dropout(1.5)  # noqa: DL404"
    assert lines[2].endswith("\\") and lines[4].endswith("a")  # untouched
    left = droplint("check", "--format", "concise", *KERAS, "m.py", cwd=tmp_path)
    assert [line.split(": ")[0] for line in left.stdout.splitlines()
            if line.split()[1:2] == ["DL404"]] == ["m.py:3:5", "m.py:5:5"]  # exactly the two reported ones


def test_lone_cr_file_is_fixed_and_gets_noqa_comments(tmp_path: Path):
    data = QUESTION.replace("\n", "\r").encode("utf-8")
    fixed, noqa = tmp_path / "fixed.py", tmp_path / "noqa.py"
    fixed.write_bytes(data)
    noqa.write_bytes(data)
    check = droplint("check", *KERAS, "fixed.py", cwd=tmp_path)
    assert "1 fixable with --fix" in check.stdout, check.stdout
    run = droplint("check", "--fix", *KERAS, "fixed.py", cwd=tmp_path)
    assert "Fixed 1 finding in 1 file." in run.stdout + run.stderr
    after = fixed.read_bytes()
    assert b"\n" not in after and after.count(b"\r") == data.count(b"\r")
    assert b"\rx = LSTM(10, return_sequences=False)(x)\r" in after and b"CuDNN" not in after
    run = droplint("check", "--add-noqa", *KERAS, "noqa.py", cwd=tmp_path)
    assert run.stdout.strip() == "Added 2 noqa directives." and run.returncode == 0
    assert b"\n" not in noqa.read_bytes()
    assert droplint("check", "--fail-on", "info", *KERAS, "noqa.py",
                    cwd=tmp_path).returncode == 0


def test_unicode_escape_file_says_why_it_gets_no_comment(tmp_path: Path):
    data = b"# -*- coding: unicode_escape -*-\nfrom keras import layers\nd = layers.Dropout(1.5)\n"
    path = tmp_path / "esc.py"
    path.write_bytes(data)
    run = droplint("check", "--add-noqa", *KERAS, "esc.py", cwd=tmp_path)
    assert path.read_bytes() == data
    assert run.stdout.strip() == "Added 0 noqa directives." and run.returncode == 1
    assert "esc.py: 1 finding could not get a noqa comment: line 3 (the file's encoding " \
           "unicode_escape does not round-trip)" in run.stderr
