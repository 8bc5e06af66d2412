"""Regenerate the behaviour snapshot: the JSON report of every example and every rule example.

    python tests/golden/regen.py            # rewrite tests/golden/reports.json from this tree

tests/test_golden.py re-runs each stored input and compares the whole report. When you change
output on purpose, regenerate and read `git diff tests/golden` to check that only what you
meant changed. Run from the repository root.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "reports.json"
KERAS = "3"  # pinned, so the snapshot does not depend on the installed Keras


def inputs() -> list[dict]:
    """Every input the snapshot covers: the examples (as files) and the rules' examples."""
    from droplint.rules import ALL_RULES

    cases = [{"kind": "path", "path": f"examples/{p.name}", "keras": KERAS}
             for p in sorted((ROOT / "examples").glob("*.py"))]
    for rule in ALL_RULES:
        for kind in ("BAD", "GOOD"):
            for i, source in enumerate(getattr(rule, kind, ())):
                cases.append({"kind": "source", "id": f"{rule.code}-{kind.lower()}{i}",
                              "source": source, "keras": rule.EXAMPLE_KERAS})
    return cases


def report_of(case: dict) -> dict:
    import droplint

    if case["kind"] == "path":
        return droplint.analyze(case["path"], keras_version=case["keras"]).to_dict()
    return droplint.analyze_source(case["source"], "example.py",
                                   keras_version=case["keras"]).to_dict()


def main() -> None:
    import os

    os.chdir(ROOT)
    cases = inputs()
    for case in cases:
        case["report"] = report_of(case)
    OUT.write_text(json.dumps(cases, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(cases)} reports -> {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
