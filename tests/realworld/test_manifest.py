"""The real-world manifest is well formed, and get.py verifies a folder against it."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GET = ROOT / "benchmarks" / "realworld" / "get.py"
ENTRIES = tomllib.loads((ROOT / "benchmarks" / "realworld" / "manifest.toml").read_text())["file"]


def test_manifest_size_and_fields():
    assert len(ENTRIES) >= 70
    assert len({e["repo"] for e in ENTRIES}) >= 35
    for e in ENTRIES:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", e["repo"]), e
        assert re.fullmatch(r"[0-9a-f]{40}", e["commit"]), e
        assert re.fullmatch(r"[0-9a-f]{64}", e["sha256"]), e
        assert re.fullmatch(r"[a-z0-9]+", e["style"]), e
        assert e["path"].endswith((".py", ".ipynb")), e
    assert len({e["name"] for e in ENTRIES}) == len(ENTRIES)


def test_get_reports_missing_and_altered_files(tmp_path):
    first, second = ENTRIES[0], ENTRIES[1]
    (tmp_path / first["name"]).write_text("not the recorded content\n")
    proc = subprocess.run([sys.executable, str(GET), "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert f"sha256   {first['name']} differs" in proc.stdout
    assert f"missing  {second['name']}" in proc.stdout
    assert f"0/{len(ENTRIES)} files verified" in proc.stdout
