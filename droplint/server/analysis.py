"""What the language server knows about a document: its findings and sites, from droplint's
source side only (never TensorFlow or Keras), with the settings of the nearest
`[tool.droplint]`.

Plain functions, plain data: `settings_for(path)` -> Settings (or a one-line config error),
`analyze_text` for a Python document, `analyze_cells` for the code cells of a notebook,
checked as one program the way `droplint check` checks an .ipynb file (names defined in an
earlier cell are known in the next; findings come back with the 1-based cell they are in).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ConfigError, Settings, find_pyproject, load
from ..report import Finding, Site


@dataclass
class Analysis:
    """One check of one document (a text document, or a notebook's cells joined)."""

    key: object  # the text (or the cells' texts) it was computed from
    findings: list[Finding] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    path: str = "<untitled>"
    settings: Settings = field(default_factory=Settings)


def settings_for(path: str | None, root: str | None = None) -> tuple[Settings, str | None]:
    """Settings from the nearest pyproject.toml with [tool.droplint] above `path` (or above
    the workspace `root` for an unsaved document); the defaults and a one-line message when
    that file is broken."""
    start = Path(path).parent if path else Path(root) if root else None
    if start is None:
        return Settings(), None
    try:
        return load(find_pyproject(start)), None
    except ConfigError as exc:
        return Settings(), f"droplint: {exc} (using the default settings)"


def analyze_text(text: str, path: str, settings: Settings) -> Analysis:
    """Check one Python document as `droplint check` checks a file with this text."""
    from ..api import analyze_source

    report = analyze_source(text, filename=path, settings=settings)
    return Analysis(text, report.findings, report.sites, path, settings)


def notebook_json(cells: list[tuple[str, str]]) -> bytes:
    """[(kind, source)] -> a minimal nbformat 4 notebook; kind "code" or "markdown". Markdown
    cells are kept so that cell numbers match the client's (all cells, 1-based)."""
    doc = {"cells": [{"cell_type": kind, "metadata": {}, "source": source}
                     | ({"outputs": [], "execution_count": None} if kind == "code" else {})
                     for kind, source in cells],
           "metadata": {"language_info": {"name": "python"}},
           "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(doc).encode("utf-8")


def internal(name: str, *modules: str):
    """`name` from the first of droplint's `modules` that has it. The internals the server
    uses (the notebook check, noqa edits) are being moved between modules; this is the one
    place that knows where to look."""
    from importlib import import_module

    for module in modules:
        try:
            found = getattr(import_module(f"droplint.{module}"), name, None)
        except ImportError:
            continue
        if found is not None:
            return found
    raise ImportError(f"droplint has no {name} in {', '.join(modules)}")


def _check_notebook_bytes(data: bytes, path: str, settings: Settings):
    """A FileResult for notebook content, as `droplint check` checks an .ipynb file."""
    try:
        from ..document import Document
        from ..pipeline import check_document
    except ImportError:
        from ..api import check_data

        return check_data(data, path, settings)
    return check_document(Document.from_bytes(path, data), settings)


def analyze_cells(cells: list[tuple[str, str]], path: str, settings: Settings) -> Analysis:
    """Check a notebook's cells as one program (droplint's notebook loader); every finding
    and site carries `cell` (1-based among all cells) and lines within that cell."""
    if not path.endswith(".ipynb"):
        path += ".ipynb"
    result = _check_notebook_bytes(notebook_json(cells), path, settings)
    return Analysis(tuple(cells), result.findings, result.sites, path, settings)


def noqa_edits(text: str, findings: list[Finding]):
    """The edits that add `# noqa: CODE` comments for `findings` to `text`."""
    return internal("noqa_edits", "add_noqa", "noqa")(text, findings)
