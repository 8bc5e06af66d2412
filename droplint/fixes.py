"""Edit builders for automatic fixes (rules call them), and the text-level edit primitives
(apply_edits, overlaps, import pruning). Deciding which fixes to apply to a document, and
writing it, is droplint/fixing.py.

Builders read only the spans the source loader records (graph.Origin, graph.ImportedName) and
return a tuple of report.Edit, or None when the fix cannot be written from what is known
(a built model has no spans; a bare name whose import cannot be found). Edits are plain text
edits, 1-based line/column, end exclusive, so the user's formatting is kept around them.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

from .graph import Graph, ImportedName, Layer, Span
from .report import Edit, Fix

Edits = tuple[Edit, ...]


# --- where a layer class name comes from -----------------------------------------------------

def is_layers_module(module: str) -> bool:
    """`keras.layers`, `tensorflow.keras.layers`, `tf_keras.layers`, `keras.layers.rnn`, ..."""
    parts = module.split(".")
    return "layers" in parts and any(p in ("keras", "tf_keras") for p in parts)


def _layer_imports(graph: Graph, name: str) -> list[ImportedName]:
    return [i for i in graph.imports
            if i.name == name and i.span is not None and is_layers_module(i.module)]


def _star_import(graph: Graph) -> bool:
    return any(i.name == "*" and is_layers_module(i.module) for i in graph.imports)


def is_bare_name(layer: Layer) -> bool:
    """True when the constructor is called by a bare name (`Dropout(0.3)`), not an attribute
    (`layers.Dropout(0.3)`): the class name then starts where the call starts."""
    o = layer.origin
    return (o.span is not None and o.name_span is not None
            and (o.span.line, o.span.column) == (o.name_span.line, o.name_span.column))


def _start(span: Span) -> tuple[int, int]:
    return span.line, span.column


def _end(span: Span) -> tuple[int, int]:
    return span.end_line, span.end_column


def _between(start: tuple[int, int], end: tuple[int, int], content: str = "") -> Edit:
    return Edit(start[0], start[1], end[0], end[1], content)


# --- builders -------------------------------------------------------------------------------

def rename_layer(graph: Graph, layer: Layer, new: str) -> Edits | None:
    """`Dropout(0.3)` -> `SpatialDropout1D(0.3)` keeping the arguments as written.

    `layers.Dropout` renames the attribute. A bare `Dropout` imported with
    `from keras.layers import Dropout` also gets `SpatialDropout1D` added to that import
    statement (identical edits from several fixes are applied once by `apply_fixes`)."""
    o = layer.origin
    if graph.built or o.span is None or o.name_span is None:
        return None
    edits = [Edit.replace(o.name_span, new)]
    if is_bare_name(layer):
        if any(i.asname is None for i in _layer_imports(graph, new)):
            pass  # already imported
        else:
            sources = _layer_imports(graph, layer.kind)
            if sources:
                first = min(sources, key=lambda i: _start(i.span))
                edits.append(Edit.insert(first.span.line, first.span.column, f"{new}, "))
            elif not _star_import(graph):
                return None  # cannot tell where the bare name comes from
    return tuple(edits)


def replace_class_everywhere(graph: Graph, layer: Layer, old: str, new: str) -> Edits | None:
    """Rename a class that no longer exists (`CuDNNLSTM` -> `LSTM`) at the call and in its
    import, so that the removed name is not imported any more."""
    o = layer.origin
    if graph.built or o.span is None or o.name_span is None:
        return None
    if not is_bare_name(layer):
        return _tf_keras_callee(graph, layer, new) or (Edit.replace(o.name_span, new),)
    imports = _layer_imports(graph, old)
    if not imports:
        return None
    edits = []
    aliased = False
    for imp in imports:
        aliased = aliased or imp.asname is not None
        if "compat" in imp.module.split("."):
            # tf.compat.v1.keras.layers.LSTM is the v1 LSTM, without cuDNN: import from
            # tensorflow.keras.layers instead. Only when the statement imports this name alone.
            if sum(i.statement == imp.statement for i in graph.imports) != 1:
                return None
            alias = f" as {imp.asname}" if imp.asname else ""
            edits.append(Edit.replace(imp.statement,
                                      f"from tensorflow.keras.layers import {new}{alias}"))
        else:
            edits.append(Edit.replace(imp.span, new))
    if not aliased:
        edits.append(Edit.replace(o.name_span, new))
    return tuple(sorted(set(edits), key=lambda e: (e.line, e.column)))


def _tf_keras_callee(graph: Graph, layer: Layer, new: str) -> Edits | None:
    """`tf.compat.v1.keras.layers.CuDNNGRU` -> `tf.keras.layers.GRU` when the callee starts
    with a name bound by `import tensorflow [as tf]` (tf.compat.v1's GRU has no automatic
    cuDNN in tf.keras 2)."""
    o = layer.origin
    parts = (o.callee or "").split(".")
    if o.callee_span is None or "compat" not in parts:
        return None
    head = parts[0]
    if not any(i.module == "" and i.name == "tensorflow" and (i.asname or i.name) == head
               for i in graph.imports):
        return None
    return (Edit.replace(o.callee_span, f"{head}.keras.layers.{new}"),)


def remove_argument(layer: Layer, argument: str) -> Edits | None:
    """Delete `argument=value` with one adjacent comma: `LSTM(8, implementation=1)` -> `LSTM(8)`."""
    span = layer.origin.arg_removal_spans.get(argument)
    return None if span is None else (Edit.replace(span, ""),)


def replace_argument_value(layer: Layer, argument: str, content: str) -> Edits | None:
    span = layer.origin.arg_value_spans.get(argument)
    return None if span is None else (Edit.replace(span, content),)


def replace_span(span: Span | None, content: str) -> Edits | None:
    return None if span is None else (Edit.replace(span, content),)


def unwrap(layer: Layer) -> Edits | None:
    """`TimeDistributed(Dropout(0.3))` -> `Dropout(0.3)`: delete the wrapper's text around the
    wrapped call (its name, parentheses and other arguments)."""
    o = layer.origin
    if o.span is None or o.inner_span is None:
        return None
    return (_between(_start(o.span), _start(o.inner_span)),
            _between(_end(o.inner_span), _end(o.span)))


def fix(applicability: str, description: str, edits: Edits | None) -> Fix | None:
    return None if not edits else Fix(applicability, description, tuple(edits))


# --- applying -------------------------------------------------------------------------------

def _offsets(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def _index(starts: list[int], line: int, column: int) -> int:
    if not 1 <= line <= len(starts):
        raise ValueError(f"edit line {line} is outside the text")
    return starts[line - 1] + column - 1


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (identical duplicates count once) to `text`."""
    starts = _offsets(text)
    ranges = sorted({(_index(starts, e.line, e.column), _index(starts, e.end_line, e.end_column),
                      e.content) for e in edits}, key=lambda r: (r[0], r[1]))
    out, pos = [], 0
    for start, end, content in ranges:
        if start < pos:
            raise ValueError("overlapping edits")
        out.append(text[pos:start])
        out.append(content)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def overlaps(a: Edit, b: Edit) -> bool:
    """Would applying both edits be ambiguous? Identical edits (an import added by two fixes)
    do not overlap; two different insertions at one point do."""
    if a == b:
        return False  # the same edit from two fixes (an import added once)
    a0, a1 = (a.line, a.column), (a.end_line, a.end_column)
    b0, b1 = (b.line, b.column), (b.end_line, b.end_column)
    if a0 == a1 and b0 == b1:
        return a0 == b0  # two different insertions at one point: order would be a guess
    return a0 < b1 and b0 < a1 or (a0 == a1 and b0 < a0 < b1) or (b0 == b1 and a0 < b0 < a1)




def apply_fixes(text: str, fixes: Sequence[Fix]) -> tuple[str, int]:
    """Apply as many fixes as possible in one pass; a fix whose edits overlap an accepted one
    is left for the next pass (ruff's approach). Returns the new text and how many applied."""
    accepted: list[Edit] = []
    count = 0
    for f in fixes:
        if any(overlaps(e, a) for e in f.edits for a in accepted):
            continue
        accepted.extend(f.edits)
        count += 1
    return (apply_edits(text, accepted) if count else text), count


# --- imports the fixes left unused ------------------------------------------------------------
#
# `Dropout(0.3)` -> `SpatialDropout1D(0.3)` adds SpatialDropout1D to `from keras.layers import
# Dropout`; when that was the last Dropout, the name stays imported and unused (ruff F401).
# After the fixes, `prune_imports` removes such names, conservatively: only from
# `from <keras module> import ...` statements, only names used before fixing whose use a fix
# replaced, and only when the name appears nowhere else in the text as a whole word (code,
# strings and comments all count).

def replaced_words(text: str, edits: Iterable[Edit]) -> set[str]:
    """The words in the parts of `text` that `edits` replace or delete."""
    starts = _offsets(text)
    words: set[str] = set()
    for e in edits:
        old = text[_index(starts, e.line, e.column):_index(starts, e.end_line, e.end_column)]
        words.update(re.findall(r"\w+", old))
    return words


def _mentioned(name: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def code_only(text: str) -> str:
    """`text` with comments and docstrings blanked (line breaks kept): a name that only they
    mention is unused, as ruff's F401 sees it. Other strings keep their text: `__all__ =
    ["Dropout"]` or a string annotation may be a real use. Unparsable text is returned as is
    (conservative: every mention counts)."""
    import ast
    import io
    import tokenize

    try:
        tree = ast.parse(text)
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (SyntaxError, ValueError, tokenize.TokenError, RecursionError, MemoryError):
        return text
    doc_lines = {body[0].lineno for node in ast.walk(tree)
                 if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                      ast.AsyncFunctionDef))
                 and (body := node.body) and isinstance(body[0], ast.Expr)
                 and isinstance(body[0].value, ast.Constant)
                 and isinstance(body[0].value.value, str)}
    starts = _offsets(text)
    chars = list(text)
    previous = None  # the last significant token: a docstring starts its statement
    for tok in tokens:
        docstring = (tok.type == tokenize.STRING and tok.start[0] in doc_lines
                     and previous in (None, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT))
        if tok.type == tokenize.COMMENT or docstring:
            a = _index(starts, tok.start[0], tok.start[1] + 1)
            b = _index(starts, tok.end[0], tok.end[1] + 1)
            chars[a:b] = [c if c in "\r\n" else " " for c in chars[a:b]]
        if tok.type not in (tokenize.COMMENT, tokenize.NL):
            previous = tok.type
    return "".join(chars)


def _keras_imports(text: str):
    """The parsed `text` (wrapper, positions, parents) and, for each
    `from <keras module> import a, b as c` in it, (statement line, ImportFrom, module,
    [(alias, bound name)], start, end): start/end are the offsets of the statement without
    its semicolon or trailing comment."""
    import libcst as cst
    from libcst.helpers import get_full_name_for_node
    from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

    wrapper = MetadataWrapper(cst.parse_module(text), unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    starts = _offsets(text)
    found = []
    for node, pos in positions.items():
        if not isinstance(node, cst.ImportFrom) or node.relative or node.module is None \
                or isinstance(node.names, cst.ImportStar):
            continue
        module = get_full_name_for_node(node.module) or ""
        if not any(p in ("keras", "tf_keras") for p in module.split(".")):
            continue
        names = [(a, a.evaluated_alias or a.evaluated_name) for a in node.names]
        found.append((parents[node], node, module, names,
                      _index(starts, pos.start.line, pos.start.column + 1),
                      _index(starts, pos.end.line, pos.end.column + 1)))
    return wrapper, positions, parents, found


def _used_imports(text: str) -> set[tuple[str, str, str]]:
    """(module, name, bound name) of the keras names imported and mentioned elsewhere."""
    *_, found = _keras_imports(text)
    return {(module, alias.evaluated_name, bound)
            for _line, _node, module, names, a, b in found
            for alias, bound in names if _mentioned(bound, text[:a] + "\n" + text[b:])}


def _breaks_line(comma) -> bool:
    import libcst as cst

    return isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after,
                                                       cst.ParenthesizedWhitespace)


def _without(node, keep):
    """The ImportFrom `node` keeping only the aliases in `keep` (a non-empty list), commas
    mended: a kept name followed on its line by a removed one that ended the line takes that
    comma (the line break and its comment: `SpatialDropout1D, Dropout,  # c` ->
    `SpatialDropout1D,  # c`), and the last name left gets the comma of the original last."""
    import libcst as cst

    names: list = []
    for alias in node.names:
        if any(alias is k for k in keep):
            names.append(alias)
        elif names and _breaks_line(alias.comma) and not _breaks_line(names[-1].comma):
            names[-1] = names[-1].with_changes(comma=alias.comma)
    names[-1] = names[-1].with_changes(comma=node.names[-1].comma)
    return node.with_changes(names=names, semicolon=cst.MaybeSentinel.DEFAULT)


def _statement_removal(text, positions, parents, line, node, a, b) -> tuple[int, int] | None:
    """The text range to delete to remove the import statement `node` (in the statement line
    `line`): its whole line(s), or the statement and one semicolon when it shares its line.
    None when removing it would leave a block empty."""
    import libcst as cst

    starts = _offsets(text)
    if not isinstance(line, cst.SimpleStatementLine):
        return None  # `if x: from keras.layers import Dropout`
    body = line.body
    if len(body) == 1:
        block = parents[line]
        if isinstance(block, cst.IndentedBlock) and len(block.body) == 1:
            return None
        pos = positions[line]
        end = starts[pos.end.line] if pos.end.line < len(starts) else len(text)
        return starts[pos.start.line - 1], end
    i = next(k for k, s in enumerate(body) if s is node)
    if i + 1 < len(body):
        nxt = positions[body[i + 1]].start
        return a, _index(starts, nxt.line, nxt.column + 1)
    prev = positions[body[i - 1]].end
    return _index(starts, prev.line, prev.column + 1), b


def prune_imports(before: str, after: str, replaced: set[str]) -> str:
    """`after` (the fixed `before`) without the names of `from <keras module> import ...`
    that were used in `before`, had a use replaced by a fix (a word in `replaced`) and are
    no longer mentioned outside their import statement (comments and docstrings aside, as
    ruff's F401 sees it; any other string counts). A statement left with no
    name is removed. Everything else is kept byte for byte."""
    if not replaced or re.search(r"\r(?!\n)", after):
        return after  # nothing replaced; a lone CR ends a line for libcst, not for _offsets
    used = _used_imports(before)
    if not used:
        return after
    wrapper, positions, parents, found = _keras_imports(after)
    code = code_only(after)  # same length: the statement offsets hold
    ranges = []
    for line, node, module, names, a, b in found:
        outside = code[:a] + "\n" + code[b:]
        keep = [alias for alias, bound in names
                if bound not in replaced or (module, alias.evaluated_name, bound) not in used
                or _mentioned(bound, outside)]
        if len(keep) == len(names):
            continue
        if keep:
            ranges.append((a, b, wrapper.module.code_for_node(_without(node, keep))))
        else:
            span = _statement_removal(after, positions, parents, line, node, a, b)
            if span is not None:
                ranges.append((*span, ""))
    out, pos = [], 0
    for start, end, content in sorted(ranges):
        out += [after[pos:start], content]
        pos = end
    return "".join(out) + after[pos:]
