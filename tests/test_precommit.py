"""The pre-commit hook, for real: `pre-commit try-repo <this repo> droplint --all-files` in a
fresh git repository. pre-commit builds the hook's own virtualenv and pip-installs droplint
from this repository (HEAD plus uncommitted changes to tracked files: try-repo commits those
in a temporary shadow repository); that environment has no TensorFlow or Keras. About 40 s,
once."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_notebook

# pre-commit builds a virtualenv and pip-installs droplint into it: slow, so outside the
# fast source-only suite (-m "not keras") with the Keras tests.
pytestmark = pytest.mark.keras

REPO = Path(__file__).resolve().parents[1]


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_manifest_is_shaped_like_ruffs():
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == hook["name"] == "droplint"
    assert hook["entry"] == "droplint check --force-exclude"
    assert hook["language"] == "python"
    assert hook["types_or"] == ["python", "jupyter"]
    assert hook["require_serial"] is True


def test_hook_fails_on_a_bad_model_and_honours_exclude(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.droplint]\nkeras-version = "3.15"\nextend-exclude = ["vendored"]\n',
        encoding="utf-8")
    (tmp_path / "model.py").write_text(
        "from keras import layers\nlayer = layers.Dropout(1.5)\n", encoding="utf-8")
    (tmp_path / "good.py").write_text(
        "from keras import layers\nlayer = layers.Dropout(0.3)\n", encoding="utf-8")
    (tmp_path / "vendored").mkdir()
    (tmp_path / "vendored" / "old.py").write_text(
        "from keras import layers\nlayer = layers.Dropout(1.0)\n", encoding="utf-8")
    nb = new_notebook()
    nb.cells = [new_code_cell("from keras import layers"),
                new_code_cell("%time x = 1\nlayer = layers.Dropout(-0.1)")]
    nbformat.write(nb, tmp_path / "explore.ipynb")
    git("init", "-q", ".", cwd=tmp_path)
    git("add", "pyproject.toml", "model.py", "good.py", "vendored/old.py", "explore.ipynb",
        cwd=tmp_path)

    run = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(REPO),
                          "droplint", "--all-files"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=600, check=False)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "droplint" in out and "Failed" in out
    assert "model.py:2:9: DL404 [error] dropout-rate-out-of-range" in out
    assert "explore.ipynb:cell 2:2:9: DL404 [error]" in out
    assert "vendored" not in out  # excluded in pyproject: --force-exclude drops it
    assert "good.py" not in out
    assert "Found 2 findings (2 errors) in 2 of 3 files." in out
