"""Positions of what is reported, filled after the pass.

During the pass the loader only records which libcst nodes it will need (`want`, `want_call`)
and keeps the layers, call arguments, function calls and imports that await positions
(`unplaced_*`). `fill_positions` then computes spans for those nodes only (positions.py says
how) and writes them into the graph's records: a call, its callee name, each argument (with
and without `kw=`, and the span that removes it with one adjacent comma).
"""
from __future__ import annotations

import re

import libcst as cst

from ...graph import Origin, Span
from ..positions import Positions, locate

_KEYWORD = re.compile(r"\w+\s*=\s*")
_TRAILING_COMMA = re.compile(r"[ \t]*,")
_LINE_REST = re.compile(r"[ \t]*,?[ \t]*(#[^\n]*)?\n")


class Spans:
    """Recording wanted nodes and filling their positions after the pass."""

    def want_call(self, call: cst.Call):
        """A call whose position (and its arguments' and callee name's) is reported."""
        if id(call) in self.wanted:
            return
        name = call.func.attr if isinstance(call.func, cst.Attribute) else call.func
        self.want(call, name, call.func, *call.args)
        self.calls.append((call, self.cur_stmt))

    def want(self, *nodes):
        for node in nodes:
            if node is not None:
                self.wanted[id(node)] = node
        self.last_top = max(self.last_top, self.top)

    def fill_positions(self, module: cst.Module):
        if not self.wanted:
            return
        pos: Positions = locate(module, self.text, self.wanted, self.last_top + 1, self.calls,
                                self.imports)
        for origin, call, name_node, arg_nodes, inner_arg in self.unplaced_layers:
            origin.span = pos.node_span(call)
            origin.name_span = pos.node_span(name_node)
            if origin.callee is not None:
                origin.callee_span = pos.node_span(call.func)
            if inner_arg is not None:
                origin.inner_span = self.value_span(pos, inner_arg)
            args = list(call.args)
            for key, arg in arg_nodes.items():
                self.arg_spans(pos, origin, key, arg, args)
        for node, spans in self.unplaced_call_args:
            node.call_spans = {k: pos.node_span(a) for k, a in spans.items()}
        for call, node in self.unplaced_calls:
            call.span = pos.node_span(node)
        for imported, name_node, stmt in self.unplaced_imports:
            imported.span = pos.node_span(name_node)
            imported.statement = pos.node_span(stmt)
            end = pos.offsets(stmt)
            if imported.span is None and imported.name == "*" and end is not None:
                imported.span = pos.span(end[1] - 1, end[1])  # codegen records no `*`

    def value_start(self, pos: Positions, arg: cst.Arg) -> int:
        """Where the value of an argument starts (after `kw=`; parentheses included)."""
        start = pos.offsets(arg)[0]
        if arg.keyword is None:
            return start + len(arg.star)
        match = _KEYWORD.match(self.text, start)
        return match.end() if match else start

    def value_span(self, pos: Positions, arg: cst.Arg) -> Span | None:
        found = pos.offsets(arg)
        return None if found is None else pos.span(self.value_start(pos, arg), found[1])

    def own_lines(self, start: int, end: int) -> tuple[int, int] | None:
        text = self.text
        line_start = text.rfind("\n", 0, start) + 1
        if text[line_start:start].strip():
            return None
        match = _LINE_REST.match(text, end)
        return (line_start, match.end()) if match else None

    def arg_spans(self, pos: Positions, origin: Origin, key, arg, args):
        """`kw=value`, `value`, and `kw=value` with one adjacent comma for removal."""
        found = pos.offsets(arg)
        if found is None:
            return
        start, end = found
        origin.arg_spans[key] = pos.span(start, end)
        origin.arg_value_spans[key] = pos.span(self.value_start(pos, arg), end)
        own_line = self.own_lines(start, end)
        if own_line is not None:  # an argument on lines of its own: remove those lines
            origin.arg_removal_spans[key] = pos.span(*own_line)
            return
        i = next(j for j, a in enumerate(args) if a is arg)
        following = pos.offsets(args[i + 1]) if i + 1 < len(args) else None
        previous = pos.offsets(args[i - 1]) if i > 0 else None
        if following is not None:
            end = following[0]  # `kw=v, ` up to the next argument
        elif previous is not None:
            start = previous[1]  # `, kw=v` after the previous one
        else:  # the only argument: with its trailing comma, if any
            match = _TRAILING_COMMA.match(self.text, end)
            if match:
                end = match.end()
        origin.arg_removal_spans[key] = pos.span(start, end)
