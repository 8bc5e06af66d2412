"""--fix, --unsafe-fixes, --diff, --show-fixes, --add-noqa and unused-noqa (DL910), through the
real command line. Fixed sources are executed here with real Keras to build the model, and
analyze(model) must no longer report what was fixed."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from droplint import analyze
from droplint.api import FileResult, lint_text
from droplint.config import Settings
from droplint.fixing import fix_text
from droplint.report import Edit, Finding, Fix, Severity

KERAS = ("--keras-version", "3.15")

QUESTION = """\
from tensorflow.keras.layers import Input, Dropout, Dense
from tensorflow.compat.v1.keras.layers import CuDNNLSTM
from tensorflow.keras.models import Model

shape = (30, 8)
ipt   = Input(shape = (shape[0], shape[1]))
x     = Dropout(0.3)(ipt) ## Dropout before LSTM.
x     = CuDNNLSTM(10, return_sequences = False)(x)
out   = Dense(1, activation='relu')(x)
model = Model(ipt, out)
"""

LAYERS_MODULE = (
    "import keras\n"
    "from keras import layers\n"
    "\n"
    "inputs = keras.Input(shape=(30, 8))\n"
    "x = layers.Dropout(0.3)(inputs)  # the question's dropout\n"
    "x = layers.LSTM(10,\n"
    "                return_sequences=False)(x)\n"
    "model = keras.Model(inputs, layers.Dense(1)(x))\n"
)


def build(source: str):
    """Run the fixed source as the user would, and return its `model`."""
    namespace: dict = {}
    exec(compile(source, "fixed_model.py", "exec"), namespace)
    return namespace["model"]


def layer_classes(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


@pytest.mark.keras
def test_question_model_safe_then_unsafe_fixes(cli, tmp_path: Path):
    path = tmp_path / "forecast.py"
    path.write_text(QUESTION, encoding="utf-8")

    run = cli("check", "--fix", "--show-fixes", *KERAS, "forecast.py", cwd=tmp_path)
    fixed = path.read_text(encoding="utf-8")
    assert "1 × DL303 (cudnn-layer-removed)" in run.stdout
    assert "from tensorflow.keras.layers import LSTM\n" in fixed
    assert "x     = LSTM(10, return_sequences = False)(x)\n" in fixed  # spacing kept
    assert "x     = Dropout(0.3)(ipt) ## Dropout before LSTM.\n" in fixed  # unsafe: not yet
    assert "CuDNN" not in fixed
    assert run.returncode == 0  # DL101 is info, below the default --fail-on warning
    assert "DL101" in run.stdout  # still reported: its fix is unsafe

    run = cli("check", "--fix", "--unsafe-fixes", "--show-fixes", *KERAS, "forecast.py",
              cwd=tmp_path)
    fixed = path.read_text(encoding="utf-8")
    assert "1 × DL101 (dropout-on-sequence-input)" in run.stdout
    assert fixed.splitlines()[0] == \
        "from tensorflow.keras.layers import Input, SpatialDropout1D, Dense"  # Dropout unused
    assert "x     = SpatialDropout1D(0.3)(ipt) ## Dropout before LSTM.\n" in fixed
    assert "All checks passed!" in run.stdout

    model = build(fixed)
    assert layer_classes(model) == ["InputLayer", "SpatialDropout1D", "LSTM", "Dense"]
    codes = analyze(model).codes()
    assert "DL101" not in codes and "DL303" not in codes

    before = path.read_bytes()
    again = cli("check", "--fix", "--unsafe-fixes", "--show-fixes", *KERAS, "forecast.py",
                cwd=tmp_path)
    assert path.read_bytes() == before
    assert "Fixed" not in again.stdout


def fix_bom_crlf_module(cli, tmp_path: Path) -> str:
    """LAYERS_MODULE with a BOM, CRLF and mode 640, fixed by the command line: the bytes, mode
    and folder are checked; returns the fixed text."""
    path = tmp_path / "model.py"
    path.write_bytes(b"\xef\xbb\xbf" + LAYERS_MODULE.replace("\n", "\r\n").encode())
    path.chmod(0o640)
    run = cli("check", "--fix", "--unsafe-fixes", *KERAS, "model.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == LAYERS_MODULE.count("\n") and b"\n" not in data.replace(
        b"\r\n", b"")
    text = data[3:].decode().replace("\r\n", "\n")
    assert text == LAYERS_MODULE.replace("layers.Dropout(", "layers.SpatialDropout1D(")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    # no temporary file left behind (.droplint_cache: the results cache, by design)
    assert sorted(set(os.listdir(tmp_path)) - {".droplint_cache"}) == ["model.py"]
    return text


def test_fix_keeps_line_endings_bom_mode_and_comments(cli, tmp_path: Path):
    fix_bom_crlf_module(cli, tmp_path)


@pytest.mark.keras
def test_fixed_bom_crlf_module_builds_without_dl101(cli, tmp_path: Path):
    model = build(fix_bom_crlf_module(cli, tmp_path))
    assert "SpatialDropout1D" in layer_classes(model)
    assert "DL101" not in analyze(model).codes()


def test_diff_shows_and_writes_nothing(cli, tmp_path: Path):
    path = tmp_path / "model.py"
    path.write_text(LAYERS_MODULE, encoding="utf-8")
    run = cli("check", "--diff", *KERAS, "model.py", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout == ""  # the only fix is unsafe
    run = cli("check", "--diff", "--unsafe-fixes", *KERAS, "model.py", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stdout.splitlines()[:2] == ["--- a/model.py", "+++ b/model.py"]
    assert "-x = layers.Dropout(0.3)(inputs)  # the question's dropout" in run.stdout
    assert "+x = layers.SpatialDropout1D(0.3)(inputs)  # the question's dropout" in run.stdout
    assert "Would fix 1 finding in 1 file." in run.stderr
    assert path.read_text(encoding="utf-8") == LAYERS_MODULE


def test_file_with_syntax_error_is_never_touched(cli, tmp_path: Path):
    broken = tmp_path / "broken.py"
    source = "from keras import layers\nx = layers.Dropout(0.3\nCuDNNLSTM(4)\n"
    broken.write_text(source, encoding="utf-8")
    good = tmp_path / "good.py"
    good.write_text(QUESTION, encoding="utf-8")
    run = cli("check", "--fix", "--unsafe-fixes", *KERAS, ".", cwd=tmp_path)
    assert run.returncode == 1
    assert "broken.py:2:" in run.stdout and "DL900" in run.stdout
    assert broken.read_text(encoding="utf-8") == source
    assert "SpatialDropout1D" in good.read_text(encoding="utf-8")


def test_a_fix_that_would_break_the_syntax_is_not_applied():
    text = "from keras import layers\nlayer = layers.Dropout(0.3)\n"
    settings = Settings(keras_version="3.15")

    def lint(t: str) -> FileResult:
        result = lint_text(t, "m.py", settings)
        bad = Fix("safe", "breaks the file", (Edit(2, 9, 2, 15, "layers.Dropout((("),))
        result.findings.append(Finding("DL404", "dropout-rate-out-of-range", Severity.ERROR,
                                       "m.py", 2, 9, 2, 15, "synthetic", fix=bad))
        return result

    outcome = fix_text(text, lint)
    assert outcome.text == text and outcome.fixed == []


def test_unused_noqa_reported_and_removed(cli, tmp_path: Path):
    path = tmp_path / "model.py"
    path.write_text(
        "from keras import layers\n"
        "a = layers.Dropout(0.3)  # noqa: DL404, E501\n"
        "b = layers.Dropout(0.3)  # noqa: DL404\n"
        "c = layers.Dropout(1.0)  # noqa: DL404\n"
        "d = layers.Dropout(0.3)  # noqa\n"
        "e = layers.Dropout(0.3)  # droplint: ignore[DL1O1]  # keep me\n"
        "f = layers.Dropout(0.3)  # noqa: E501\n",
        encoding="utf-8")
    run = cli("check", "--format", "concise", "--select", "DL404,DL910", *KERAS,
              "model.py", cwd=tmp_path)
    lines = [line for line in run.stdout.splitlines() if "DL910" in line]
    assert [line.split(":")[1] for line in lines] == ["2", "3", "6"]
    assert "unknown: `DL1O1`" in lines[2]
    assert run.returncode == 1  # DL910 is a warning

    run = cli("check", "--fix", "--select", "DL404,DL910", *KERAS, "model.py",
              cwd=tmp_path)
    assert run.returncode == 0, run.stdout
    assert path.read_text(encoding="utf-8") == (
        "from keras import layers\n"
        "a = layers.Dropout(0.3)  # noqa: E501\n"
        "b = layers.Dropout(0.3)\n"
        "c = layers.Dropout(1.0)  # noqa: DL404\n"
        "d = layers.Dropout(0.3)  # noqa\n"
        "e = layers.Dropout(0.3)  # keep me\n"
        "f = layers.Dropout(0.3)  # noqa: E501\n")
    # a code of a rule that did not run says nothing: not reported
    run = cli("check", "--select", "DL910", *KERAS, "model.py", cwd=tmp_path)
    assert run.returncode == 0 and "DL910" not in run.stdout


def test_add_noqa_then_everything_is_suppressed(cli, tmp_path: Path):
    path = tmp_path / "model.py"
    path.write_text(QUESTION.replace("## Dropout before LSTM.", "# noqa: E501"),
                    encoding="utf-8")
    run = cli("check", "--add-noqa", *KERAS, "model.py", cwd=tmp_path)
    assert run.returncode == 0
    assert run.stdout.strip() == "Added 2 noqa directives."
    text = path.read_text(encoding="utf-8")
    assert "x     = Dropout(0.3)(ipt) # noqa: E501, DL101\n" in text
    assert "x     = CuDNNLSTM(10, return_sequences = False)(x)  # noqa: DL303\n" in text
    run = cli("check", "--fail-on", "info", *KERAS, "model.py", cwd=tmp_path)
    assert run.returncode == 0, run.stdout  # nothing reported, no unused-noqa either
    run = cli("check", "--add-noqa", *KERAS, "model.py", cwd=tmp_path)
    assert run.stdout.strip() == "Added 0 noqa directives."
    assert path.read_text(encoding="utf-8") == text


def test_suppressions_count_lines_like_python_despite_form_feeds(cli, tmp_path: Path):
    path = tmp_path / "model.py"
    path.write_text("from keras import layers\n\x0c\nlayer = layers.Dropout(1.0)\n",
                    encoding="utf-8")
    run = cli("check", "--add-noqa", *KERAS, "model.py", cwd=tmp_path)
    assert run.stdout.strip() == "Added 1 noqa directive."
    assert path.read_text(encoding="utf-8").endswith(
        "\x0c\nlayer = layers.Dropout(1.0)  # noqa: DL404\n")
    run = cli("check", *KERAS, "model.py", cwd=tmp_path)
    assert run.returncode == 0 and "All checks passed!" in run.stdout


# --- imports left unused by a fix -------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "question_forecaster.py"


def fix_in_process(source: str) -> str:
    settings = Settings(keras_version="3.15")
    outcome = fix_text(source, lambda t: lint_text(t, "m.py", settings), unsafe=True)
    assert outcome.fixed and not outcome.findings
    return outcome.text


@pytest.mark.keras
def test_question_example_fix_drops_dropout_from_its_import(cli, tmp_path: Path):
    example = EXAMPLE.read_text(encoding="utf-8")
    path = tmp_path / "question_forecaster.py"
    path.write_text(example, encoding="utf-8")
    cli("check", "--fix", "--unsafe-fixes", *KERAS, path.name, cwd=tmp_path)
    fixed = path.read_text(encoding="utf-8")
    # the docstring and a comment still say "Dropout": they are no use, the import goes
    assert "from keras.layers import LSTM, Dense, SpatialDropout1D, Input\n" in fixed
    assert '("Dropout layer before or after LSTM?")' in fixed  # docstring untouched
    assert "# Dropout before LSTM: what does it drop?" in fixed  # comment untouched

    # the same model without those mentions: the import loses Dropout
    code = example.split('"""')[2].lstrip("\n").replace(
        "  # Dropout before LSTM: what does it drop?", "")
    assert code.count("Dropout") == 2  # the import and the call
    path.write_text(code, encoding="utf-8")
    diff = cli("check", "--diff", "--unsafe-fixes", *KERAS, path.name, cwd=tmp_path)
    assert "-from keras.layers import CuDNNLSTM, Dense, Dropout, Input" in diff.stdout
    assert "+from keras.layers import LSTM, Dense, SpatialDropout1D, Input" in diff.stdout
    assert path.read_text(encoding="utf-8") == code

    run = cli("check", "--fix", "--unsafe-fixes", "--show-fixes", *KERAS, path.name,
              cwd=tmp_path)
    assert "1 × DL101 (dropout-on-sequence-input)" in run.stdout
    assert "All checks passed!" in run.stdout
    fixed = path.read_text(encoding="utf-8")
    assert fixed == code.replace("CuDNNLSTM, Dense, Dropout, Input",
                                 "LSTM, Dense, SpatialDropout1D, Input").replace(
        "x = Dropout(0.3)", "x = SpatialDropout1D(0.3)").replace("CuDNNLSTM(", "LSTM(")
    unused = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated",
                             "--select", "F401", path.name], cwd=tmp_path,
                            capture_output=True, text=True, check=False)
    assert unused.returncode == 0, unused.stdout
    model = build(fixed)
    assert layer_classes(model) == ["InputLayer", "SpatialDropout1D", "LSTM", "Dense"]
    codes = analyze(model).codes()
    assert "DL101" not in codes and "DL303" not in codes

    again = cli("check", "--fix", "--unsafe-fixes", *KERAS, path.name, cwd=tmp_path)
    assert path.read_text(encoding="utf-8") == fixed and "Fixed" not in again.stdout


MODEL = """\
{imports}
from keras.models import Model

ipt = Input(shape=(30, 8))
x = {drop}(0.3)(ipt){comment}
x = LSTM(10)(x){after}
model = Model(ipt, Dense(1)(x))
"""


@pytest.mark.keras
def test_a_name_still_used_or_mentioned_keeps_its_import():
    imports = "from keras.layers import Input, Dropout, LSTM, Dense"
    still_used = MODEL.format(imports=imports, drop="Dropout", comment="",
                              after="\nx = Dropout(0.5)(x)")
    fixed = fix_in_process(still_used)
    assert fixed.splitlines()[0] == \
        "from keras.layers import Input, SpatialDropout1D, Dropout, LSTM, Dense"
    assert [type(layer).__name__ for layer in build(fixed).layers].count("Dropout") == 1

    in_comment = MODEL.format(imports=imports, drop="Dropout", comment="  # was: Dropout",
                              after="")
    fixed = fix_in_process(in_comment)
    assert fixed.splitlines()[0] == "from keras.layers import Input, SpatialDropout1D, LSTM, Dense"
    assert "# was: Dropout" in fixed
    assert "SpatialDropout1D" in layer_classes(build(fixed))

    # a string that is not a docstring may be a use (__all__, annotations): the import stays
    in_string = MODEL.format(imports=imports, drop="Dropout", comment="",
                             after='\n__all__ = ["model", "Dropout"]')
    fixed = fix_in_process(in_string)
    assert fixed.splitlines()[0] == \
        "from keras.layers import Input, SpatialDropout1D, Dropout, LSTM, Dense"


@pytest.mark.keras
def test_an_alias_and_a_parenthesised_import_lose_the_replaced_name():
    aliased = MODEL.format(imports="from keras.layers import Input, Dropout as Drop, LSTM, Dense",
                           drop="Drop", comment="", after="")
    fixed = fix_in_process(aliased)
    assert fixed == aliased.replace("Dropout as Drop", "SpatialDropout1D").replace(
        "Drop(0.3)", "SpatialDropout1D(0.3)")
    assert "DL101" not in analyze(build(fixed)).codes()

    imports = ("from keras.layers import (  # layers\n"
               "    Input,\n"
               "    Dropout,  # the question's dropout\n"
               "    LSTM,\n"
               "    Dense,\n"
               ")")
    multi = MODEL.format(imports=imports, drop="Dropout", comment="", after="")
    fixed = fix_in_process(multi)
    assert fixed == multi.replace("    Dropout,", "    SpatialDropout1D,").replace(
        "x = Dropout(", "x = SpatialDropout1D(")
    assert "DL101" not in analyze(build(fixed)).codes()

    last = MODEL.format(imports="from keras.layers import (Input, LSTM, Dense,\n"
                                "                          Dropout)",
                        drop="Dropout", comment="", after="")
    fixed = fix_in_process(last)
    assert fixed.splitlines()[:2] == ["from keras.layers import (Input, LSTM, Dense,",
                                      "                          SpatialDropout1D)"]
    assert "SpatialDropout1D" in layer_classes(build(fixed))


@pytest.mark.keras
def test_unwrapping_time_distributed_drops_its_import_and_a_lone_import_goes_whole():
    source = ("from keras import Input, Sequential\n"
              "from keras.layers import Dropout, Dense, GRU\n"
              "from keras.layers import TimeDistributed  # wrappers\n"
              "\n"
              "model = Sequential([\n"
              "    Input(shape=(20, 6)),\n"
              "    GRU(32, return_sequences=True),\n"
              "    TimeDistributed(Dropout(0.2)),\n"
              "    Dense(1),\n"
              "])\n")
    fixed = fix_in_process(source)
    assert fixed == source.replace("from keras.layers import TimeDistributed  # wrappers\n",
                                   "").replace("TimeDistributed(Dropout(0.2))", "Dropout(0.2)")
    assert layer_classes(build(fixed)) == ["GRU", "Dropout", "Dense"]


@pytest.mark.keras
def test_notebook_cells_are_searched_as_one_program(tmp_path: Path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from droplint.fixing import fix_data

    def notebook(*cells: str) -> bytes:
        nb = new_notebook()
        nb.cells = [new_code_cell(c) for c in cells]
        return nbformat.writes(nb).encode()

    head = "from keras.layers import Input, Dropout, LSTM, Dense\nfrom keras.models import Model"
    body = ("ipt = Input(shape=(30, 8))\nx = Dropout(0.3)(ipt)\nx = LSTM(10)(x)\n"
            "model = Model(ipt, Dense(1)(x))")
    settings = Settings(keras_version="3.15")
    done = fix_data(notebook(head, body), "m.ipynb", settings, unsafe=True)
    cells = [c.source for c in nbformat.reads(done.after.decode(), 4).cells]
    assert cells[0].splitlines()[0] == \
        "from keras.layers import Input, SpatialDropout1D, LSTM, Dense"
    assert "SpatialDropout1D" in layer_classes(build("\n".join(cells)))

    used_later = notebook(head, body, "extra = Dropout(0.1)")
    done = fix_data(used_later, "m.ipynb", settings, unsafe=True)
    cells = [c.source for c in nbformat.reads(done.after.decode(), 4).cells]
    assert cells[0].splitlines()[0] == \
        "from keras.layers import Input, SpatialDropout1D, Dropout, LSTM, Dense"


def test_code_only_blanks_comments_and_docstrings_only():
    from droplint.fixes import code_only

    src = ('"""Module: Dropout."""\n'
           "import keras  # Dropout\n\n"
           "class A:\n"
           "    '''Class: Dropout.'''\n"
           "    def f(self):\n"
           "        \"\"\"Method: Dropout.\"\"\"\n"
           "        return 'Dropout'\n"
           "x = f'''Dropout'''\n")
    out = code_only(src)
    assert len(out) == len(src) and out.count("\n") == src.count("\n")
    assert out.count("Dropout") == 2  # the two strings that are values, not docstrings
    assert "return 'Dropout'" in out and "x = f'''Dropout'''" in out
    assert code_only("def broken(:\n  # Dropout\n") == "def broken(:\n  # Dropout\n"
