"""One input to check, whatever its kind: a `Document`.

The kind is decided here and nowhere else (`kind_of`): a Python file, a notebook, Python read
from stdin, a model file, or a built model object. A document keeps what was read (the raw
bytes) and, once `decoded()`, the text rules and fixes work on:

- Python: the source decoded as Python reads it (PEP 263), and its encoding; a file whose
  only line breaks are lone CRs gets "\n" in `text` (same lines and columns) and CRs back on
  writing;
- a notebook: its code cells joined into one program (loaders/notebook.py: IPython lines
  masked, a marker line between cells), with the mapping back to cells (`program`).

`with_text(new_text)` is the same document with its text edited and `to_bytes()` its content:
the file re-encoded for Python; for a notebook, only the bytes of the changed cells' `source`
values replaced (the rest of the file byte for byte: loaders/notebook_splice.py). The
fixer and `--add-noqa` edit every kind of text document through these two.
"""
from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass, replace
from pathlib import Path

from .loaders import NOTEBOOK_SUFFIXES
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the notebook loader (and json) is imported only for a notebook
    from .loaders import notebook as nbformat

PYTHON = "python"
NOTEBOOK = "notebook"
STDIN_PYTHON = "stdin-python"
MODEL_FILE = "model-file"
BUILT_MODEL = "built-model"
TEXT_KINDS = frozenset({PYTHON, NOTEBOOK, STDIN_PYTHON})


class DocumentError(ValueError):
    """A document cannot be read or decoded: a one-line message and where (DL900)."""

    def __init__(self, message: str, line: int | None = 1, column: int | None = 1):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


DecodeError = DocumentError  # the name decode_source's callers know


def kind_of(path: str, *, stdin: bool = False) -> str:
    """The one place that decides what a path holds (from its name; a model directory by
    its saved_model.pb)."""
    if path.endswith(NOTEBOOK_SUFFIXES):
        return NOTEBOOK
    if stdin:
        return STDIN_PYTHON
    from .discover import is_model_path

    return MODEL_FILE if is_model_path(path) else PYTHON


def decode_source(data: bytes) -> tuple[str, str]:
    """Python source bytes -> (text, encoding), decoded as Python reads them (PEP 263: a UTF-8
    BOM, or a `# -*- coding: ... -*-` line, else UTF-8). `text.encode(encoding)` writes it
    back the same way (BOM included). Raises DocumentError with a one-line reason."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # unknown encoding, or a BOM with another coding cookie
        from .budgets import wide_bom

        bom = wide_bom(data)
        why = (f"a {bom} byte order mark: Python reads source files as UTF-8 unless a "
               "coding line says otherwise" if bom else exc.msg if hasattr(exc, "msg") else exc)
        raise DocumentError(f"cannot decode file: {why}") from None
    from .budgets import codec_problem, wide_bom

    problem = codec_problem(encoding)
    if problem:  # what Python says too: rot13, hex, zlib, utf-16 cookies
        raise DocumentError(f"cannot decode file: {problem}") from None
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding in ("utf-8", "utf-8-sig") else encoding
        bom = wide_bom(data)
        hint = f" (a {bom} byte order mark: Python reads source files as UTF-8)" if bom else ""
        raise DocumentError(f"cannot decode file as {name}: {exc.reason} at byte "
                            f"{exc.start}{hint}") from None
    except (UnicodeError, LookupError, ValueError, TypeError) as exc:  # punycode, undefined
        raise DocumentError(f"cannot decode file: encoding problem: {encoding} "
                            f"({type(exc).__name__})") from None


@dataclass(frozen=True)
class Document:
    path: str
    kind: str
    raw: bytes | None = None  # the content as read (None: a built model, or a model file)
    text: str | None = None  # once decoded: the Python text (a notebook: its program)
    encoding: str | None = None  # Python: how `text` is written back
    newline: str | None = None  # "\r": a lone-CR file, whose `text` has "\n" line breaks
    notebook: nbformat.Notebook | None = None  # the notebook's JSON document
    program: nbformat.Program | None = None  # a notebook's code cells as one text
    model: object = None  # a built model object
    changes: tuple = ()  # after with_text on a notebook: (cell, before, after) per changed cell

    # --- making documents -----------------------------------------------------------------

    @classmethod
    def from_bytes(cls, path: str, data: bytes, *, stdin: bool = False) -> Document:
        return cls(path, kind_of(path, stdin=stdin), raw=data)

    @classmethod
    def from_path(cls, path: str) -> Document:
        """A document on disk; a model file is not read here (Keras loads it). Raises
        DocumentError when the file cannot be read."""
        kind = kind_of(path)
        if kind == MODEL_FILE:
            return cls(path, kind)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise DocumentError(f"cannot read file: {exc.strerror or exc}") from None
        return cls(path, kind, raw=data)

    @classmethod
    def from_text(cls, text: str, path: str = "<string>") -> Document:
        """Python source already decoded (analyze_source)."""
        return cls(path, PYTHON, text=text, encoding="utf-8")

    @classmethod
    def from_model(cls, model, path: str | None = None) -> Document:
        """A built model; `path` defaults to loaders.model.MODEL_PATH (imported here: the
        model loader is not needed for text documents)."""
        if path is None:
            from .loaders.model import MODEL_PATH  # the path of a built model in reports

            path = MODEL_PATH
        return cls(path, BUILT_MODEL, model=model)

    # --- reading --------------------------------------------------------------------------

    @property
    def is_text(self) -> bool:
        return self.kind in TEXT_KINDS

    @property
    def is_notebook(self) -> bool:
        return self.kind == NOTEBOOK

    def decoded(self) -> Document:
        """This document with `text` set (a no-op when it is). Raises DocumentError for bytes
        that are not valid in the file's encoding, or a notebook that is not one."""
        if self.text is not None or not self.is_text:
            return self
        if self.is_notebook:
            from .loaders import notebook as nbformat

            try:
                nb = nbformat.read(self.raw)
            except nbformat.NotebookError as exc:
                raise DocumentError(exc.message, exc.line, exc.column) from None
            prog = nbformat.program(nb)
            return replace(self, text=prog.text, notebook=nb, program=prog)
        text, encoding = decode_source(self.raw)
        if "\r" in text and "\n" not in text:  # lone-CR line breaks: "\n" for rules and fixes
            return replace(self, text=text.replace("\r", "\n"), encoding=encoding,
                           newline="\r")
        return replace(self, text=text, encoding=encoding)

    def write_problem(self) -> str | None:
        """Why an edited text of this document could not be written back (its PEP 263
        encoding does not round-trip: unicode_escape, raw_unicode_escape...), or None."""
        if self.is_notebook or not self.is_text or self.encoding is None:
            return None
        from .safe_write import codec_round_trips

        if codec_round_trips(self.encoding):
            return None
        return f"the file's encoding {self.encoding} does not round-trip"

    def _encode(self, text: str) -> bytes:
        if self.newline == "\r":
            text = text.replace("\n", "\r")
        return text.encode(self.encoding or "utf-8")

    # --- editing --------------------------------------------------------------------------

    def with_text(self, new_text: str) -> Document:
        """The same document with its (decoded) text replaced. A notebook gets only its
        changed cells' source replaced; an edit that cannot be mapped back to the cells (a
        moved cell boundary or IPython line) leaves it unchanged (`changes` empty)."""
        doc = self.decoded()
        if new_text == doc.text:
            return replace(doc, changes=())
        if not doc.is_notebook:
            return replace(doc, text=new_text, raw=doc._encode(new_text))
        from .loaders import notebook as nbformat

        data, changes = nbformat.rewrite(doc.raw, doc.notebook, doc.program, new_text)
        if not changes:
            return replace(doc, changes=())
        return replace(doc, raw=data, text=None, notebook=None, program=None,
                       changes=tuple(changes))

    def to_bytes(self) -> bytes:
        """The document's content: what was read, or what the edits made of it."""
        if self.raw is not None:
            return self.raw
        if self.text is not None:
            return self._encode(self.text)
        raise ValueError(f"{self.kind} document {self.path} has no content to write")
