"""Control characters from checked files never reach the terminal: code frames, messages,
paths, explain, concise and github output show them as visible characters instead."""
from __future__ import annotations

import pytest

from droplint.render.escape import safe_text
from droplint.render.explain import to_text
from droplint.render.sources import Sources
from droplint.render.text import render_full
from droplint.report import Finding, Report, Severity

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


# --- stderr lines, probe and model-file messages ---------------------------------------------

BEL = "\x07"
HOSTILE = f"\x1b]0;t{BEL}{C1}{BIDI}\x1b[2J"  # ESC, BEL, a C1 control, a bidi override


def assert_clean(text: str) -> None:
    for ch in ("\x1b", BEL, C1, BIDI):
        assert ch not in text, (ch, text)


def test_stderr_warning_and_error_lines_are_escaped(cli, tmp_path):
    import os

    fixable = tmp_path / f"ro{HOSTILE}.py"
    fixable.write_text("from keras.layers import CuDNNLSTM\nl = CuDNNLSTM(4)\n", encoding="utf-8")
    os.chmod(fixable, 0o444)
    fixed = cli("check", "--fix", "--keras-version", "3.15", fixable.name, cwd=tmp_path)
    assert "not fixed: read-only" in fixed.stderr and "ro␛]0;t␇" in fixed.stderr
    assert_clean(fixed.stdout + fixed.stderr)

    awkward = tmp_path / f"s{HOSTILE}.py"
    awkward.write_text("from keras import layers\nd = layers.Dropout(1.5, name='''a\nb''')\n",
                       encoding="utf-8")
    noqa = cli("check", "--add-noqa", "--keras-version", "3.15", awkward.name, cwd=tmp_path)
    assert "could not get a noqa comment: line 2 (inside a string)" in noqa.stderr
    assert_clean(noqa.stdout + noqa.stderr)

    broken = tmp_path / f"b{HOSTILE}.py"
    broken.write_text(f"from keras import layers\nx = layers.Dropout(0.2\ny = '{HOSTILE}\n",
                      encoding="utf-8")
    explained = cli("explain", broken.name, cwd=tmp_path)
    assert explained.stderr.startswith("droplint: error: b␛]0;t␇"), explained.stderr
    assert_clean(explained.stdout + explained.stderr)

    missing = cli("check", "--config", f"no{HOSTILE}.toml", "x.py", cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.startswith("droplint: error: ")
    assert_clean(missing.stderr)


def test_model_file_messages_and_probe_output_are_escaped(cli, tmp_path):
    import warnings
    import zipfile

    name = f"m{HOSTILE}.keras"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            archive.writestr("config.json", "{}")
            archive.writestr(f"w{HOSTILE}", "1")
            archive.writestr(f"w{HOSTILE}", "2")
    for args in (["check"], ["check", "--format", "json"], ["explain"], ["probe"]):
        proc = cli(*args, name, cwd=tmp_path)
        out = proc.stdout + proc.stderr
        assert "two members named 'w␛]0;t␇" in out, (args, out)
        assert_clean(out)
        assert proc.returncode == 1


def test_render_probe_escapes_notes_and_messages():
    from droplint.render.probe import render_probe
    from droplint.report import Report

    report = Report("3.15.1", "default", notes=[f"layer {HOSTILE} not probed"])
    text = render_probe(report).plain
    assert "layer ␛]0;t␇\ufffd\ufffd␛[2J not probed" in text
    assert_clean(text)


# --- carets stay under the flagged call when the line holds characters rich would drop -------

def _caret_under(out: str, needle: str) -> tuple[int, int]:
    """(column of `needle` in its frame row, column of the first caret below it)."""
    rows = out.splitlines()
    n = next(i for i, row in enumerate(rows) if needle in row and "|" in row)
    return rows[n].index(needle), rows[n + 1].index("^")


def test_carets_stay_aligned_after_bel_and_bs_in_the_flagged_line(cli, tmp_path):
    (tmp_path / "m.py").write_text(
        "from keras.layers import CuDNNLSTM, Input\n"
        "x = Input((30, 8))\n"
        f's = "{BEL}\b"; y = CuDNNLSTM(10)(x)\n', encoding="utf-8")
    proc = cli("check", "--no-cache", "m.py", cwd=tmp_path)
    assert "DL303" in proc.stdout, proc.stdout + proc.stderr
    assert '"␇␈"' in proc.stdout  # shown, one visible character each
    col, caret = _caret_under(proc.stdout, "CuDNNLSTM(10)")
    assert caret == col


class _GivenLines(Sources):
    """Sources whose lines are given as they are (a CR inside a line is kept, as a notebook
    cell or an editor buffer can hold it; reading a file splits lines at CR)."""

    def __init__(self, lines: list[str]):
        super().__init__()
        self.given = lines

    def lines(self, path, cell=None):
        return self.given


def test_render_full_and_explain_keep_columns_with_bel_bs_and_cr():
    line = f"s = '{BEL}\b\r'; y = CuDNNLSTM(10)(x)"
    col = line.index("CuDNNLSTM") + 1
    f = Finding("DL303", "cudnn-layer", Severity.WARNING, "m.py", 1, col, 1,
                col + len("CuDNNLSTM(10)"), f"CuDNNLSTM {BEL}\b here", layer="CuDNNLSTM")
    out = render_full(Report("3.0", "config", [f], [], [], 1), _GivenLines([line])).plain
    assert "'␇␈␍'" in out and "CuDNNLSTM ␇␈ here" in out
    col_shown, caret = _caret_under(out, "CuDNNLSTM(10)")
    assert caret == col_shown
    assert out.splitlines()[[i for i, r in enumerate(out.splitlines()) if "^" in r][0]] \
        .count("^") == len("CuDNNLSTM(10)")
    shown = to_text(f"  what is dropped: {BEL}\b\r|x").plain
    assert shown == "  what is dropped: ␇␈␍|x"  # same length as the line: columns kept
