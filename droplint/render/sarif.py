"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run; `tool.driver.rules[]` lists every rule with its documentation; each result has a
repo-relative uri, a region (1-based, end column exclusive, columns in Unicode code points),
`partialFingerprints` that survive lines moving, and the rule's fix (if any) in `fixes[]`.
Notebook findings carry the cell in the message and in `properties` and have no region
(SARIF regions address lines of the .ipynb JSON, not of a cell).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from urllib.parse import quote

from ..version import PROJECT_URL, __version__
from ..report import Finding, Report
from .sources import Sources

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}
SRCROOT = "%SRCROOT%"
FINGERPRINT = "droplint/v1"


def rule_help_uri(rule) -> str | None:
    """The rule's documentation on the project's public home; None while there is none
    (version.PROJECT_URL): no link to a repository that does not exist."""
    if not PROJECT_URL:
        return None
    return f"{PROJECT_URL}/blob/main/rules/{rule.__module__.rsplit('.', 1)[-1]}.py"


def rule_doc_uri(rule) -> str:
    """Where an editor can open the rule's documentation: its public page, else the installed
    rule module (a file:// URI; its docstring is the doc `droplint rule CODE` prints)."""
    import sys

    return rule_help_uri(rule) or Path(sys.modules[rule.__module__].__file__).resolve().as_uri()


def _first_paragraph(rule) -> str:
    """The text of the rule's "What it does" section, as one paragraph."""
    doc = rule.__doc__ or ""
    m = re.search(r"## What it does\s*\n(.*?)(?:\n\s*\n|\n\s*##|\Z)", doc, re.S)
    return " ".join((m.group(1) if m else rule.summary).split())


def sarif_rule(rule) -> dict:
    doc = rule.doc()
    entry = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _first_paragraph(rule)},
        "help": {"text": doc, "markdown": doc},  # the whole doc: no link needed to read it
        "defaultConfiguration": {"level": LEVEL[rule.severity.value]},
        "properties": {"fix": rule.fix_safety or "none", "tags": ["dropout", "keras"]},
    }
    uri = rule_help_uri(rule)
    if uri:
        entry["helpUri"] = uri
    return entry


def find_root(start: Path | None = None) -> Path:
    """The repository root (the nearest folder with .git above the working directory), or the
    working directory: SARIF uris are relative to it."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def relative_uri(path: str, root: Path) -> str:
    p = Path(path)
    absolute = p if p.is_absolute() else Path.cwd() / p
    try:
        rel = Path(os.path.normpath(absolute)).relative_to(root)
    except ValueError:
        return Path(os.path.normpath(absolute)).as_uri()
    return quote(rel.as_posix())


def _not_a_file(path: str) -> bool:
    """`<model>` (a model object passed to analyze), `-` (stdin without --stdin-filename)."""
    return path == "-" or path.startswith("<") and path.endswith(">")


def _normalized_message(message: str) -> str:
    """The message without line/cell numbers, so that moving code keeps the fingerprint."""
    return re.sub(r"\b(line|cell)s? \d+|:\d+(:\d+)?", r"\1 #", " ".join(message.split()))


def fingerprint(f: Finding, uri: str, line_text: str | None) -> str:
    parts = [f.code, uri, f.layer or "", f.layer_name or "", f.severity.value,
             " ".join((line_text or "").split()), _normalized_message(f.message)]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


def _region(line: int, column: int | None, end_line: int | None, end_column: int | None
            ) -> dict:
    region = {"startLine": line, "startColumn": column or 1}
    if end_line is not None:
        region["endLine"] = end_line
        if end_column is not None:
            region["endColumn"] = end_column
    return region


def _fixes(f: Finding, artifact: dict) -> list[dict]:
    if f.fix is None or not f.fix.edits or f.cell is not None:
        return []
    replacements = [{"deletedRegion": _region(e.line, e.column, e.end_line, e.end_column),
                     "insertedContent": {"text": e.content}} for e in f.fix.edits]
    return [{"description": {"text": f"{f.fix.description} ({f.fix.applicability} fix)"},
             "artifactChanges": [{"artifactLocation": artifact, "replacements": replacements}]}]


def _message(text: str, help: str | None) -> dict:
    """The finding's sentence as text; with its help, also as markdown (sentence, then help)."""
    if not help:
        return {"text": text}
    return {"text": text, "markdown": f"{text}\n\n{help}"}


def sarif_result(f: Finding, rule_index: dict[str, int], root: Path, sources: Sources,
                 seen: dict[str, int]) -> dict:
    uri = relative_uri(f.path, root)
    artifact = {"uri": uri} if "://" in uri else {"uri": uri, "uriBaseId": SRCROOT}
    message = f.message if f.cell is None else f"cell {f.cell}, line {f.line}: {f.message}"
    physical: dict = {"artifactLocation": artifact}
    if f.line is not None and f.cell is None:
        physical["region"] = _region(f.line, f.column, f.end_line, f.end_column)
    location: dict = {} if _not_a_file(f.path) else {"physicalLocation": physical}
    if f.layer_name:
        location["logicalLocations"] = [{"name": f.layer_name, "kind": "object"}]
    line_text = sources.line(f.path, f.line, f.cell) if f.line is not None else None
    digest = fingerprint(f, uri, line_text)
    seen[digest] = seen.get(digest, 0) + 1
    result = {
        "ruleId": f.code,
        "ruleIndex": rule_index[f.code],
        "level": LEVEL[f.severity.value],
        "message": _message(message, f.help),
        "locations": [location],
        "partialFingerprints": {FINGERPRINT: f"{digest}:{seen[digest]}"},
        "properties": {"name": f.name, "severity": f.severity.value},
    }
    for key in ("layer", "layer_name", "site", "cell", "line", "column"):
        value = getattr(f, key)
        if value is not None and (key not in ("line", "column") or f.cell is not None):
            result["properties"][key] = value
    fixes = _fixes(f, artifact)
    if fixes:
        result["fixes"] = fixes
    return result


def to_sarif(report: Report, sources: Sources | None = None, root: Path | None = None) -> dict:
    from droplint.rules import ALL_RULES

    sources = sources or Sources()
    root = root or find_root()
    rule_index = {r.code: i for i, r in enumerate(ALL_RULES)}
    seen: dict[str, int] = {}
    results = [sarif_result(f, rule_index, root, sources, seen) for f in report.findings]
    invocation: dict = {"executionSuccessful": not report.errors}
    if report.errors:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": e}} for e in report.errors]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "droplint",
                "version": __version__,
                "semanticVersion": __version__,
                **({"informationUri": PROJECT_URL} if PROJECT_URL else {}),
                "rules": [sarif_rule(r) for r in ALL_RULES],
            }},
            "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "invocations": [invocation],
            "results": results,
            "properties": {"keras": report.keras, "keras_source": report.keras_source},
        }],
    }


def render(report: Report, sources: Sources | None = None) -> str:
    from .escape import json_safe

    return json_safe(json.dumps(to_sarif(report, sources), indent=2, ensure_ascii=False))
