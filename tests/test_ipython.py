"""`%load_ext droplint` in a real IPython InteractiveShell (in a subprocess) running cells: each
cell is checked as it runs, with only new findings shown; `%droplint` shows the whole history;
`%droplint model` analyzes the built model; output is HTML with the mask pictures and text."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.keras  # the cells build a real Keras model
ROOT = Path(__file__).resolve().parents[1]

CELLS = [
    "%load_ext droplint",
    "from keras.layers import LSTM, Dense, Dropout, Input\nfrom keras.models import Model",
    "ipt = Input(shape=(30, 8))\nx = Dropout(0.3)(ipt)",
    "x = LSTM(10)(x)\nmodel = Model(ipt, Dense(1)(x))",
    "y = 1",
    "%droplint",
    "%droplint model",
    "%droplint no_such_name",
]

SCRIPT = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

shell = InteractiveShell.instance()
out = []
for cell in json.loads(sys.argv[1]):
    with capture_output() as cap:
        result = shell.run_cell(cell, store_history=True)
    out.append({"stdout": cap.stdout, "stderr": cap.stderr, "error": repr(result.error_in_exec)
                if result.error_in_exec else None,
                "outputs": [o.data for o in cap.outputs]})
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def runs() -> list[dict]:
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(CELLS)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(r["error"] is None for r in runs), [r["error"] for r in runs]
    return dict(zip(CELLS, runs))


def shown(run: dict) -> tuple[str, str]:
    """(text/plain, text/html) of what the cell displayed, joined."""
    return ("\n".join(o.get("text/plain", "") for o in run["outputs"]),
            "\n".join(o.get("text/html", "") for o in run["outputs"]))


def test_each_cell_is_checked_as_it_runs_showing_only_new_findings(runs):
    assert runs[CELLS[1]]["outputs"] == []  # imports: nothing to say
    assert runs[CELLS[2]]["outputs"] == []  # a Dropout that feeds nothing yet
    text, page = shown(runs[CELLS[3]])  # the LSTM makes the Dropout before it DL101
    assert "DL101" in text and "In [3], line 2" in text
    assert "single (timestep, feature) entries" in text
    assert "<table>" in page and "<b>DL101</b>" in page and "█" in page
    assert runs[CELLS[4]]["outputs"] == []  # nothing new


def test_magic_shows_the_whole_history_and_every_mask(runs):
    text, page = shown(runs["%droplint"])
    assert "droplint: 1 finding in the 4 cells run so far" in text
    assert "DL101" in text and "Dropout(0.3)" in text and "t0 │" in text
    assert "<pre" in page and "DL101" in page


def test_magic_analyzes_a_built_model_from_the_namespace(runs):
    text, page = shown(runs["%droplint model"])
    assert "droplint: 1 finding in model" in text
    assert "layer 'dropout'" in text and "DL101" in text
    assert "(None, 30, 8)" in text  # real shapes from the built model
    assert "<b>DL101</b>" in page


def test_magic_with_an_unknown_name_is_one_line(runs):
    run = runs["%droplint no_such_name"]
    assert run["outputs"] == []
    assert run["stdout"].strip().splitlines() == [(
        "droplint: 'no_such_name' is neither a name in this session nor a path: "
        "%droplint [MODEL_VARIABLE | PATH]")]


def test_importing_droplint_imports_neither_ipython_nor_keras():
    code = ("import sys, droplint\n"
            "assert callable(droplint.load_ipython_extension)\n"
            "print(sorted(m for m in ('IPython', 'keras', 'tensorflow') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
