"""Jupyter notebooks, written with nbformat and checked by the real command line: the code cells
form one program, IPython syntax does not break parsing, positions are (cell, line), and fixes
rewrite only the changed cells' source."""
from __future__ import annotations

import difflib
import json
from pathlib import Path

import jsonschema
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from droplint import analyze

KERAS = ("--keras-version", "3.15")
SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


def make_notebook(model_cell: str = "x = Dropout(0.3)(inputs)\n"
                                    "x = LSTM(10)(x)\n"
                                    "model = keras.Model(inputs, Dense(1)(x))\n"
                                    "model.summary?") -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    nb.cells = [
        new_markdown_cell("# Forecaster\nDropout before an LSTM: what is dropped?"),
        new_code_cell("%matplotlib inline\nimport keras\n"
                      "from keras.layers import Input, Dropout, LSTM, Dense",
                      execution_count=1),
        new_code_cell("!echo 'GPU: none'\ninputs = Input(shape=(30, 8))", execution_count=2,
                      outputs=[new_output("stream", name="stdout", text="GPU: none — ünï\n")]),
        new_markdown_cell("The model:"),
        new_code_cell(model_cell, execution_count=3, metadata={"tags": ["model"]},
                      outputs=[new_output("execute_result", data={"text/plain": "42"},
                                          execution_count=3)]),
    ]
    return nb


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    path = tmp_path / "forecast.ipynb"
    nbformat.write(make_notebook(), path)
    return path


def python_of(nb: nbformat.NotebookNode) -> str:
    """The code cells without their IPython lines, to run here."""
    lines = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            lines += [line for line in cell.source.splitlines()
                      if not line.startswith(("%", "!")) and not line.endswith("?")]
    return "\n".join(lines) + "\n"


def test_findings_and_sites_are_located_by_cell_and_line(cli, notebook: Path):
    run = cli("check", "--format", "json", *KERAS, notebook.name, cwd=notebook.parent)
    report = json.loads(run.stdout)
    [finding] = report["findings"]
    assert (finding["code"], finding["cell"], finding["line"], finding["column"],
            finding["end_line"], finding["end_column"]) == ("DL101", 5, 1, 5, 1, 17)
    assert "(None, 30, 8)" in finding["message"]  # the shape came from cell 3
    assert finding["fix"]["edits"][0]["cell"] in (2, 5)
    [site] = report["sites"]
    assert (site["cell"], site["line"], site["column"]) == (5, 1, 5)

    text = cli("check", *KERAS, notebook.name, cwd=notebook.parent).stdout
    assert text.startswith("forecast.ipynb:cell 5:1:5: DL101 [info]")
    assert "1 | x = Dropout(0.3)(inputs)" in text


@pytest.mark.keras
def test_fix_rewrites_only_the_changed_sources(cli, notebook: Path):
    raw = json.loads(notebook.read_text(encoding="utf-8"))
    raw["cells"][1]["source"] = "".join(raw["cells"][1]["source"])  # one string, not lines
    notebook.write_text(json.dumps(raw, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    before_text = notebook.read_text(encoding="utf-8")
    before = nbformat.reads(before_text, 4)

    run = cli("check", "--fix", "--unsafe-fixes", "--show-fixes", *KERAS, notebook.name,
              cwd=notebook.parent)
    assert "1 × DL101 (dropout-on-sequence-input)" in run.stdout, run.stdout + run.stderr
    after_text = notebook.read_text(encoding="utf-8")
    after = nbformat.reads(after_text, 4)
    nbformat.validate(after)

    changed = [(line[0], line[2:].strip()) for line in
               difflib.ndiff(before_text.splitlines(), after_text.splitlines())
               if line[:1] in "+-"]
    assert changed == [
        ("-", '"source": "%matplotlib inline\\nimport keras\\nfrom keras.layers import Input, '
              'Dropout, LSTM, Dense"'),
        ("+", '"source": "%matplotlib inline\\nimport keras\\nfrom keras.layers import Input, '
              'SpatialDropout1D, LSTM, Dense"'),  # Dropout no longer used: import removed
        ("-", '"x = Dropout(0.3)(inputs)\\n",'),
        ("+", '"x = SpatialDropout1D(0.3)(inputs)\\n",'),
    ]
    assert "ünï" in after_text  # non-ASCII kept as written, like Jupyter
    assert after.metadata == before.metadata
    for old, new in zip(before.cells, after.cells):
        assert (old.cell_type, old.metadata, old.get("outputs"), old.get("execution_count")) \
            == (new.cell_type, new.metadata, new.get("outputs"), new.get("execution_count"))
    assert after.cells[2].source == before.cells[2].source  # the `!echo` cell untouched

    namespace: dict = {}
    exec(python_of(after), namespace)
    model = namespace["model"]
    assert [type(layer).__name__ for layer in model.layers][1] == "SpatialDropout1D"
    assert "DL101" not in analyze(model).codes()

    cli("check", "--fix", "--unsafe-fixes", *KERAS, notebook.name, cwd=notebook.parent)
    assert notebook.read_text(encoding="utf-8") == after_text  # a second --fix: no change


@pytest.mark.parametrize("broken", ["def broken(:\n    pass", "values = (1,\n          2,"])
def test_a_cell_that_does_not_parse_is_reported_and_the_rest_checked(cli, 
        tmp_path: Path, broken: str):
    nb = make_notebook()
    nb.cells.insert(3, new_code_cell(broken))
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    data = path.read_bytes()
    report = json.loads(cli("check", "--format", "json", *KERAS, path.name,
                            cwd=tmp_path).stdout)
    by_code = {f["code"]: f for f in report["findings"]}
    assert by_code["DL900"]["cell"] == 4 and by_code["DL900"]["line"] in (1, 2)
    assert by_code["DL101"]["cell"] == 6
    run = cli("check", "--fix", "--unsafe-fixes", *KERAS, path.name, cwd=tmp_path)
    assert run.returncode == 1
    assert path.read_bytes() == data  # a notebook with a syntax error is never touched


@pytest.mark.parametrize("content, message", [
    (b'{"cells": [', "invalid notebook JSON"),
    (b'\xff\xfe{"cells": []}', "cannot decode notebook as UTF-8"),
    (b'{"nbformat": 3, "worksheets": []}', "not a Jupyter notebook in nbformat 4"),
    (b'{"cells": [{"cell_type": "code", "source": 7}]}', "cell 1: `source` must be"),
])
def test_invalid_notebook_files_give_dl900(cli, tmp_path: Path, content: bytes, message: str):
    (tmp_path / "bad.ipynb").write_bytes(content)
    run = cli("check", "--format", "json", *KERAS, "bad.ipynb", cwd=tmp_path)
    assert run.returncode == 1
    [finding] = json.loads(run.stdout)["findings"]
    assert finding["code"] == "DL900" and message in finding["message"]


def test_add_noqa_in_a_notebook(cli, notebook: Path):
    run = cli("check", "--add-noqa", *KERAS, notebook.name, cwd=notebook.parent)
    assert run.stdout.strip() == "Added 1 noqa directive."
    nb = nbformat.read(notebook, 4)
    assert nb.cells[4].source.splitlines()[0] == "x = Dropout(0.3)(inputs)  # noqa: DL101"
    assert nb.cells[4].source.endswith("model.summary?")
    run = cli("check", "--fail-on", "info", *KERAS, notebook.name, cwd=notebook.parent)
    assert run.returncode == 0 and "All checks passed!" in run.stdout


def test_notebook_of_another_language_is_skipped(cli, tmp_path: Path):
    nb = make_notebook("x <- Dropout(0.3)\n%>% LSTM(10)")
    nb.metadata["kernelspec"]["language"] = "R"
    nb.metadata["language_info"]["name"] = "R"
    nbformat.write(nb, tmp_path / "r.ipynb")
    run = cli("check", "--fail-on", "info", *KERAS, "r.ipynb", cwd=tmp_path)
    assert run.returncode == 0 and "All checks passed!" in run.stdout


def test_notebook_findings_in_sarif_and_github(cli, notebook: Path):
    run = cli("check", "--format", "sarif", *KERAS, notebook.name, cwd=notebook.parent)
    doc = json.loads(run.stdout)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(doc)
    [result] = doc["runs"][0]["results"]
    assert result["properties"]["cell"] == 5 and result["properties"]["line"] == 1
    assert result["message"]["text"].startswith("cell 5, line 1: ")
    assert "region" not in result["locations"][0]["physicalLocation"]
    run = cli("check", "--format", "github", *KERAS, notebook.name, cwd=notebook.parent)
    assert run.stdout.startswith("::notice file=forecast.ipynb,title=DL101 "
                                 "dropout-on-sequence-input::cell 5, line 1: Dropout(0.3)")


# --- --fix / --add-noqa change only the bytes of the edited sources -------------------------

CELL_LINES = ["from keras.layers import Input, Dropout, LSTM\n", "inputs = Input(shape=(30, 8))\n",
              "x = Dropout(0.3)(inputs)  # caf\u00e9 a/b\n", "x = LSTM(10)(x)"]


def _string(text: str, ascii_only: bool, slash: bool) -> str:
    out = json.dumps(text, ensure_ascii=ascii_only)
    return out.replace("/", "\\/") if slash else out


def hand_written(style: str) -> bytes:
    """One notebook in a given writing style, with a markdown cell (non-ASCII, a slash), the
    model cell (to be edited), metadata with odd number spellings, and a BOM or CRLF."""
    ascii_only = style in ("ascii", "compact")
    slash = style == "slash"
    nl = "\r\n" if style == "crlf" else "\n"
    md = _string("# R\u00e9sum\u00e9 of a/b\n", ascii_only, slash)
    if style == "compact":
        src = _string("".join(CELL_LINES), ascii_only, slash)
        text = ('{"cells": [{"cell_type": "markdown", "metadata": {}, "source": ' + md + '}, '
                '{"cell_type": "code", "execution_count": 1E100, "metadata": {"w": 1.00}, '
                '"outputs": [], "source": ' + src + '}], "metadata": {"x": 1e-7}, '
                '"nbformat": 4, "nbformat_minor": 5}')
        return text.encode("utf-8")
    items = ("," + nl + "    ").join(_string(line, ascii_only, slash) for line in CELL_LINES)
    text = nl.join([
        "{", ' "cells": [', "  {", '   "cell_type": "markdown",', '   "metadata": {},',
        f'   "source": [{nl}    {md}{nl}   ]', "  },", "  {", '   "cell_type": "code",',
        '   "execution_count": 1,', '   "metadata": {"scale": 1.00, "big": 1E100},',
        '   "outputs": [],', f'   "source": [{nl}    {items}{nl}   ]', "  }", " ],",
        ' "metadata": {"language_info": {"name": "python"}},', ' "nbformat": 4,',
        ' "nbformat_minor": 5', "}", ""])
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if style == "bom" else data


def _outside_source_value(data: bytes) -> tuple[bytes, bytes]:
    """The bytes before and after the model cell's source value."""
    from droplint.loaders.notebook_splice import source_spans

    _key, start, end = source_spans(data)[1]
    return data[:start], data[end:]


STYLES = ["jupyter", "crlf", "ascii", "slash", "compact", "bom"]


@pytest.mark.parametrize("style", STYLES)
def test_add_noqa_changes_only_the_edited_source_bytes(style: str):
    from droplint.add_noqa import add_noqa_data
    from droplint.config import Settings

    before = hand_written(style)
    after, count = add_noqa_data(before, "nb.ipynb", Settings(keras_version="3.15"))
    assert count == 1
    assert _outside_source_value(after) == _outside_source_value(before)
    source = json.loads(after.decode("utf-8-sig"))["cells"][1]["source"]
    expected = CELL_LINES[:2] + [CELL_LINES[2].replace("\n", "  # noqa: DL101\n")] \
        + CELL_LINES[3:]
    assert source == ("".join(expected) if style == "compact" else expected)
    value = after[len(_outside_source_value(after)[0]):-len(_outside_source_value(after)[1])]
    assert (b"\\u00e9" in value) == (style in ("ascii", "compact"))
    assert (b"\\/" in value) == (style == "slash")
    if style not in ("compact",):  # one line per item, with the file's own line ending
        nl = b"\r\n" if style == "crlf" else b"\n"
        assert value.count(b"," + nl + b"    ") == len(expected) - 1
        assert b"\r" not in value if style != "crlf" else value.count(b"\n") == value.count(b"\r\n")


@pytest.mark.parametrize("style", ["jupyter", "crlf", "compact"])
def test_fix_through_the_command_line_keeps_every_other_byte(cli, tmp_path: Path, style: str):
    path = tmp_path / "nb.ipynb"
    before = hand_written(style)
    path.write_bytes(before)
    run = cli("check", "--fix", "--unsafe-fixes", *KERAS, path.name, cwd=tmp_path)
    after = path.read_bytes()
    assert "Fixed 1 finding" in run.stdout + run.stderr, run.stdout + run.stderr
    assert _outside_source_value(after) == _outside_source_value(before)
    source = "".join(json.loads(after)["cells"][1]["source"])
    assert "SpatialDropout1D(0.3)(inputs)" in source and b"1E100" in after


def test_splice_writes_an_empty_list_in_the_files_list_style():
    from droplint.loaders.notebook_splice import splice_sources

    raw = (b'{\n "cells": [\n  {\n   "cell_type": "code",\n   "source": [\n    "a = 1\\n",\n'
           b'    "b = 2"\n   ]\n  },\n  {\n   "cell_type": "code",\n   "source": []\n  }\n ]\n}\n')
    out = splice_sources(raw, {1: "c = 3\nd = 4", 0: ""})
    assert out == (b'{\n "cells": [\n  {\n   "cell_type": "code",\n   "source": []\n  },\n'
                   b'  {\n   "cell_type": "code",\n   "source": [\n    "c = 3\\n",\n'
                   b'    "d = 4"\n   ]\n  }\n ]\n}\n')
    assert splice_sources(b'{"cells": [{"source": 5}]', {0: "x"}) is None  # not readable back
    assert splice_sources(b'{"cells": []}', {0: "x"}) is None  # no such cell
