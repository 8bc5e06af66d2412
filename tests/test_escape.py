"""Control characters from checked files never reach the terminal: code frames, messages,
paths, explain, concise and github output show them as visible characters instead."""
from __future__ import annotations

import pytest

from droplint.render.escape import safe_text

ESC_TITLE = "\x1b]0;pwned\x07"
ESC_CLEAR = "\x1b[2J"
BIDI = "\u202e"
C1 = "\x9b"  # CSI as one C1 character
DANGEROUS = ("\x1b", "\x9b", "\u202e", "\x7f")


def test_safe_text_replaces_each_control_by_one_visible_character():
    raw = f"a{ESC_CLEAR}b\tc{BIDI}d{C1}e\x7ff\r\ng"
    out = safe_text(raw)
    assert len(out) == len(raw)  # columns stay aligned under code frames
    assert out == "a␛[2Jb\tc\ufffdd\ufffde␡f␍\ng"
    assert safe_text("x\ny", keep_newlines=False) == "x␊y"


@pytest.fixture
def evil(tmp_path):
    name = f"evil{ESC_CLEAR}.py"
    # A real dropout site (explain lists it), a finding with a code frame, and a message that
    # quotes the layer's name from the source.
    (tmp_path / name).write_text(
        "from keras import layers\n"
        f"x = layers.Dropout(1.0, name='{ESC_TITLE}{C1}')  # {ESC_CLEAR} {BIDI}gnp.exe\n"
        "y = layers.Dropout(0.2)(layers.Input((30, 8)))\n", encoding="utf-8")
    return tmp_path, name


@pytest.mark.parametrize("args", [["check"], ["check", "--format", "concise"],
                                  ["check", "--format", "github"], ["explain"]])
def test_no_control_character_reaches_the_output(cli, evil, args):
    folder, name = evil
    proc = cli(*args, name, cwd=folder)
    out = proc.stdout + proc.stderr
    assert name.replace("\x1b", "␛") in out, out  # the path is shown, escaped
    for ch in DANGEROUS:
        assert ch not in out, (ch, out)
    if args == ["check"]:
        assert "# ␛[2J \ufffdgnp.exe" in out  # the code frame line, escaped
        assert proc.returncode == 1
