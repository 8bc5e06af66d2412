"""The source loader: Python text -> Graph, by reading (never running) the code.

One pass over the libcst tree interprets the statements abstractly (no metadata providers):
names are bound to plain values (constants, imported dotted names, layer objects, symbolic
tensors, models; see ../values.py), so that `x = layers.Dropout(0.3)(x)` becomes a Layer, a
Node and an edge. Whatever cannot be known statically is UNKNOWN and never guessed: an
ambiguous producer gives no edge. Control flow: both branches of an unknown condition run
and their bindings merge; a loop with a known count is unrolled (a large one runs twice: the
first iteration, then one standing for the rest), one with an unknown count runs once; a
user function is inlined at each call with its arguments (up to MAX_INLINE), and one never
called is read at the end with its default values; a subclassed model called in a
functional graph, and a subclass of plain `Layer` (a block) wherever it is applied, are
inlined there (`__init__` once per instance, `build`, then `call` on the actual inputs); other
classes are read at the end, `__init__` with the arguments of their only instantiation, `call`
with the input shape their uses agree on.

Positions (1-based, end exclusive, columns in characters) are computed after the pass, only
for the nodes reported (spans.py and ../positions.py say how, and why that way).

Modules, in pipeline order: loader.py (state and driver), statements.py, names.py,
expressions.py, keras_calls.py, models.py, user_code.py, spans.py; syntax.py holds the small
helpers over libcst nodes they share.
"""
from __future__ import annotations

import ast

import libcst as cst

from ...graph import Graph
from .. import SourceError
from ..keras_names import SIGNATURES
from .loader import Loader

__all__ = ["SIGNATURES", "Loader", "load", "syntax_error"]


def syntax_error(text: str, exc: Exception) -> SourceError:
    """A SourceError for text libcst cannot parse. libcst's native parser often reports 1:1,
    so the position (and wording) come from the stdlib compiler when it agrees."""
    try:
        ast.parse(text)
    except SyntaxError as err:
        return SourceError(f"SyntaxError: {err.msg}", err.lineno or 1, err.offset or 1)
    except (ValueError, MemoryError, RecursionError) as err:
        return SourceError(f"SyntaxError: {err}", 1, 1)
    message = getattr(exc, "message", None) or str(exc)
    return SourceError(f"SyntaxError: {message}", getattr(exc, "editor_line", 1),
                       getattr(exc, "editor_column", 1))


def load(text: str, path: str) -> Graph:
    """Parse Python source and describe the Keras networks it builds. Never executes it."""
    if "\r" in text:
        # Python counts a lone CR (classic Mac) as a line break, as CRLF; give the parsers
        # plain LF so that lines and columns are Python's (one break stays one break).
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        module = cst.parse_module(text)
    except (cst.ParserSyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise syntax_error(text, exc) from None
    return Loader(text, path).run(module)
