"""`droplint check -` reads one file from stdin; --stdin-filename names it for the config,
per-file-ignores, the notebook format and the output."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

SOURCE = (
    "import keras\n"
    "from keras import layers\n"
    "\n"
    "inputs = keras.Input(shape=(30, 8))\n"
    "x = layers.Dropout(0.3)(inputs)\n"
    "x = layers.LSTM(10, dropout=1.5)(x)\n"
    "model = keras.Model(inputs, layers.Dense(1)(x))\n"
)
PYPROJECT = """\
[tool.droplint]
keras-version = "3.15"
extend-exclude = ["generated"]

[tool.droplint.per-file-ignores]
"legacy/*.py" = ["DL304"]
"""


def codes(run: subprocess.CompletedProcess) -> list[tuple[str, str]]:
    return [(f["path"], f["code"]) for f in json.loads(run.stdout)["findings"]]


def test_stdin_is_checked_under_its_name(cli, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    run = cli("check", "-", "--stdin-filename", "models/forecast.py", "--format", "json",
              cwd=tmp_path, stdin=SOURCE.encode())
    assert run.returncode == 1
    assert codes(run) == [("models/forecast.py", "DL101"), ("models/forecast.py", "DL304")]
    assert json.loads(run.stdout)["keras"] == "3.15.0"  # keras-version from pyproject

    run = cli("check", "-", "--stdin-filename", "legacy/old.py", "--format", "json",
              cwd=tmp_path, stdin=SOURCE.encode())
    assert codes(run) == [("legacy/old.py", "DL101")]  # per-file-ignores by the given name
    assert run.returncode == 0

    text = cli("check", "-", "--stdin-filename", "models/forecast.py", cwd=tmp_path,
               stdin=SOURCE.encode()).stdout.decode()
    assert "models/forecast.py:5:5: DL101" in text
    assert "5 | x = layers.Dropout(0.3)(inputs)" in text  # the frame comes from stdin


def test_stdin_without_a_name_and_with_syntax_error(cli, tmp_path: Path):
    run = cli("check", "-", "--format", "json", "--keras-version", "3", cwd=tmp_path,
              stdin=SOURCE.encode())
    assert {path for path, _ in codes(run)} == {"-"}
    run = cli("check", "-", "--format", "json", cwd=tmp_path,
              stdin=b"from keras import layers\nlayers.Dropout(0.3\n")
    assert codes(run) == [("-", "DL900")] and run.returncode == 1
    run = cli("check", "-", "model.py", cwd=tmp_path, stdin=b"")
    assert run.returncode == 2 and b"cannot be combined" in run.stderr


def test_stdin_fix_writes_the_fixed_file_to_stdout(cli, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    run = cli("check", "-", "--stdin-filename", "m.py", "--fix", "--unsafe-fixes",
              cwd=tmp_path, stdin=SOURCE.encode())
    assert run.stdout.decode() == SOURCE.replace("layers.Dropout(", "layers.SpatialDropout1D(")
    assert b"DL304" in run.stderr and b"DL101" not in run.stderr  # what remains, on stderr
    assert run.returncode == 1
    run = cli("check", "-", "--stdin-filename", "m.py", "--diff", "--unsafe-fixes",
              cwd=tmp_path, stdin=SOURCE.encode())
    assert b"+x = layers.SpatialDropout1D(0.3)(inputs)" in run.stdout
    assert run.returncode == 1


def test_force_exclude_applies_to_the_stdin_name(cli, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    run = cli("check", "-", "--stdin-filename", "generated/m.py", "--force-exclude",
              cwd=tmp_path, stdin=SOURCE.encode())
    assert run.returncode == 0 and run.stdout == b""
    run = cli("check", "-", "--stdin-filename", "generated/m.py", "--force-exclude",
              "--fix", cwd=tmp_path, stdin=SOURCE.encode())
    assert run.stdout == SOURCE.encode()  # excluded: passed through unchanged


def test_notebook_on_stdin(cli, tmp_path: Path):
    nb = new_notebook()
    nb.cells = [new_code_cell("import keras\nfrom keras import layers"),
                new_code_cell("%time x = 1\ninputs = keras.Input(shape=(30, 8))\n"
                              "x = layers.Dropout(0.3)(inputs)\nx = layers.GRU(4)(x)")]
    data = nbformat.writes(nb).encode()
    run = cli("check", "-", "--stdin-filename", "nb.ipynb", "--keras-version", "3",
              cwd=tmp_path, stdin=data)
    text = run.stdout.decode()
    assert text.startswith("nb.ipynb:cell 2:3:5: DL101 [info]")
    assert "3 | x = layers.Dropout(0.3)(inputs)" in text
