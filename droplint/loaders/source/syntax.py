"""Small pure helpers over libcst nodes that the loader's parts share.
"""
from __future__ import annotations

import ast
import dataclasses

import libcst as cst

from ...graph import UNKNOWN, Layer
from ..keras_names import SENSITIVE
from ..values import Tensor


def dotted(node) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return None if head is None else head + "." + node.attr.value
    return None


def mentions_training(node) -> bool:
    """Whether an expression reads a name or attribute called `training`."""
    if isinstance(node, cst.Name):
        return node.value == "training"
    if isinstance(node, cst.Attribute):
        return node.attr.value == "training" or mentions_training(node.value)
    return any(mentions_training(c) for c in kids(node))


_FIELDS: dict[type, tuple[str, ...]] = {}


def kids(node) -> list:
    """The child nodes of `node`: the same nodes as libcst's `node.children`, in field order
    rather than source order, read from the node's fields (`children` rebuilds the node
    through a visitor: ~20x slower). For tests of any or every child."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    out = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            out.append(value)
        elif isinstance(value, (list, tuple)):
            out.extend(v for v in value if isinstance(v, cst.CSTNode))
    return out


# Nodes that hold only whitespace and comments: never a call.
_NO_CODE = (cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace,
            cst.Newline, cst.Comment, cst.LeftParen, cst.RightParen)


def called_names(node) -> set[str]:
    """Names called inside `node` (`f(...)`; `self.f(...)` and `obj.f(...)` give `f`)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Call):
            func = n.func
            if isinstance(func, cst.Name):
                found.add(func.value)
            elif isinstance(func, cst.Attribute):
                found.add(func.attr.value)
        stack.extend(k for k in kids(n) if not isinstance(k, _NO_CODE))
    return found


def names_in(node) -> list[str]:
    if isinstance(node, cst.Name):
        return [node.value]
    return [n for c in node.children for n in names_in(c)]


def literal_string(node: cst.SimpleString):
    raw = node.value
    prefix = node.prefix.lower()
    if "b" in prefix:
        return UNKNOWN
    if prefix in ("", "u") and "\\" not in raw:
        quote = 3 if raw[-3:] in ('"""', "'''") and len(raw) >= 6 + len(prefix) else 1
        return raw[len(prefix) + quote:-quote]
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return UNKNOWN


def negates_training(test) -> bool:
    """`not training`, `training is False/None`, `training == False`: true at inference."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return mentions_training(test.expression)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        value = target.comparator
        return isinstance(target.operator, (cst.Is, cst.Equal)) and \
            isinstance(value, cst.Name) and value.value in ("False", "None") and \
            mentions_training(test.left)
    return False


def terminates(body) -> bool:
    """Whether a block ends with return/raise (a branch that does not fall through)."""
    stmts = body.body
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, cst.SimpleStatementLine) or isinstance(body, cst.SimpleStatementSuite):
        smalls = last.body if isinstance(last, cst.SimpleStatementLine) else stmts
        return bool(smalls) and isinstance(smalls[-1], (cst.Return, cst.Raise))
    return False


def has_jump(node) -> bool:
    """Whether a loop body may leave an iteration early (break/continue), nested loops and
    definitions aside."""
    if isinstance(node, (cst.Break, cst.Continue)):
        return True
    if isinstance(node, (cst.For, cst.While, cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        return False
    if isinstance(node, cst.BaseExpression):
        return False
    return any(has_jump(c) for c in kids(node))


def hide(args: dict):
    """`**kwargs` we cannot see may set any argument that matters: those become unknown."""
    for key in SENSITIVE["dropout_layer"] + SENSITIVE["rnn"]:
        args.setdefault(key, UNKNOWN)


def same_args(a: dict, b: dict) -> bool:
    """Equal constructor arguments (True and 1 differ)."""
    return a.keys() == b.keys() and all(
        a[k] == b[k] and type(a[k]) is type(b[k]) for k in a)


POSITIONAL = cst.Arg(cst.Name("inputs"))  # an argument passed by position, for invoke


def traced(value, values) -> bool:
    """Whether a call() result is made of tensors whose producers are known (a tensor, or a
    tuple/list/dict of them); a tensor of unknown producer only when it is an argument as
    passed (`return x`). A merge of branches (an unknown producer) is not traced."""
    if isinstance(value, Tensor):
        return value.node is not None or any(value is v for _, v in values)
    items = value.values() if isinstance(value, dict) else value
    return isinstance(value, (tuple, list, dict)) and bool(value) and \
        all(traced(v, values) for v in items)


def source_order(item) -> tuple:
    span = item.origin.span if isinstance(item, Layer) else item.span
    return (0, span.line, span.column) if span is not None else (1, 0, 0)
