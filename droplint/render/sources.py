"""Source text for code frames: each file read once, never an error (no frame instead)."""
from __future__ import annotations

from pathlib import Path


class Sources:
    def __init__(self, texts: dict[str, str] | None = None):
        self._lines: dict[tuple[str, int | None], list[str] | None] = {}
        self._texts = dict(texts or {})  # given texts (stdin), notebooks included
        for path, text in self._texts.items():
            self._lines[(path, None)] = text.splitlines()

    def lines(self, path: str, cell: int | None = None) -> list[str] | None:
        """The lines of `path` (of its cell `cell` for notebooks: the 1-based position among
        all cells, markdown included, as Jupyter shows them), or None."""
        key = (path, cell)
        if key not in self._lines:
            self._lines[key] = _read(path, cell, self._texts.get(path))
        return self._lines[key]

    def line(self, path: str, line: int, cell: int | None = None) -> str | None:
        lines = self.lines(path, cell)
        if lines is None or not 1 <= line <= len(lines):
            return None
        return lines[line - 1]


def _read(path: str, cell: int | None, text: str | None = None) -> list[str] | None:
    if text is None:
        try:
            data = Path(path).read_bytes()
        except OSError:
            return None
        text = decode_text(data, python=cell is None)
    if cell is None:
        return text.splitlines()
    if cell < 1:
        return None
    try:
        import json  # only for a notebook

        source = json.loads(text)["cells"][cell - 1].get("source", "")
    except (ValueError, AttributeError, IndexError, KeyError, TypeError):
        return None
    return ("".join(source) if isinstance(source, list) else str(source)).splitlines()


def decode_text(data: bytes, python: bool = True) -> str:
    """For display, never an error: a Python file is decoded as Python reads it (PEP 263), a
    notebook as the UTF-8 JSON it is."""
    if python:
        from ..document import DecodeError, decode_source

        try:
            return decode_source(data)[0]
        except DecodeError:
            pass
    return data.decode("utf-8-sig", errors="replace")
