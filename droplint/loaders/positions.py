"""Source positions of the few libcst nodes the loader reports, without metadata providers.

Measured here (per line, parse ~17k lines/s): libcst's PositionProvider ~4.5k lines/s and
QualifiedNameProvider ~2k are far too slow; generating the module once with a CodegenState
that records only the wanted nodes costs ~50k lines/s (a third of the parse on dense model
files); the stdlib parser runs at ~100k lines/s. So positions come from the stdlib tree,
paired with the libcst nodes statement by statement and call by call (AstPositions), and the
codegen pass (CodegenPositions, exact by construction) is the fallback whenever a pairing is
not certain. Both give PositionProvider's syntactic ranges; a test checks they agree.
"""
from __future__ import annotations

import ast
import bisect
from itertools import accumulate

import libcst as cst
from libcst._nodes.internal import CodegenState

from ..budgets import stdlib_tree
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

    def __init__(self, text: str):
        self.text = text
        self.line_starts = list(accumulate((len(line) + 1 for line in text.split("\n")),
                                           initial=0))
        self.found: dict[int, tuple[int, int]] = {}

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


class CodegenPositions(Positions):
    """Exact libcst positions from one codegen pass (the fallback: ~50k lines/s)."""

    def __init__(self, module: cst.Module, text: str, wanted: dict[int, cst.CSTNode],
                 statements: int):
        super().__init__(text)
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


class Mismatch(Exception):
    """The stdlib tree could not be matched to the libcst tree with certainty."""


class AstPositions(Positions):
    """Positions from the stdlib parser (C speed, ~100k lines/s), matched to libcst nodes.

    Statements are paired structurally; inside the statement that evaluated it, a wanted call
    is paired with the stdlib call of the same callee and argument kinds, in source order, and
    checked against its literal arguments. Anything that does not pair up exactly raises
    Mismatch (the caller then generates positions with libcst instead)."""

    def __init__(self, module: cst.Module, text: str, calls: list, imports: list):
        super().__init__(text)
        if "\r" in text and text.count("\r") != text.count("\r\n"):
            raise Mismatch("lone carriage returns")  # line numbering differs
        tree = stdlib_tree(text)  # parsed once per text (budgets' pre-check parsed it)
        self.ascii_lines = text.isascii()
        pairs: dict[int, ast.AST] = {}
        _pair_block(module.body, tree.body, pairs)
        by_owner: dict[int, tuple] = {}
        for call, owner in calls:
            by_owner.setdefault(id(owner), (owner, []))[1].append(call)
        for owner, owned in by_owner.values():
            node = pairs.get(id(owner))
            if node is None:
                raise Mismatch("statement not paired")
            self.calls(owned, _header_calls(node))
        for stmt, name_node in imports:
            node = pairs.get(id(stmt))
            if not isinstance(node, (ast.ImportFrom, ast.Import)) or \
                    isinstance(node, ast.Import) is not isinstance(stmt, cst.Import):
                raise Mismatch("import not paired")
            self.found[id(stmt)] = self.range(node)
            if isinstance(stmt.names, cst.ImportStar):
                self.found[id(name_node)] = self.range(node.names[0])
                continue
            index = next(i for i, alias in enumerate(stmt.names) if alias.name is name_node)
            alias = node.names[index]
            start = self.offset(alias.lineno, alias.col_offset)
            self.found[id(name_node)] = (start, start + len(alias.name))

    def offset(self, line: int, col: int) -> int:
        start = self.line_starts[line - 1]
        if not self.ascii_lines:
            end = self.line_starts[line] if line < len(self.line_starts) else len(self.text)
            text = self.text[start:end]
            if not text.isascii():
                col = len(text.encode("utf-8")[:col].decode("utf-8", "replace"))
        return start + col

    def range(self, node) -> tuple[int, int]:
        return (self.offset(node.lineno, node.col_offset),
                self.offset(node.end_lineno, node.end_col_offset))

    def calls(self, owned: list, candidates: list):
        groups: dict[tuple, list] = {}
        for node in candidates:
            groups.setdefault(_ast_key(node), []).append(node)
        wanted: dict[tuple, list] = {}
        seen = set()
        for call in owned:
            if id(call) not in seen:
                seen.add(id(call))
                wanted.setdefault(_cst_key(call), []).append(call)
        for key, cst_calls in wanted.items():
            ast_calls = groups.get(key, [])
            if len(ast_calls) != len(cst_calls):
                raise Mismatch("calls do not pair up")
            for call, node in zip(cst_calls, sorted(ast_calls, key=_source_order)):
                self.call(call, node)

    def call(self, call: cst.Call, node: ast.Call):
        arguments = sorted(list(node.args) + list(node.keywords), key=_source_order)
        self.found[id(call)] = self.range(node)
        func = call.func
        if isinstance(func, cst.Attribute):
            end = self.offset(node.func.end_lineno, node.func.end_col_offset)
            self.found[id(func.attr)] = (end - len(func.attr.value), end)
            if not func.lpar:
                self.found[id(func)] = self.range(node.func)
        else:
            self.found[id(func)] = self.range(node.func)
        for arg, argument in zip(call.args, arguments):
            _check_literal(arg.value, argument.value if isinstance(argument, ast.keyword)
                           else argument)
            start, end = self.range(argument)
            if not isinstance(argument, (ast.keyword, ast.Starred)):
                count = len(arg.value.lpar)
                if isinstance(argument, (ast.Tuple, ast.GeneratorExp)) and \
                        self.text[start:start + 1] == "(":
                    count -= 1  # the stdlib counts a tuple's own parentheses in
                start, end = self.parentheses(start, end, count)
            self.found[id(arg)] = (start, end)

    def parentheses(self, start: int, end: int, count: int) -> tuple[int, int]:
        """Widen a positional argument's range over its own parentheses (libcst's Arg
        includes them, the stdlib's expression does not)."""
        text = self.text
        for _ in range(count):
            start = len(text[:start].rstrip())
            end = len(text) - len(text[end:].lstrip())
            if start == 0 or text[start - 1] != "(" or text[end:end + 1] != ")":
                raise Mismatch("parentheses")
            start, end = start - 1, end + 1
        return start, end


def _source_order(node) -> tuple:
    return (node.lineno, node.col_offset, -node.end_lineno, -node.end_col_offset)


def _ast_dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return _ast_dotted(node.value) + "." + node.attr
    return "<call>" if isinstance(node, ast.Call) else "<expr>"


def _cst_dotted(node) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return _cst_dotted(node.value) + "." + node.attr.value
    return "<call>" if isinstance(node, cst.Call) else "<expr>"


def _ast_key(node: ast.Call) -> tuple:
    kinds = []
    for argument in sorted(list(node.args) + list(node.keywords), key=_source_order):
        if isinstance(argument, ast.keyword):
            kinds.append(argument.arg or "**")
        else:
            kinds.append("*" if isinstance(argument, ast.Starred) else "")
    return (_ast_dotted(node.func), tuple(kinds))


def _cst_key(call: cst.Call) -> tuple:
    kinds = tuple(a.star or (a.keyword.value if a.keyword else "") for a in call.args)
    return (_cst_dotted(call.func), kinds)


def _check_literal(value, node):
    """A literal argument must be the same literal on both sides."""
    if isinstance(value, (cst.Integer, cst.Float, cst.SimpleString)):
        if not isinstance(node, ast.Constant):
            raise Mismatch("literal")
        try:
            same = ast.literal_eval(value.value) == node.value
        except (ValueError, SyntaxError):
            same = False
        if not same:
            raise Mismatch("literal")
    elif isinstance(value, cst.Name) and not isinstance(node, (ast.Name, ast.Constant)):
        raise Mismatch("name")


# stdlib compound statement -> the fields of its header (its own expressions)
_HEADERS = {
    ast.If: ("test",), ast.While: ("test",), ast.For: ("target", "iter"),
    ast.AsyncFor: ("target", "iter"), ast.With: ("items",), ast.AsyncWith: ("items",),
    ast.FunctionDef: ("decorator_list", "args", "returns"),
    ast.AsyncFunctionDef: ("decorator_list", "args", "returns"),
    ast.ClassDef: ("decorator_list", "bases", "keywords"), ast.Match: ("subject",),
}
# libcst compound statement -> the stdlib statements it may pair with
_COMPOUND = {
    cst.If: (ast.If,), cst.For: (ast.For, ast.AsyncFor), cst.While: (ast.While,),
    cst.With: (ast.With, ast.AsyncWith),
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.ClassDef: (ast.ClassDef,), cst.Try: (ast.Try,),
}
if hasattr(ast, "TryStar") and hasattr(cst, "TryStar"):
    _COMPOUND[cst.TryStar] = (ast.TryStar,)
if hasattr(ast, "Match") and hasattr(cst, "Match"):
    _COMPOUND[cst.Match] = (ast.Match,)


def _header_calls(node) -> list:
    """The calls of a statement that belong to it: all of a simple statement's; for a
    compound statement only those of its header (its blocks hold statements of their own)."""
    fields = _HEADERS.get(type(node))
    if fields is None:
        if isinstance(node, (ast.Try, ast.stmt)) and hasattr(node, "body"):
            return []
        roots = [node]
    else:
        roots = []
        for field in fields:
            value = getattr(node, field)
            roots.extend(value if isinstance(value, list) else [value] if value else [])
    return [n for root in roots for n in ast.walk(root) if isinstance(n, ast.Call)]


def _pair_block(statements, nodes: list, pairs: dict, start: int = 0) -> int:
    """Pair libcst statements with stdlib statements (a simple statement line holds one
    stdlib statement per small statement). Returns the index after the last one used."""
    i = start
    for stmt in statements:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if i >= len(nodes):
                    raise Mismatch("statement count")
                pairs[id(small)] = nodes[i]
                i += 1
            continue
        if i >= len(nodes) or not isinstance(nodes[i], _COMPOUND.get(type(stmt), ())):
            raise Mismatch("statement kind")
        _pair_compound(stmt, nodes[i], pairs)
        i += 1
    return i


def _pair_suite(suite, nodes: list, pairs: dict):
    if isinstance(suite, cst.SimpleStatementSuite):
        if len(suite.body) != len(nodes):
            raise Mismatch("suite")
        for small, node in zip(suite.body, nodes):
            pairs[id(small)] = node
    elif _pair_block(suite.body, nodes, pairs) != len(nodes):
        raise Mismatch("block")


def _pair_compound(stmt, node, pairs: dict):
    pairs[id(stmt)] = node
    if hasattr(cst, "Match") and isinstance(stmt, cst.Match):
        if len(stmt.cases) != len(node.cases):
            raise Mismatch("cases")
        for case, c in zip(stmt.cases, node.cases):
            _pair_suite(case.body, c.body, pairs)
        return
    _pair_suite(stmt.body, node.body, pairs)
    if isinstance(stmt, cst.If):
        orelse = stmt.orelse
        if isinstance(orelse, cst.If):
            if len(node.orelse) != 1 or not isinstance(node.orelse[0], ast.If):
                raise Mismatch("elif")
            _pair_compound(orelse, node.orelse[0], pairs)
        elif orelse is not None:
            _pair_suite(orelse.body, node.orelse, pairs)
    elif isinstance(stmt, (cst.For, cst.While)) and stmt.orelse is not None:
        _pair_suite(stmt.orelse.body, node.orelse, pairs)
    elif isinstance(stmt, _TRY):
        if len(stmt.handlers) != len(node.handlers):
            raise Mismatch("handlers")
        for handler, h in zip(stmt.handlers, node.handlers):
            _pair_suite(handler.body, h.body, pairs)
        if stmt.orelse is not None:
            _pair_suite(stmt.orelse.body, node.orelse, pairs)
        if stmt.finalbody is not None:
            _pair_suite(stmt.finalbody.body, node.finalbody, pairs)


_TRY = (cst.Try, cst.TryStar) if hasattr(cst, "TryStar") else (cst.Try,)


def locate(module: cst.Module, text: str, wanted: dict, statements: int, calls: list,
           imports: list) -> Positions:
    """Positions of the wanted nodes: from the stdlib parser when it pairs up exactly,
    else from libcst codegen."""
    try:
        return AstPositions(module, text, calls, imports)
    except (Mismatch, SyntaxError, ValueError, MemoryError, RecursionError, IndexError,
            StopIteration):
        return CodegenPositions(module, text, wanted, statements)
