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

# A fix that is refused carries this applicability and the reason as its description; it has
# no edits, so nothing applies it, and fixcheck.finalize turns it into `fix=None` with the
# finding's `fix_refused` reason (and "No automatic fix: ..." in its help).
REFUSED = "refused"


def refuse(reason: str) -> Fix:
    return Fix(REFUSED, reason, ())


def refused(value) -> bool:
    return isinstance(value, Fix) and value.applicability == REFUSED


# A rename of a name at every use in the file (`CuDNNLSTM` -> `LSTM`) is one marker edit at line
# 0 (outside any text, so applying it unexpanded fails); fixcheck.complete expands it, with the
# text, into an edit at each use, or refuses the fix when a use cannot be reached.
_MARK = "\x00rename:"


def rename_everywhere(old: str, new: str) -> Edit:
    return Edit(0, 0, 0, 0, f"{_MARK}{old}:{new}")


def rename_marker(edit: Edit) -> tuple[str, str] | None:
    if edit.line != 0 or not edit.content.startswith(_MARK):
        return None
    old, new = edit.content[len(_MARK):].split(":")
    return old, new


# The public module each Keras family's layers are imported from; a fix writes only these.
# tests/test_fix_harness.py checks each name a fix writes exists there (Keras 3, tf_keras 2).
PUBLIC_LAYERS = {"keras": "keras.layers", "tensorflow": "tensorflow.keras.layers",
                 "tf_keras": "tf_keras.layers"}


def is_private_module(module: str) -> bool:
    """`tensorflow.python.keras...` (gone in TF 2.16+), `keras.src...`: not to be imported."""
    parts = module.split(".")
    return (parts[0] == "tensorflow" and len(parts) > 1 and parts[1] == "python") \
        or "src" in parts[1:2]


def public_layers_module(module: str) -> str | None:
    """Where a fix imports a new layer class for a file importing layers from `module`."""
    if module in PUBLIC_LAYERS.values():
        return module
    return PUBLIC_LAYERS.get(module.split(".")[0])


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

def _bound_elsewhere(graph: Graph, name: str) -> bool:
    """Is `name` bound by an import other than `from <keras layers> import name`?"""
    return any((i.asname or i.name) == name and not (i.asname is None
                                                     and is_layers_module(i.module))
               for i in graph.imports)


def import_edits(graph: Graph, like: ImportedName | None, new: str) -> Edits | Fix:
    """Edits that make the layer class `new` importable by its bare name, next to `like` (the
    import of the name it replaces): none when imported already; added to `like`'s statement
    when that is a public layers module, else a new statement from the public module of the
    same family (`tensorflow.python.keras.layers` -> `tensorflow.keras.layers`)."""
    if any(i.asname is None for i in _layer_imports(graph, new)):
        return ()
    if _bound_elsewhere(graph, new):
        return refuse(f"the name {new} is already bound to something else")
    if like is None:
        if _star_import(graph):
            return ()
        return refuse("droplint cannot tell where the layer class is imported from")
    target = public_layers_module(like.module)
    if target is None:
        return refuse(f"no public module to import {new} from next to {like.module}")
    if target == like.module:
        return (Edit.insert(like.span.line, like.span.column, f"{new}, "),)
    st = like.statement
    return (Edit.insert(st.line, st.column, f"from {target} import {new}\n{' ' * (st.column - 1)}"),)


def rename_layer(graph: Graph, layer: Layer, new: str) -> Edits | Fix | None:
    """`Dropout(0.3)` -> `SpatialDropout1D(0.3)` keeping the arguments as written.

    `layers.Dropout` renames the attribute. A bare `Dropout` imported with
    `from keras.layers import Dropout` also gets `SpatialDropout1D` imported (import_edits;
    identical edits from several fixes are applied once); an import left unused is removed
    when the fix is completed (fixcheck.complete)."""
    o = layer.origin
    if graph.built or o.span is None or o.name_span is None:
        return None
    edits = [Edit.replace(o.name_span, new)]
    if is_bare_name(layer):
        sources = _layer_imports(graph, layer.kind)
        first = min(sources, key=lambda i: _start(i.span)) if sources else None
        extra = import_edits(graph, first, new)
        if refused(extra):
            return extra
        edits += extra
    return tuple(edits)


def replace_class_everywhere(graph: Graph, layer: Layer, old: str, new: str
                             ) -> Edits | Fix | None:
    """Rename a class that no longer exists (`CuDNNLSTM` -> `LSTM`) at every use of its name in
    the file (the marker `rename_everywhere`, expanded with the text by fixcheck) and in its
    import, so that the removed name is not imported any more: all uses or none."""
    o = layer.origin
    if graph.built or o.span is None or o.name_span is None:
        return None
    if not is_bare_name(layer):
        return _tf_keras_callee(graph, layer, new) or (Edit.replace(o.name_span, new),)
    imports = _layer_imports(graph, old)
    if not imports:
        return refuse(f"droplint cannot tell where {old} is imported from")
    edits: list[Edit] = []
    plain = [i for i in imports if i.asname is None]
    if plain:
        if _bound_elsewhere(graph, new):
            return refuse(f"the name {new} is already bound to something else")
        edits.append(rename_everywhere(old, new))
    have = any(i.asname is None for i in _layer_imports(graph, new))
    for imp in imports:
        if "compat" in imp.module.split("."):
            # tf.compat.v1.keras.layers.LSTM is the v1 LSTM, without cuDNN: import from
            # tensorflow.keras.layers instead. Only when the statement imports this name alone.
            if sum(i.statement == imp.statement for i in graph.imports) != 1:
                return refuse(f"{old} is imported from tf.compat.v1 with other names")
            alias = f" as {imp.asname}" if imp.asname else ""
            if have and not alias:
                continue  # the import of `old` is removed once unused
            edits.append(Edit.replace(imp.statement,
                                      f"from tensorflow.keras.layers import {new}{alias}"))
        elif imp.asname is None and have:
            continue  # `new` is imported already: `old` is removed from its import once unused
        elif public_layers_module(imp.module) == imp.module:
            edits.append(Edit.replace(imp.span, new))
        elif imp.asname is None:
            extra = import_edits(graph, imp, new)
            if refused(extra):
                return extra
            edits += extra
            have = True
        else:
            return refuse(f"{old} is imported as {imp.asname} from {imp.module}, "
                          "which has no public equivalent droplint can write")
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


def rank_precondition(graph: Graph, layer: Layer, rank: int, new: str) -> str | None:
    """Why `layer` cannot become `new`, a layer that needs inputs of `rank` (a rank-changing
    replacement: Dropout -> SpatialDropout1D), or None: every application of the layer object
    built at this place in the source must be known, one per object, on a tensor of `rank`."""
    from .semantics import fmt_shape

    span = layer.origin.span
    same = [ly for ly in graph.layers if ly is layer or (
        span is not None and ly.origin.span == span and ly.origin.path == layer.origin.path)]
    ids = {id(ly) for ly in same}
    nodes = [n for n in graph.nodes if id(n.layer) in ids]
    if not nodes:
        return f"droplint does not see where this {layer.kind} is applied"
    calls: dict[int, set] = {}
    for n in nodes:  # the loader may record one application twice (a builder reached twice)
        calls.setdefault(id(n.layer), set()).add(
            (tuple(n.input_shape) if n.input_shape is not None else None,
             tuple(id(i) for i in n.inputs)))
    if any(len(c) > 1 for c in calls.values()):
        return (f"the same {layer.kind} object is applied more than once, and {new} "
                "would replace it in every call")
    for n in nodes:
        if n.input_shape is None:
            return f"the rank of its input is not known ({new} needs rank {rank})"
        if len(n.input_shape) != rank:
            return (f"it is applied to {fmt_shape(n.input_shape)}, and {new} needs a "
                    f"{rank}-D input")
    return None


def remove_argument(layer: Layer, argument: str) -> Edits | None:
    """Delete `argument=value` with one adjacent comma: `LSTM(8, implementation=1)` -> `LSTM(8)`."""
    span = layer.origin.arg_removal_spans.get(argument)
    return None if span is None else (Edit.replace(span, ""),)


def replace_argument_value(layer: Layer, argument: str, content: str) -> Edits | None:
    span = layer.origin.arg_value_spans.get(argument)
    return None if span is None else (Edit.replace(span, content),)


def replace_span(span: Span | None, content: str) -> Edits | None:
    return None if span is None else (Edit.replace(span, content),)


# Arguments of a wrapper that a fix may move onto the wrapped layer (base Layer keywords).
MOVABLE_WRAPPER_ARGS = frozenset({"name", "trainable", "dtype"})


def unwrap(layer: Layer) -> Edits | Fix | None:
    """`TimeDistributed(Dropout(0.3))` -> `Dropout(0.3)`: delete the wrapper's text around the
    wrapped call (its name and parentheses). The wrapper's own keywords (`name=`, `trainable=`,
    `dtype=`) move onto the wrapped layer: `TimeDistributed(Dropout(0.3), name="d")` ->
    `Dropout(0.3, name="d")` (the wrapper's text after the wrapped call is kept and the
    wrapped call's closing parenthesis deleted); refused when the wrapped layer sets the same
    keyword, or the wrapper has other arguments."""
    o = layer.origin
    if o.span is None or o.inner_span is None:
        return None
    own = set(o.arg_spans) - {"layer"}
    if not own:
        return (_between(_start(o.span), _start(o.inner_span)),
                _between(_end(o.inner_span), _end(o.span)))
    if "layer" in o.arg_spans:
        return refuse("the wrapped layer is passed as layer=")
    other = own - MOVABLE_WRAPPER_ARGS
    if other:
        return refuse(f"the wrapper also sets {', '.join(sorted(other))}=")
    inner = layer.inner
    clash = sorted(k for k in own if inner is not None and k in inner.args)
    if clash or inner is None:
        return refuse(f"both the wrapper and {inner.kind if inner else 'the wrapped layer'} "
                      f"set {', '.join(clash) or 'arguments'}=")
    first = min((o.arg_spans[k] for k in own), key=_start)
    if _start(first) < _end(o.inner_span):
        return refuse("the wrapper's arguments come before the wrapped layer")
    inner_end = _end(o.inner_span)
    close = (inner_end[0], inner_end[1] - 1)
    return (_between(_start(o.span), _start(o.inner_span)), _between(close, inner_end))


def fix(applicability: str, description: str, edits: Edits | Fix | None) -> Fix | None:
    if refused(edits):
        return edits
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


def _char_offset(text: str, starts: list[int], line: int, byte_col: int) -> int:
    """The offset in `text` of `ast`'s (line, UTF-8 byte column)."""
    start = starts[line - 1]
    end = starts[line] if line < len(starts) else len(text)
    head = text[start:end].encode("utf-8")[:byte_col].decode("utf-8", errors="ignore")
    return start + len(head)


def _statement_lists(tree) -> dict[int, tuple]:
    """id(statement) -> (the node whose body holds it, that list)."""
    import ast

    out = {}
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list):
                for st in block:
                    if isinstance(st, ast.stmt):
                        out[id(st)] = (node, block)
    return out


def _keras_imports(text: str):
    """For each `from <keras module> import a, b as c` in `text`: (its ast node, the libcst
    ImportFrom parsed from its own text, module, [(alias, bound name)], start, end), start/end
    the offsets of the statement without its semicolon or trailing comment. Located with
    `ast` (fast); libcst parses only each import statement."""
    import ast

    import libcst as cst

    from .budgets import stdlib_tree

    tree = stdlib_tree(text)  # the checked text's tree is shared; a fix's result is parsed
    starts = _offsets(text)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module \
                or any(a.name == "*" for a in node.names):
            continue
        if not any(p in ("keras", "tf_keras") for p in node.module.split(".")):
            continue
        a = _char_offset(text, starts, node.lineno, node.col_offset)
        b = _char_offset(text, starts, node.end_lineno, node.end_col_offset)
        statement = cst.parse_statement(text[a:b])
        imp = statement.body[0]
        names = [(al, al.evaluated_alias or al.evaluated_name) for al in imp.names]
        found.append((node, imp, node.module, names, a, b))
    found.sort(key=lambda f: f[4])
    return tree, found


def _used_imports(text: str) -> set[tuple[str, str, str]]:
    """(module, name, bound name) of the keras names imported and mentioned elsewhere."""
    _tree, found = _keras_imports(text)
    return {(module, alias.evaluated_name, bound)
            for _node, _imp, module, names, a, b in found
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


def _statement_removal(text: str, tree, node, a: int, b: int) -> tuple[int, int] | None:
    """The text range to delete to remove the import statement `node` (an ast node at offsets
    [a, b)): its whole line(s), or the statement and one semicolon when it shares its line.
    None when removing it would leave a block empty."""
    import ast

    starts = _offsets(text)
    parent, block = _statement_lists(tree)[id(node)]
    same_line = [st for st in block if st is not node and st.lineno <= node.end_lineno
                 and st.end_lineno >= node.lineno]
    if not isinstance(parent, ast.Module) and parent.lineno == node.lineno:
        return None  # `if x: from keras.layers import Dropout`
    if not same_line:
        if len(block) == 1 and not isinstance(parent, ast.Module):
            return None
        end = starts[node.end_lineno] if node.end_lineno < len(starts) else len(text)
        return starts[node.lineno - 1], end
    i = next(k for k, st in enumerate(block) if st is node)
    if i + 1 < len(block) and block[i + 1] in same_line:
        nxt = block[i + 1]
        return a, _char_offset(text, starts, nxt.lineno, nxt.col_offset)
    prev = block[i - 1]
    return _char_offset(text, starts, prev.end_lineno, prev.end_col_offset), b


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
    import libcst as cst

    tree, found = _keras_imports(after)
    code = code_only(after)  # same length: the statement offsets hold
    ranges = []
    for node, imp, module, names, a, b in found:
        outside = code[:a] + "\n" + code[b:]
        keep = [alias for alias, bound in names
                if bound not in replaced or (module, alias.evaluated_name, bound) not in used
                or _mentioned(bound, outside)]
        if len(keep) == len(names):
            continue
        if keep:
            ranges.append((a, b, cst.Module([]).code_for_node(_without(imp, keep))))
        else:
            span = _statement_removal(after, tree, node, a, b)
            if span is not None:
                ranges.append((*span, ""))
    out, pos = [], 0
    for start, end, content in sorted(ranges):
        out += [after[pos:start], content]
        pos = end
    return "".join(out) + after[pos:]
