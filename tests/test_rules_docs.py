"""Every rule documents itself (ruff-style sections) and matches the catalog of RULES.md
section 2: code, name, severity and fix safety. The catalog is embedded below so that the
test runs anywhere; when ../shared/RULES.md is present the embedded copy is checked against
it, so the two cannot drift apart."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from droplint.rule import DOC_SECTIONS, Rule
from droplint.rules import ALL_RULES, BY_CODE, lookup

# code: (name, severities (first = the class default), fix safety or None)
CATALOG = {
    "DL101": ("dropout-on-sequence-input", ("info",), "unsafe"),
    "DL102": ("dropout-between-recurrent-layers", ("info",), "unsafe"),
    "DL103": ("dropout-after-embedding", ("info",), "unsafe"),
    "DL104": ("spatial-dropout-wrong-rank", ("error",), None),
    "DL105": ("time-distributed-dropout", ("info",), "safe"),
    "DL201": ("noise-shape-shared-across-batch", ("warning",), "unsafe"),
    "DL202": ("noise-shape-incompatible", ("error",), None),
    "DL203": ("noise-shape-fixed-batch", ("warning",), "safe"),
    "DL204": ("spatial-dropout-noise-shape", ("error",), "safe"),
    "DL301": ("recurrent-dropout-disables-cudnn", ("info",), None),
    "DL302": ("cudnn-ineligible-config", ("info",), None),
    "DL303": ("cudnn-layer-removed", ("error",), "safe"),
    "DL304": ("rnn-dropout-out-of-range", ("error",), None),
    "DL305": ("double-dropout", ("info",), None),
    "DL306": ("seeded-bidirectional-dropout", ("warning",), None),
    "DL307": ("implementation-1-dropout", ("error",), "safe"),
    "DL308": ("rnn-dropout-at-inference", ("error",), None),
    "DL309": ("keras1-dropout-arguments", ("error",), "safe"),
    "DL401": ("dropout-on-output", ("warning",), None),
    "DL402": ("dropout-before-batchnorm", ("info",), None),
    "DL403": ("dropout-before-masking", ("error", "warning", "info"), None),
    "DL404": ("dropout-rate-out-of-range", ("error",), None),
    # info, warning when the file shows TF1 idioms (rules/dl405: severity by context)
    "DL405": ("rate-looks-like-keep-prob", ("info", "warning"), None),
    "DL406": ("training-true-call", ("warning", "info"), None),
    "DL407": ("explicit-training-none", ("warning",), "unsafe"),
    "DL408": ("unguarded-functional-dropout", ("warning",), None),
    "DL409": ("shared-dropout-seed", ("warning",), None),
    "DL900": ("parse-error", ("error",), None),
    "DL901": ("model-load-error", ("error",), None),
}

RULES_MD = Path(__file__).resolve().parents[2] / "shared" / "RULES.md"


def _parse_rules_md(text: str) -> dict:
    """Rows of the section-2 table: code -> (name, severities, fix safety)."""
    section = text.split("## 2. Rules", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5 or not re.fullmatch(r"DL\d{3}", cells[0]):
            continue
        severities = tuple(s.strip() for s in cells[2].split("/"))
        fix = cells[4]
        safety = "unsafe" if fix.startswith("unsafe") else "safe" if fix.startswith("safe") \
            else None
        rows[cells[0]] = (cells[1], severities, safety)
    return rows


if RULES_MD.is_file():  # defined only where the shared catalog exists (not in a bare CI checkout)
    def test_embedded_catalog_matches_rules_md():
        assert _parse_rules_md(RULES_MD.read_text(encoding="utf-8")) == CATALOG


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_rule_matches_catalog(code):
    name, severities, safety = CATALOG[code]
    rule = BY_CODE.get(code)
    assert rule is not None, f"{code} has no rule module"
    assert rule.name == name
    assert rule.severity.value == severities[0]
    assert rule.fix_safety == safety
    assert lookup(code) is rule and lookup(name) is rule


def test_codes_and_names_unique():
    codes = [r.code for r in ALL_RULES]
    names = [r.name for r in ALL_RULES]
    assert len(codes) == len(set(codes)) and len(names) == len(set(names))


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_rule_documents_itself(rule):
    assert re.fullmatch(r"DL\d{3}", rule.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    assert rule.summary.strip()
    assert rule.fix_safety in (None, "safe", "unsafe")
    doc = rule.doc()
    for section in DOC_SECTIONS:
        assert f"## {section}\n" in doc, f"{rule.code}: missing '## {section}'"
    assert re.search(r"## References\n+- \S", doc), f"{rule.code}: no reference listed"
    if not rule.loader_only and rule.check is not Rule.check:  # findings come from check()
        assert rule.BAD and rule.GOOD, f"{rule.code}: needs BAD and GOOD examples"
        assert "## Example\n```python\n" in doc and "## Use instead\n```python\n" in doc
        for example in rule.BAD + rule.GOOD:
            compile(example, f"<{rule.code} example>", "exec")
