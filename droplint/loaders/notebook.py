"""Jupyter notebooks (.ipynb, nbformat 4): the code cells checked as one program.

The code cells are joined, in order, into one Python text (a `Program`) with a marker line
between cells, so that names defined in one cell are known in the next. IPython syntax
(`%magic`, `%%cell magic`, `!shell`, `x = !cmd`, `obj?`) is replaced by placeholder lines
(`pass  # ...`, same indentation), so each cell keeps its line numbers and columns; a cell's
common leading indentation is removed first, as IPython does (columns are shifted back when
mapped to the cell, and the indentation is put back when the cell is rewritten). Findings
and sites are then mapped back to (cell, line): `cell` is the 1-based position among ALL
cells, markdown included, as Jupyter shows them.

Fixes and `--add-noqa` edit the Program's text (through document.Document.with_text);
`Program.cell_sources` splits it back into cells and puts the IPython lines back, and only the
bytes of the changed cells' `source` values are replaced in the file (notebook_splice.py: the
rest of the JSON, its layout, escapes, line endings and number spellings, byte for byte).

This module is the notebook format only: it checks nothing (droplint/pipeline.py checks the
program and maps the findings back with `finding_to_cells`).
"""
from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass, field, replace

from ..report import Finding, Site

CELL_BREAK = "# ---- droplint: next notebook cell ----"
PLACEHOLDER = "pass  # droplint: IPython syntax"
# Cell magics whose body is Python; the body of any other (%%bash, %%html...) is not checked.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit"})
_ASSIGN_MAGIC = re.compile(r"[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[!%]")
_HELP = re.compile(r"[?]{0,2}[A-Za-z_][\w.]*[?]{0,2}\s*$")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")


class NotebookError(ValueError):
    def __init__(self, message: str, line: int | None = 1, column: int | None = 1):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


# --- IPython syntax -------------------------------------------------------------------------

def _is_ipython(rest: str) -> bool:
    """`rest`: a logical line from its first token on."""
    if rest.startswith(("%", "!", "?")) or _ASSIGN_MAGIC.match(rest):
        return True
    return rest.rstrip().endswith("?") and _HELP.match(rest) is not None


def _first_ipython_line(lines: list[str]) -> int | None:
    """Index of the first physical line that starts a logical line with IPython syntax.
    Python's tokenizer tells logical line starts apart from continuation lines and strings."""
    at_start = True
    skip = (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING)
    try:
        for tok in tokenize.generate_tokens(io.StringIO("".join(lines)).readline):
            if tok.type in skip:
                continue
            if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                at_start = True
                continue
            if at_start:
                row = tok.start[0] - 1
                if _is_ipython(lines[row][tok.start[1]:]):
                    return row
                at_start = False
    except (tokenize.TokenError, SyntaxError):
        pass  # the parse reports it (DL900)
    return None


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" \t"))]


def _placeholder(line: str, pad: str = "") -> str:
    return pad + PLACEHOLDER + line[len(line.rstrip("\r\n")):]


def mask_ipython(source: str) -> tuple[str, list[str]]:
    """Replace IPython lines by placeholders. Returns the Python text (same line count) and
    the original lines replaced, in order (to put back after an edit)."""
    lines = _LINE.findall(source)
    replaced: dict[int, str] = {}
    if lines and lines[0].startswith("%%"):
        magic = lines[0][2:].split(maxsplit=1)[0] if lines[0][2:].strip() else ""
        body = range(1) if magic in PYTHON_CELL_MAGICS else range(len(lines))
        for i in body:
            replaced[i] = lines[i]
            lines[i] = _placeholder(lines[i])
    for _ in range(len(lines)):
        row = _first_ipython_line(lines)
        if row is None:
            break
        pad = _indent(lines[row])
        while True:  # a backslash continues an IPython line onto the next
            replaced[row] = lines[row]
            lines[row] = _placeholder(lines[row], pad)
            if not replaced[row].rstrip("\r\n").endswith("\\") or row + 1 >= len(lines):
                break
            row += 1
    return "".join(lines), [replaced[i] for i in sorted(replaced)]


_LEADING = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class Indent:
    """A cell's common leading indentation, removed as IPython removes it (the first non-blank
    line's, from every line that starts with it): `prefix`, the 0-based lines that had it,
    and the cell's line count (to put it back after an edit that keeps the lines)."""

    prefix: str = ""
    lines: frozenset[int] = frozenset()
    count: int = 0

    def shift(self, line: int) -> int:
        """Columns to add to a 1-based line of the dedented cell to get the cell's own."""
        return len(self.prefix) if line - 1 in self.lines else 0


def strip_leading_indent(source: str) -> tuple[str, Indent]:
    """IPython's leading-indent cleanup (`inputtransformer2.leading_indent`, after leading
    blank lines): a cell whose first line is indented runs in Jupyter."""
    lines = _LINE.findall(source)
    first = next((line for line in lines if line.strip()), None)
    match = _LEADING.match(first) if first is not None else None
    if match is None:
        return source, Indent()
    prefix = match.group(0)
    stripped = frozenset(i for i, line in enumerate(lines) if line.startswith(prefix))
    text = "".join(line[len(prefix):] if i in stripped else line for i, line in enumerate(lines))
    return text, Indent(prefix, stripped, len(lines))


def restore_indent(text: str, indent: Indent) -> str | None:
    """Put a cell's leading indentation back (None if an edit changed its line count)."""
    if not indent.prefix:
        return text
    lines = _LINE.findall(text)
    if len(lines) != indent.count:
        return None
    return "".join(indent.prefix + line if i in indent.lines else line
                   for i, line in enumerate(lines))


def cell_code(source: str) -> tuple[str, list[str], Indent]:
    """A code cell's Python: leading indentation removed, then IPython lines masked."""
    text, indent = strip_leading_indent(source)
    code, originals = mask_ipython(text)
    return code, originals, indent


def unmask_ipython(text: str, originals: list[str]) -> str | None:
    """Put the IPython lines back (None if an edit removed or added a placeholder)."""
    lines = _LINE.findall(text)
    slots = [i for i, line in enumerate(lines) if line.strip() == PLACEHOLDER]
    if len(slots) != len(originals):
        return None
    for i, original in zip(slots, originals):
        ending = lines[i][len(lines[i].rstrip("\r\n")):]
        lines[i] = original.rstrip("\r\n") + ending
    return "".join(lines)


# --- the notebook file ----------------------------------------------------------------------

@dataclass
class Notebook:
    data: dict  # the JSON document
    raw: str  # its text as read

    @property
    def cells(self) -> list[dict]:
        return self.data["cells"]

    def language(self) -> str | None:
        meta = self.data.get("metadata") or {}
        info = meta.get("language_info") or {}
        kernel = meta.get("kernelspec") or {}
        lang = info.get("name") or kernel.get("language") if isinstance(info, dict) \
            and isinstance(kernel, dict) else None
        return lang.lower() if isinstance(lang, str) else None


def source_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def read(data: bytes) -> Notebook:
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"cannot decode notebook as UTF-8: {exc.reason} at byte "
                            f"{exc.start}") from None
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"invalid notebook JSON: {exc.msg}", exc.lineno, exc.colno) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise NotebookError("not a Jupyter notebook in nbformat 4: no `cells` list "
                            "(convert older notebooks with `jupyter nbconvert --to notebook`)")
    for n, cell in enumerate(doc["cells"], 1):
        source = cell.get("source", "") if isinstance(cell, dict) else None
        ok = isinstance(source, str) or (isinstance(source, list)
                                         and all(isinstance(s, str) for s in source))
        if not ok:
            raise NotebookError(f"cell {n}: `source` must be a string or a list of strings")
    return Notebook(doc, raw)


# --- the program: code cells as one text ----------------------------------------------------

@dataclass
class Program:
    text: str
    cells: list[int] = field(default_factory=list)  # 1-based cell number of each code cell
    starts: list[int] = field(default_factory=list)  # first program line of each code cell
    ipython: list[list[str]] = field(default_factory=list)  # masked lines, per code cell
    added_newline: list[bool] = field(default_factory=list)
    indents: list[Indent] = field(default_factory=list)  # leading indentation, per code cell

    def _index(self, line: int) -> int:
        k = 0
        for i, start in enumerate(self.starts):
            if start <= line:
                k = i
        return k

    def locate(self, line: int) -> tuple[int, int]:
        """Program line -> (cell number, line within the cell)."""
        k = self._index(line)
        return self.cells[k], line - self.starts[k] + 1

    def shift(self, line: int) -> int:
        """Columns to add on program line `line` for the cell's own columns (a cell whose
        leading indentation was removed)."""
        if not self.indents:
            return 0
        k = self._index(line)
        return self.indents[k].shift(line - self.starts[k] + 1)

    def cell_sources(self, text: str) -> list[str] | None:
        """Split an edited program text back into the code cells' sources (IPython lines put
        back); None if the edit moved a cell boundary or a placeholder."""
        parts: list[list[str]] = [[]]
        for line in _LINE.findall(text):
            if line.rstrip("\r\n") == CELL_BREAK:
                parts.append([])
            else:
                parts[-1].append(line)
        if len(parts) != len(self.cells):
            return None
        out = []
        indents = self.indents or [Indent()] * len(parts)
        for lines, originals, added, indent in zip(parts, self.ipython, self.added_newline,
                                                   indents):
            body = unmask_ipython("".join(lines), originals)
            if body is None:
                return None
            if added and body.endswith("\n"):
                body = body[:-1]
            body = restore_indent(body, indent)
            if body is None:
                return None
            out.append(body)
        return out


def program(nb: Notebook, blank: frozenset[int] = frozenset()) -> Program:
    """Join the code cells; cells numbered in `blank` become placeholders only (a cell that
    does not parse, so that the others are still checked)."""
    prog = Program("")
    chunks: list[str] = []
    line = 1
    for n, cell in enumerate(nb.cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = source_text(cell)
        indent = Indent()
        if n in blank:
            code, originals = mask_ipython("%%skip\n" + source)
            code, originals = code.split("\n", 1)[1], originals[1:]
        else:
            code, originals, indent = cell_code(source)
        added = not code.endswith("\n")
        if added:
            code += "\n"
        if chunks:
            chunks.append(CELL_BREAK + "\n")
            line += 1
        prog.cells.append(n)
        prog.starts.append(line)
        prog.ipython.append(originals)
        prog.added_newline.append(added)
        prog.indents.append(indent)
        chunks.append(code)
        line += code.count("\n")
    prog.text = "".join(chunks)
    return prog


def finding_to_cells(f: Finding, prog: Program) -> Finding:
    """A finding in program coordinates -> in cell coordinates (fix edits too)."""
    if f.line is None:
        return f
    if f.column is not None:
        f.column += prog.shift(f.line)
    if f.end_line is not None and f.end_column is not None:
        f.end_column += prog.shift(f.end_line)
    f.cell, f.line = prog.locate(f.line)
    if f.end_line is not None:
        end_cell, end_line = prog.locate(f.end_line)
        f.end_line, f.end_column = (end_line, f.end_column) if end_cell == f.cell \
            else (f.line, None)
    if f.fix is not None:
        edits = []
        for e in f.fix.edits:
            cell, line = prog.locate(e.line)
            end_cell, end_line = prog.locate(e.end_line)
            if end_cell != cell:
                f.fix = None  # an edit across cells cannot be written back
                break
            edits.append(replace(e, line=line, end_line=end_line, cell=cell,
                                 column=e.column + prog.shift(e.line),
                                 end_column=e.end_column + prog.shift(e.end_line)))
        else:
            f.fix = replace(f.fix, edits=tuple(edits))
    return f


def site_to_cells(s: Site, prog: Program) -> Site:
    """A site in program coordinates -> in cell coordinates."""
    if s.line is not None:
        if s.column is not None:
            s.column += prog.shift(s.line)
        s.cell, s.line = prog.locate(s.line)
    return s


# --- rewriting (fixes, --add-noqa) ----------------------------------------------------------

def rewrite(raw: bytes, nb: Notebook, prog: Program,
            new_text: str) -> tuple[bytes, list[tuple[int, str, str]]]:
    """Write an edited program text back into the notebook file `raw` (its bytes as read).
    Returns the new file bytes and (cell, before, after) for each changed cell; `raw` itself
    when nothing changed or the edit cannot be mapped back. Only the bytes of the changed
    cells' `source` values change (notebook_splice.py); the rest of the file stays as it was."""
    from .notebook_splice import splice_sources

    sources = prog.cell_sources(new_text)
    changes = []
    if sources is not None:
        for n, new in zip(prog.cells, sources):
            old = source_text(nb.cells[n - 1])
            if new != old:
                changes.append((n, old, new))
    if not changes:
        return raw, []
    data = splice_sources(raw, {n - 1: new for n, _old, new in changes})
    if data is None:
        return raw, []
    return data, changes
