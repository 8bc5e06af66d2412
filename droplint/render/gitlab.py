"""`--format gitlab`: GitLab Code Quality JSON (a list of issues), shown in merge requests:

    [{"description": "DL101 ...", "check_name": "DL101", "fingerprint": "...",
      "severity": "info", "location": {"path": "m.py", "lines": {"begin": 4}}}]

Severity: error -> major, warning -> minor, info -> info (DL900/DL901, a file droplint could
not read, -> critical). Paths are relative to the repository root, as GitLab wants them; the
fingerprint is SARIF's (stable when lines move), numbered when a file repeats one.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

from ..report import Finding, Report
from .escape import safe_text
from .sarif import find_root, fingerprint, relative_uri
from .sources import Sources

SEVERITY = {"error": "major", "warning": "minor", "info": "info"}
UNREADABLE = ("DL900", "DL901")


def issue(f: Finding, root: Path, sources: Sources, seen: dict[str, int]) -> dict:
    uri = relative_uri(f.path, root)
    path = unquote(uri) if "://" not in uri else f.path
    line_text = sources.line(f.path, f.line, f.cell) if f.line is not None else None
    digest = fingerprint(f, uri, line_text)
    seen[digest] = seen.get(digest, 0) + 1
    where = f"cell {f.cell}, line {f.line}: " if f.cell is not None else ""
    if f.line is None and f.layer_name:
        where = f"layer {f.layer_name!r}: "
    message = safe_text(" ".join(f.message.split()), keep_newlines=False)
    return {
        "description": f"{f.code} {where}{message}",
        "check_name": f.code,
        "fingerprint": f"{digest}{seen[digest]:04d}",
        "severity": "critical" if f.code in UNREADABLE else SEVERITY[f.severity.value],
        "location": {"path": path,
                     "lines": {"begin": f.line if f.line is not None and f.cell is None
                               else 1}},
    }


def to_gitlab(report: Report, sources: Sources | None = None, root: Path | None = None
              ) -> list[dict]:
    sources = sources or Sources()
    root = root or find_root()
    seen: dict[str, int] = {}
    return [issue(f, root, sources, seen) for f in report.findings]


def render(report: Report, sources: Sources | None = None) -> str:
    from .escape import json_safe

    return json_safe(json.dumps(to_gitlab(report, sources), indent=2, ensure_ascii=False))
