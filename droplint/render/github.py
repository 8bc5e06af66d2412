"""`--format github`: GitHub Actions workflow commands, one line per finding, shown as
annotations on the pull request:

    ::error file=m.py,line=4,col=5,endLine=4,endColumn=17,title=DL101 dropout-on-sequence-input::msg

Severity error -> `::error`, warning -> `::warning`, info -> `::notice`. Notebook findings are
annotated on the file with the cell and line in the message (annotation lines are lines of
the .ipynb JSON, not of a cell).
"""
from __future__ import annotations

from ..report import Finding, Report
from .escape import safe_text

COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(text: str) -> str:
    return safe_text(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(safe_text(text, keep_newlines=False)).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    props = {"file": f.path}
    message = f.message
    if f.cell is not None:
        message = f"cell {f.cell}, line {f.line}: {message}"
    elif f.line is not None:
        props["line"] = str(f.line)
        if f.column is not None:
            props["col"] = str(f.column)
        if f.end_line is not None:
            props["endLine"] = str(f.end_line)
            if f.end_column is not None:
                props["endColumn"] = str(f.end_column)
    elif f.layer_name:
        message = f"layer {f.layer_name!r}: {message}"
    props["title"] = f"{f.code} {f.name}"
    head = ",".join(f"{k}={_escape_property(v)}" for k, v in props.items())
    return f"::{COMMAND[f.severity.value]} {head}::{_escape_data(message)}"


def render(report: Report) -> str:
    return "\n".join(annotation(f) for f in report.findings)
