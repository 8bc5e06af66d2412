"""`--format json`: the report object of RULES.md section 3, exactly `Report.to_dict()`."""
from __future__ import annotations

import json

from ..report import Report


def dumps(value) -> str:
    from .escape import json_safe  # no control character reaches a terminal showing it

    return json_safe(json.dumps(value, indent=2, ensure_ascii=False))


def render(report: Report) -> str:
    return dumps(report.to_dict())


def render_statistics(report: Report) -> str:
    from .text import statistics

    return dumps(statistics(report))
