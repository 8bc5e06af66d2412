"""Budgets: how much of a file droplint agrees to analyze before it says "not analyzed".

libcst's native parser, which the source loader uses, crashes the whole process (SIGSEGV) on
some inputs Python itself accepts (`a and a and ...` x10,000, `elif` chains), takes quadratic
time on long call/attribute/subscript chains (`x.f().f()...` x2,000: 30 s) and needs about
3 KB per syntax node and far more on deep nesting (a 1 MB list literal: 2.2 GB). The stdlib
parser (`ast`) is ~25x faster, never crashes (too deep nesting is a SyntaxError, MemoryError or
RecursionError there), so the source is measured with it first and refused when over a budget.

Every check is a small pure function returning None (within budget) or a one-line reason.
The defaults are far above any real model file; `[tool.droplint]` and the command line raise
them (max-file-size, file-timeout, max-depth, max-nodes).
"""
from __future__ import annotations

import ast
import gc
import re
from dataclasses import dataclass

MB = 1 << 20
# Defaults. A 5,000-line model file is ~200 KB, ~50,000 nodes, nested at most ~25 deep.
MAX_FILE_SIZE_MB = 1.0  # bytes of one source file or notebook (ast alone needs ~500 B/node)
FILE_TIMEOUT_S = 60.0  # wall time to analyze one file (enforced where it runs in a worker)
MAX_DEPTH = 400  # syntax-tree depth, counting chains (`a and b and ...`, `x.f().g()`) as nesting
MAX_NODES = 150_000  # weighted syntax nodes: libcst needs ~3 KB each (450 MB at the limit)
DEPTH_WEIGHT = 25  # nesting costs libcst memory and time ~ depth per node: 1 weight per 25 levels
RISKY = 0.5  # a file measured above this fraction of a budget is parsed in a child process

# Strings spanning more characters than this are tokenized to count implicit concatenation
# ('a' 'b' 'c' ...: one ast node, but libcst nests one level per part).
_LONG_STRING = 2048


@dataclass(frozen=True)
class Shape:
    """What the stdlib parser saw: node count, deepest nesting (and where), weighted size."""
    nodes: int = 0
    depth: int = 0
    weight: int = 0
    line: int = 1  # where the deepest nesting is


@dataclass(frozen=True)
class Verdict:
    """The outcome of the pre-check: `reason` (with `line`) when the file must not be parsed
    by libcst; `risky` when it may be, but only in a child process (near a budget, or the
    stdlib parser could not measure it, e.g. syntax newer than this Python)."""
    reason: str | None = None
    line: int = 1
    column: int = 1
    risky: bool = False
    shape: Shape | None = None


# --- bytes the pre-filter cannot judge ------------------------------------------------------

_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
              (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.M)


def wide_bom(data: bytes) -> str | None:
    """"UTF-16" / "UTF-32" when the bytes start with that byte order mark."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            return name
    return None


def decode_first(data: bytes) -> bool:
    """Whether a Python file must be decoded before the byte pre-filter can judge it: a UTF-16
    or UTF-32 byte order mark, NUL bytes (what PowerShell's `>` writes), or a coding cookie
    naming anything but UTF-8. These files would otherwise pass as "All checks passed"."""
    head = data[:4]
    if wide_bom(head) or b"\x00" in head:
        return True
    lines = data[:400].split(b"\n", 2)[:2]
    for line in lines:
        m = _COOKIE.match(line)
        if m:
            return m.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8")
    return False


def codec_problem(encoding: str) -> str | None:
    """Why Python refuses a coding cookie (SyntaxError "encoding problem"): a codec that is
    not a text encoding (rot13, hex, base64, zlib, uu) or not ASCII-compatible (utf-16)."""
    import codecs

    try:
        info = codecs.lookup(encoding)
    except LookupError:
        return f"encoding problem: {encoding} (unknown encoding)"
    if not getattr(info, "_is_text_encoding", True):
        return f"encoding problem: {encoding} (not a text encoding)"
    try:
        encoded = "# coding: x = 1".encode(info.name)
        if info.name == "utf-8-sig":  # a BOM is what the cookie or the file starts with
            encoded = encoded.removeprefix(codecs.BOM_UTF8)
        ascii_ok = encoded == b"# coding: x = 1"
    except Exception:  # noqa: BLE001 - a codec that cannot encode at all
        ascii_ok = False
    if not ascii_ok:
        return f"encoding problem: {encoding} (not ASCII-compatible, as Python requires)"
    return None


def fmt_mb(nbytes: int) -> str:
    mb = nbytes / MB
    return f"{mb:.1f} MB" if mb >= 0.1 else f"{nbytes / 1024:.0f} KB"


def size_reason(nbytes: int, limit_mb: float) -> str | None:
    """A file of `nbytes` over the size budget: the DL900 message; else None."""
    if nbytes <= limit_mb * MB:
        return None
    return (f"not analyzed: {fmt_mb(nbytes)} > limit of {limit_mb:g} MB (raise max-file-size "
            "in [tool.droplint] or --max-file-size)")


def timeout_reason(seconds: float) -> str:
    return (f"not analyzed: took longer than the limit of {seconds:g} s (raise file-timeout "
            "in [tool.droplint] or --file-timeout)")


def _string_parts(node: ast.expr, lines: list[str]) -> int:
    """How many string literals make up the (implicitly concatenated) string `node`."""
    import io
    import tokenize

    first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
    segment = lines[first:last + 1]
    if not segment:
        return 1
    segment = segment[:]
    segment[-1] = segment[-1][:node.end_col_offset]
    segment[0] = segment[0][node.col_offset:]
    count = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO("".join(segment)).readline):
            count += tok.type == tokenize.STRING
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    return max(count, 1)


def measure(tree: ast.AST, text: str = "") -> Shape:
    """Nodes, depth and weight of a syntax tree. Chains that libcst nests but `ast` keeps flat
    count as nesting: the operands of `and`/`or` and of chained comparisons, and the parts of
    an implicitly concatenated string (tokenized from `text` when the string is long)."""
    AST = ast.AST
    chains = (ast.BoolOp, ast.Compare)
    strings = (ast.Constant, ast.JoinedStr)
    lines: list[str] | None = None
    nodes = deepest = total = 0
    line = 1
    stack: list[tuple[AST, int]] = [(tree, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        nodes += 1
        if isinstance(node, strings) and text and getattr(node, "end_lineno", None) and (
                node.end_lineno - node.lineno > 64
                or node.end_col_offset - node.col_offset > _LONG_STRING):
            if lines is None:
                lines = text.splitlines(keepends=True)
            parts = _string_parts(node, lines)
            if parts > 1:
                total += parts * (2 * depth + parts) // 2
                nodes += parts
                depth += parts
        total += depth
        if depth > deepest:
            deepest, line = depth, getattr(node, "lineno", line)
        if isinstance(node, chains):
            children = node.values if isinstance(node, ast.BoolOp) else [node.left,
                                                                          *node.comparators]
            n = len(children)
            for i, child in enumerate(children):
                push((child, depth + max(n - i - 1, 1)))
            continue
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for child in value:
                    if isinstance(child, AST):
                        push((child, depth + 1))
            elif isinstance(value, AST):
                push((value, depth + 1))
    return Shape(nodes, deepest, nodes + total // DEPTH_WEIGHT, line)


def shape_reason(shape: Shape, max_depth: int, max_nodes: int) -> str | None:
    """A measured tree over the depth or node budget: the DL900 message; else None."""
    if shape.depth > max_depth:
        return (f"not analyzed: nested {shape.depth} levels deep (operators, calls, chains), "
                f"over the limit of {max_depth} (raise max-depth in [tool.droplint] or "
                "--max-depth)")
    if shape.weight > max_nodes:
        return (f"not analyzed: {shape.weight:,} weighted syntax nodes, over the limit of "
                f"{max_nodes:,} (raise max-nodes in [tool.droplint] or --max-nodes)")
    return None


def is_risky(shape: Shape, max_depth: int, max_nodes: int) -> bool:
    """Over half a budget, or half the default one (raised budgets let libcst crash)."""
    return shape.depth > RISKY * min(max_depth, MAX_DEPTH) or \
        shape.weight > RISKY * min(max_nodes, MAX_NODES)


# Large texts are counted in tokens first: a 1 MB list literal is 500,000 nodes, and the stdlib
# parser would take ~500 MB before the node budget could refuse it. Real code has 1-2 tokens
# per node (keras/src/ops/numpy_test.py: 125,000 tokens, 111,000 nodes).
TOKENS_PER_NODE = 3
_COUNT_TOKENS_FROM = 200_000  # characters
_TOKEN = re.compile(r"\w+|[^\s\w]")


def estimate_tokens(text: str) -> int:
    """Words and punctuation characters: about the tokenizer's count, at regex speed."""
    return sum(1 for _ in _TOKEN.finditer(text))


def parse_stdlib(text: str) -> ast.AST:
    """ast.parse with the cyclic GC paused (it walks every new node: ~40% of the time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(text)
    finally:
        if enabled:
            gc.enable()


_TREE: list = [None, None]  # the last text parsed by stdlib_tree, and its tree


def stdlib_tree(text: str, *, keep: bool = False) -> ast.AST:
    """The stdlib syntax tree of `text` (gc paused). The checked text is parsed once: the
    budgets pre-check keeps its tree (`keep`), and the loader's positions
    (loaders/positions.py) and the fix checks (fixcheck.py) get it from here, until
    `forget_tree`; other texts (a fix's result) are parsed and not kept. Raises what
    ast.parse raises. Read it, never change it (pyflakes' parent links aside, which nothing
    else reads)."""
    if _TREE[0] is text or (_TREE[0] is not None and _TREE[0] == text):
        return _TREE[1]
    if not keep:
        return parse_stdlib(text)
    _TREE[0] = _TREE[1] = None  # the previous tree is garbage before this one is built
    tree = parse_stdlib(text)
    _TREE[0], _TREE[1] = text, tree
    return tree


def forget_tree() -> None:
    """Let the shared tree go (once its text is checked: a worker keeps no tree between
    files)."""
    _TREE[0] = _TREE[1] = None


_MEMO: dict = {}  # the last text's verdict: the caller and a child process check it once


def precheck_text(text: str, settings) -> Verdict:
    """`precheck` with the settings' budgets (max-file-size on the text too: stdin, the API),
    remembered for the last text."""
    key = (text, settings.max_file_size, settings.max_depth, settings.max_nodes)
    hit = _MEMO.get(key)
    if hit is not None:
        return hit
    too_big = size_reason(len(text), settings.max_file_size)
    verdict = Verdict(too_big) if too_big else precheck(text, settings.max_depth,
                                                         settings.max_nodes)
    _MEMO.clear()
    _MEMO[key] = verdict
    return verdict


def precheck(text: str, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> Verdict:
    """Measure a decoded source with the stdlib parser before libcst sees it.

    Python refusing the nesting (MemoryError / RecursionError, "too many nested parentheses")
    is a reason: the file cannot run either. A plain SyntaxError is not decided here (libcst
    may know syntax newer than this Python): the file is only marked risky."""
    tokens = estimate_tokens(text) if len(text) > _COUNT_TOKENS_FROM else 0
    if tokens > TOKENS_PER_NODE * max_nodes:  # the stdlib parser alone would need ~1 KB each
        return Verdict(f"not analyzed: {tokens:,} tokens, over {TOKENS_PER_NODE} x the limit "
                       f"of {max_nodes:,} syntax nodes (raise max-nodes in [tool.droplint] or "
                       "--max-nodes)")
    try:
        tree = stdlib_tree(text, keep=True)  # for positions and fix checks (forget_tree)
    except SyntaxError as err:
        msg = err.msg or ""
        if "nested" in msg or "too many" in msg or "indentation" in msg and "levels" in msg:
            return Verdict(f"SyntaxError: {msg}", err.lineno or 1, err.offset or 1)
        return Verdict(risky=True)
    except (MemoryError, RecursionError) as err:
        return Verdict(f"SyntaxError: too deeply nested ({type(err).__name__} in Python's "
                       "parser)")
    except ValueError:  # null bytes
        return Verdict(risky=True)
    shape = measure(tree, text)
    del tree
    if shape_reason(shape, max_depth, max_nodes) or is_risky(shape, max_depth, max_nodes):
        forget_tree()  # not parsed here (DL900), or parsed in a child process
    reason = shape_reason(shape, max_depth, max_nodes)
    if reason:
        return Verdict(reason, shape.line, 1, shape=shape)
    return Verdict(risky=is_risky(shape, max_depth, max_nodes), shape=shape)
