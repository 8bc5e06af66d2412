"""Shared test helpers: one way to run the droplint CLI in a subprocess, and the `keras` marker.

Tests that need TensorFlow/Keras (in-process or in a subprocess) are marked `keras`, so
`python -m pytest -m "not keras"` is the fast, source-only suite. That suite checks itself: it
fails if TensorFlow, Keras, jax or torch was imported into the test process.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_droplint(*args: str, cwd: Path | str | None = None, stdin: bytes | str | None = None,
                 env: dict | None = None, timeout: float = 300
                 ) -> subprocess.CompletedProcess:
    """`python -m droplint ARGS` in a fresh process; text output (bytes in if `stdin` is).
    `env` adds to this process's environment; a value None removes that variable."""
    full_env = {key: value for key, value in
                {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}.items()
                if value is not None}
    text = not isinstance(stdin, bytes)
    return subprocess.run([sys.executable, "-m", "droplint", *args], cwd=cwd or ROOT,
                          input=stdin, capture_output=True, text=text, env=full_env,
                          timeout=timeout, check=False)


@pytest.fixture(scope="session")
def cli():
    """The droplint CLI in a subprocess: `cli("check", path, cwd=tmp_path)` (session scope: module
    fixtures may use it too)."""
    return run_droplint


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "keras: needs TensorFlow/Keras, or installs packages (deselect with -m 'not keras' for the fast "
        "source-only suite)")


def pytest_sessionfinish(session, exitstatus):
    markexpr = session.config.getoption("markexpr", "") or ""
    if "not keras" in markexpr.replace("  ", " "):
        leaked = [name for name in ("jax", "keras", "tensorflow", "tf_keras", "torch")
                  if sys.modules.get(name) is not None]  # None: made unimportable, not loaded
        if leaked:
            session.exitstatus = 1
            print(f"\n-m 'not keras' imported {', '.join(leaked)}: mark that test `keras`",
                  file=sys.stderr)
