"""The README's pre-commit snippet, for real: a .pre-commit-config.yaml whose `repo:` is a git
URL (here file:// of this clone; https:// of a hosting service reads the same) and whose
`rev:` is a 40-hex commit, as there is no release tag on a public index yet. pre-commit clones
that commit, builds the hook's virtualenv, pip-installs droplint from it and runs it. Slow
(a virtualenv and pip), so marked with the Keras tests."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.keras

REPO = Path(__file__).resolve().parents[1]


def test_snippet_with_git_url_and_commit_hash(tmp_path: Path):
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{40}", rev)
    work = tmp_path / "work"
    work.mkdir()
    (work / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {REPO.as_uri()}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: droplint\n", encoding="utf-8")
    (work / "pyproject.toml").write_text('[tool.droplint]\nkeras-version = "3.15"\n',
                                         encoding="utf-8")
    (work / "model.py").write_text("from keras import layers\nlayer = layers.Dropout(1.5)\n",
                                   encoding="utf-8")
    for args in (["init", "-q", "."], ["add", "."]):
        subprocess.run(["git", *args], cwd=work, check=True, capture_output=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    run = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=work,
                         env=env, capture_output=True, text=True, timeout=600, check=False)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "droplint" in out and "Failed" in out
    assert "model.py:2:9: DL404 [error] dropout-rate-out-of-range" in out
