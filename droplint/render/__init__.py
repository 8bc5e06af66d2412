"""Output formats. A renderer is a pure function `(report, options) -> str | rich.text.Text`:
machine formats return `str` (written as is), human formats return `Text` (printed with colour
when the terminal allows, as plain text otherwise).

Add a format: write its function and add it to FORMATS; `droplint check --format` offers every
key of this table.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..report import Report
from .sources import Sources

if TYPE_CHECKING:
    from rich.text import Text

    Output = str | Text
else:  # rich is imported only where text is rendered (render/text.py, explain.py)
    Output = object


@dataclass
class RenderOptions:
    sources: Sources = field(default_factory=Sources)
    statistics: bool = False  # --statistics: counts per rule instead of each finding


def _text(report: Report, options: RenderOptions) -> Output:
    from . import text

    if options.statistics:
        return text.render_statistics(report)
    return text.render_full(report, options.sources)


def _concise(report: Report, options: RenderOptions) -> Output:
    from . import text

    if options.statistics:
        return text.render_statistics(report)
    return text.render_concise(report)


def _json(report: Report, options: RenderOptions) -> Output:
    from . import json

    if options.statistics:
        return json.render_statistics(report)
    return json.render(report)


def _sarif(report: Report, options: RenderOptions) -> Output:
    from . import sarif

    return sarif.render(report, options.sources)


def _github(report: Report, options: RenderOptions) -> Output:
    from . import github

    return github.render(report)


def _gitlab(report: Report, options: RenderOptions) -> Output:
    from . import gitlab

    return gitlab.render(report, options.sources)


def _junit(report: Report, options: RenderOptions) -> Output:
    from . import junit

    return junit.render(report)


FORMATS: dict[str, Callable[[Report, RenderOptions], Output]] = {
    "text": _text,
    "concise": _concise,
    "json": _json,
    "sarif": _sarif,
    "github": _github,
    "gitlab": _gitlab,
    "junit": _junit,
}


def render(report: Report, format: str, options: RenderOptions | None = None) -> Output:
    return FORMATS[format](report, options or RenderOptions())
