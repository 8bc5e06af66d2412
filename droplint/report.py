"""Findings, sites and the report: typed objects whose `to_dict()` is the JSON contract
of RULES.md section 3. Keys may be added, never removed or renamed."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .graph import Span
from .version import __version__


def set_keys(obj, *names: str) -> dict[str, Any]:
    """The named attributes of `obj` that are set (not None), in that order: JSON keys that
    appear only when they have a value."""
    return {name: value for name in names if (value := getattr(obj, name)) is not None}


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text in [line:column, end_line:end_column) with `content`."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str
    cell: int | None = None  # notebooks: the 1-based cell the lines are in

    @classmethod
    def replace(cls, span: Span, content: str) -> Edit:
        return cls(span.line, span.column, span.end_line, span.end_column, content)

    @classmethod
    def insert(cls, line: int, column: int, content: str) -> Edit:
        return cls(line, column, line, column, content)

    def to_dict(self) -> dict[str, Any]:
        d = {"line": self.line, "column": self.column, "end_line": self.end_line,
             "end_column": self.end_column, "content": self.content}
        if self.cell is not None:
            d["cell"] = self.cell
        return d


@dataclass(frozen=True, slots=True)
class Fix:
    applicability: str  # "safe" | "unsafe"
    description: str
    edits: tuple[Edit, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"applicability": self.applicability, "description": self.description,
                "edits": [e.to_dict() for e in self.edits]}


@dataclass(slots=True)
class Site:
    """One application of a dropout, or one dropout argument of a recurrent layer."""

    id: int
    path: str
    line: int | None
    column: int | None
    layer: str
    argument: str | None  # None, "dropout" or "recurrent_dropout"
    rate: float | None
    input_shape: list | None
    mask_shape: list | None
    drops: str
    per_sample: bool | None
    over_time: str | None
    masks: int | None
    layer_name: str | None = None
    description: str = ""  # what is masked, in plain words
    keras: str | None = None  # the Keras version this explanation assumes
    cell: int | None = None  # notebooks: 1-based cell; `line` is then within that cell
    probe: dict | None = None  # `probe`: what running the layer measured (droplint.probe)

    def to_dict(self) -> dict[str, Any]:
        d = {"id": self.id, "path": self.path, "line": self.line, "column": self.column,
             "layer": self.layer, "argument": self.argument, "rate": self.rate,
             "input_shape": self.input_shape, "mask_shape": self.mask_shape,
             "drops": self.drops, "per_sample": self.per_sample,
             "over_time": self.over_time, "masks": self.masks,
             "description": self.description, "keras": self.keras}
        return d | set_keys(self, "layer_name", "cell", "probe")


@dataclass(slots=True)
class Finding:
    code: str
    name: str
    severity: Severity
    path: str
    line: int | None
    column: int | None
    end_line: int | None
    end_column: int | None
    message: str
    layer: str | None = None
    site: int | None = None
    fix: Fix | None = None
    layer_name: str | None = None
    cell: int | None = None
    help: str | None = None  # the why and the alternatives; `message` says what is wrong here
    fix_refused: str | None = None  # why there is no automatic fix (JSON key only when set)

    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.line or 0, self.column or 0, self.code,
                self.layer_name or "")

    def to_dict(self) -> dict[str, Any]:
        d = {"code": self.code, "name": self.name, "severity": self.severity.value,
             "path": self.path, "line": self.line, "column": self.column,
             "end_line": self.end_line, "end_column": self.end_column,
             "layer": self.layer, "site": self.site, "message": self.message,
             "help": self.help, "fix": self.fix.to_dict() if self.fix else None}
        return d | set_keys(self, "layer_name", "cell", "fix_refused")


@dataclass(slots=True)
class Report:
    keras: str
    keras_source: str  # "config" | "installed" | "default"
    findings: list[Finding] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files_checked: int = 0
    notes: list[str] = field(default_factory=list)  # what could not be known (built models)

    def to_dict(self) -> dict[str, Any]:
        return {"droplint": __version__, "keras": self.keras, "keras_source": self.keras_source,
                "findings": [f.to_dict() for f in self.findings],
                "sites": [s.to_dict() for s in self.sites],
                "errors": list(self.errors), "notes": list(self.notes)}

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    # No import cycle: render/plain.py and render/html.py read a report only through its
    # attributes and never import this module, so importing them here, inside the methods, keeps
    # the one direction report <- render (import-cycles.py counts 0).
    def __str__(self) -> str:
        """The concise text: one line per finding, the notes, the summary (no colour)."""
        from .render.plain import concise

        return concise(self)

    def _repr_html_(self) -> str:
        """Jupyter: the findings as a table and each dropout site's mask as an SVG figure."""
        from .render.html import fragment

        return fragment(self)
