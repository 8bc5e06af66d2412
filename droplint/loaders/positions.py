"""Source positions of the few libcst nodes the loader reports, without metadata providers.

libcst's PositionProvider (~4.5k lines/s here) and QualifiedNameProvider are too slow for the
whole pipeline. Instead the module is generated once with a CodegenState whose
`record_syntactic_position` is a no-op except for the wanted nodes (layer calls, their
arguments, imports): ~50k lines/s against ~17k for parsing, with exactly PositionProvider's
positions, and generation stops after the last statement that holds a wanted node.
"""
from __future__ import annotations

import bisect
from itertools import accumulate

import libcst as cst
from libcst._nodes.internal import CodegenState

from ..graph import Span


class _Null:
    __slots__ = ()

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NULL = _Null()


class _Mark:
    __slots__ = ("state", "key")

    def __init__(self, state, key):
        self.state, self.key = state, key

    def __enter__(self):
        self.state.found[self.key] = [len(self.state.tokens), 0]

    def __exit__(self, *exc):
        self.state.found[self.key][1] = len(self.state.tokens)
        return False


class _PositionState(CodegenState):
    """Codegen that records token indexes only for the wanted nodes."""

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        if id(node) in self.wanted:
            return _Mark(self, id(node))
        return _NULL


class Positions:
    """Character offsets of the wanted nodes, and conversion to 1-based line/column."""

    def __init__(self, module: cst.Module, text: str, wanted: dict[int, cst.CSTNode],
                 statements: int):
        state = _PositionState(default_indent=module.default_indent,
                               default_newline=module.default_newline)
        state.wanted = wanted
        state.found = {}
        # Module._codegen_impl, stopped after the last statement that holds a wanted node:
        # offsets depend only on what comes before.
        for node in module.header:
            node._codegen(state)
        for node in module.body[:statements]:
            node._codegen(state)
        offsets = list(accumulate(map(len, state.tokens), initial=0))
        self.found = {k: (offsets[a], offsets[b]) for k, (a, b) in state.found.items()}
        self.text = text
        self.line_starts = list(accumulate((len(line) + 1 for line in text.split("\n")),
                                           initial=0))

    def offsets(self, node) -> tuple[int, int] | None:
        return self.found.get(id(node))

    def point(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1

    def span(self, start: int, end: int) -> Span:
        return Span(*self.point(start), *self.point(end))

    def node_span(self, node) -> Span | None:
        found = self.found.get(id(node))
        return None if found is None else self.span(*found)
