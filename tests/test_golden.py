"""Behaviour snapshot: every input stored in tests/golden/reports.json gives the same JSON
report as when the snapshot was made (regenerate on purpose: python tests/golden/regen.py)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import droplint

GOLDEN = Path(__file__).parent / "golden" / "reports.json"
ROOT = Path(__file__).resolve().parents[1]
CASES = json.loads(GOLDEN.read_text(encoding="utf-8"))


def _id(case: dict) -> str:
    return case.get("id") or case["path"]


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_report_unchanged(case, monkeypatch):
    monkeypatch.chdir(ROOT)
    if case["kind"] == "path":
        got = droplint.analyze(case["path"], keras_version=case["keras"]).to_dict()
    else:
        got = droplint.analyze_source(case["source"], "example.py",
                                      keras_version=case["keras"]).to_dict()
    assert json.loads(json.dumps(got)) == case["report"]
