"""What an editor (the language server, the IPython extension) knows about a document: its
findings, sites and safe fixes, from droplint's source side only (never TensorFlow or Keras),
with the settings of the nearest `[tool.droplint]`.

Plain functions, plain data: `settings_for(path)` -> Settings (or a one-line config error),
`analyze_text` for a Python document, `analyze_cells` for the code cells of a notebook,
checked as one program the way `droplint check` checks an .ipynb file (names defined in an
earlier cell are known in the next; findings come back with the 1-based cell they are in);
`fixed_text` / `fixed_cells` for "fix all"; `noqa_edits` (add_noqa's) for `# noqa` actions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .add_noqa import noqa_edits
from .api import analyze_source
from .config import ConfigError, Settings, find_pyproject, load
from .document import Document
from .fixing import fix_data, fix_text
from .pipeline import check_document
from .report import Finding, Site

__all__ = ["Analysis", "analyze_cells", "analyze_text", "fixed_cells", "fixed_text",
           "noqa_edits", "notebook_json", "settings_for"]


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


def analyze_cells(cells: list[tuple[str, str]], path: str, settings: Settings) -> Analysis:
    """Check a notebook's cells as one program (droplint's notebook loader); every finding
    and site carries `cell` (1-based among all cells) and lines within that cell."""
    path = _notebook_path(path)
    result = check_document(Document.from_bytes(path, notebook_json(cells)), settings)
    return Analysis(tuple(cells), result.findings, result.sites, path, settings)


def fixed_text(text: str, path: str, settings: Settings) -> str:
    """`text` with every safe fix applied, as `droplint check --fix` applies them."""
    return fix_text(text, lambda t: analyze_text(t, path, settings)).text


def fixed_cells(cells: list[tuple[str, str]], path: str, settings: Settings) -> list[str]:
    """The sources of all cells after every safe fix, as `droplint check --fix` fixes the
    notebook (one fix may edit several cells: an import in one, the call in another)."""
    done = fix_data(notebook_json(cells), _notebook_path(path), settings)
    if not done.changed:
        return [source for _, source in cells]
    return [src if isinstance(src := c.get("source", ""), str) else "".join(src)
            for c in json.loads(done.after)["cells"]]


def _notebook_path(path: str) -> str:
    return path if path.endswith(".ipynb") else path + ".ipynb"
