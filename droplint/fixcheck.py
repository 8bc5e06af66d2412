"""Completing and checking each finding's fix against the text it will edit (issue 8).

The rules build a fix's edits from the spans the loader records (droplint/fixes.py); they do not
see the text. Here, with the text, every fix becomes the exact edit list `--fix` applies:

1. a rename of a class everywhere (`fixes.rename_everywhere`, DL303's CuDNNLSTM -> LSTM) is
   expanded into an edit at every use of the name in the file, or refused when a use cannot be
   reached (the name is also assigned, defined, deleted, or used where tokens and the syntax tree
   disagree, e.g. inside an f-string);
2. the imports the fix leaves unused are removed (`fixes.prune_imports`), and those edits are
   merged with the rule's into one list (`compose`), so JSON/SARIF `fix.edits` are what --fix
   writes;
3. the result is checked: it parses, pyflakes finds no new undefined, duplicate or unused name,
   every comment is kept, and no import from a private module (`tensorflow.python.keras`) was
   added. A fix that fails is refused: the finding keeps its message, gets `fix_refused` (the
   reason) and "No automatic fix: <reason>." in its help.

Whether a fix adds a droplint error is checked where the fixed text is linted again, in
droplint/fixing.py. Plain data in, plain data out; pyflakes is imported lazily (when it is not
installed, the name check is skipped and the parse, comment and import checks remain).
"""
from __future__ import annotations

import ast
import bisect
import dataclasses
import functools
import io
import re
import tokenize
from collections import Counter
from typing import Iterable, Sequence

from . import fixes
from .budgets import stdlib_tree  # one stdlib parse per text, shared
from .report import Edit, Finding, Fix

# pyflakes messages a fix must not add: names undefined, redefined or unused.
WATCHED = ("UndefinedName", "UndefinedLocal", "UndefinedExport", "RedefinedWhileUnused",
           "UnusedImport", "ImportShadowedByLoopVar", "ImportStarUsage")

Range = tuple[int, int, str]  # (start offset, end offset, new text)


# --- offsets ----------------------------------------------------------------------------------

def _starts(text: str) -> list[int]:
    return fixes._offsets(text)


def to_range(starts: list[int], e: Edit) -> Range:
    return fixes._index(starts, e.line, e.column), fixes._index(starts, e.end_line,
                                                                 e.end_column), e.content


def to_edit(starts: list[int], r: Range, cell: int | None = None) -> Edit:
    def pos(offset):
        i = bisect.bisect_right(starts, offset) - 1
        return i + 1, offset - starts[i] + 1
    (l0, c0), (l1, c1) = pos(r[0]), pos(r[1])
    return Edit(l0, c0, l1, c1, r[2], cell)


def apply_ranges(text: str, ranges: Iterable[Range]) -> str:
    out, pos = [], 0
    for s, e, c in sorted(set(ranges), key=lambda r: (r[0], r[1])):
        if s < pos:
            raise ValueError("overlapping edits")
        out += [text[pos:s], c]
        pos = e
    return "".join(out) + text[pos:]


def diff_ranges(before: str, after: str) -> list[Range]:
    """One range replacing the part of `before` that differs from `after` (common prefix and
    suffix kept); empty when equal."""
    if before == after:
        return []
    n = min(len(before), len(after))
    i = 0
    while i < n and before[i] == after[i]:
        i += 1
    j = 0
    while j < n - i and before[-1 - j] == after[-1 - j]:
        j += 1
    return [(i, len(before) - j, after[i:len(after) - j])]


def merge(text: str, first: Sequence[Range], after_first: str, second: Sequence[Range]
          ) -> list[Range]:
    """Ranges on `text` equal to applying `first` (on `text`, giving `after_first`) and then
    `second` (on `after_first`): ranges of the two that touch are merged into one."""
    first = sorted(set(first), key=lambda r: (r[0], r[1]))
    items = []  # [start, end, kind, range] in the coordinates of `after_first`
    shift = 0
    for s, e, c in first:
        items.append((s + shift, s + shift + len(c), "f", (s, e, c)))
        shift += len(c) - (e - s)
    items += [(r[0], r[1], "s", r) for r in second]
    items.sort(key=lambda it: (it[0], it[1]))
    groups: list[list] = []
    for it in items:
        if groups and it[0] <= groups[-1][1]:
            groups[-1][1] = max(groups[-1][1], it[1])
            groups[-1][2].append(it)
        else:
            groups.append([it[0], it[1], [it]])
    firsts = [it for it in items if it[2] == "f"]

    def to_text(pos: int) -> int:  # a position of `after_first` outside every first range
        delta = 0
        for _a0, a1, _k, (_s, e, _c) in firsts:
            if a1 <= pos:
                delta = e - a1
        return pos + delta

    out: list[Range] = []
    for ga, gb, members in groups:
        seconds = [m[3] for m in members if m[2] == "s"]
        if not seconds:
            out += [m[3] for m in members]
            continue
        t0 = min([m[3][0] for m in members if m[2] == "f" and m[0] == ga] + [to_text(ga)])
        t1 = max([m[3][1] for m in members if m[2] == "f" and m[1] == gb] + [to_text(gb)])
        local = [(s - ga, e - ga, c) for s, e, c in seconds]
        out.append((t0, t1, apply_ranges(after_first[ga:gb], local)))
    return out


# --- renaming a name everywhere ---------------------------------------------------------------

def _import_lines(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def rename_uses(text: str, old: str, new: str) -> list[Range] | str:
    """Ranges renaming every use of the name `old` (not attributes, not import statements), or
    the reason it cannot be done for every use."""
    try:
        tree = stdlib_tree(text)  # the checked text's tree, parsed once
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (SyntaxError, ValueError, tokenize.TokenError, RecursionError, MemoryError):
        return "the file does not parse"
    loads = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == old:
            if not isinstance(node.ctx, ast.Load):
                return f"{old} is also assigned in the file"
            loads += 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node.name == old:
            return f"{old} is also defined in the file"
        elif isinstance(node, ast.arg) and node.arg == old:
            return f"{old} is also a parameter name"
        elif isinstance(node, (ast.Global, ast.Nonlocal)) and old in node.names:
            return f"{old} is declared global"
        elif isinstance(node, ast.Import) and any((a.asname or a.name.split(".")[0]) == old
                                                   for a in node.names):
            return f"{old} is also bound by an import"
        elif isinstance(node, ast.ImportFrom) and any(a.asname == old for a in node.names):
            return f"{old} is also bound by an import"
    skip = _import_lines(tree)
    starts = _starts(text)
    found: list[Range] = []
    previous = None
    for tok in tokens:
        if tok.type == tokenize.NAME and tok.string == old and tok.start[0] not in skip \
                and not (previous is not None and previous.string == "."):
            s = fixes._index(starts, tok.start[0], tok.start[1] + 1)
            found.append((s, s + len(old), new))
        if tok.type not in (tokenize.NL, tokenize.COMMENT, tokenize.NEWLINE):
            previous = tok
    if len(found) != loads:
        return f"a use of {old} cannot be reached (e.g. inside an f-string)"
    return found


# --- checks -----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=16)  # the original text is checked once per fix
def name_problems(text: str, path: str = "<fix>") -> Counter | None:
    """pyflakes' name messages (class name, arguments) in `text`; None without pyflakes."""
    try:
        from pyflakes import checker
    except ImportError:
        return None
    try:
        tree = stdlib_tree(text)
        w = checker.Checker(tree, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Counter()
    return Counter((type(m).__name__, m.message_args) for m in w.messages
                   if type(m).__name__ in WATCHED)


@functools.lru_cache(maxsize=16)  # the original text is checked once per fix
def _comments(text: str) -> Counter:
    try:
        return Counter(t.string.rstrip() for t in tokenize.generate_tokens(io.StringIO(text).readline)
                       if t.type == tokenize.COMMENT)
    except (tokenize.TokenError, SyntaxError, ValueError):
        return Counter()


@functools.lru_cache(maxsize=16)  # the original text is checked once per fix
def _private_from_imports(text: str) -> set[tuple[str, str]]:
    try:
        tree = stdlib_tree(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {(node.module, a.name) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
            and fixes.is_private_module(node.module) for a in node.names}


def _describe(problem) -> str:
    kind, args = problem
    what = {"UndefinedName": "undefined name", "UndefinedLocal": "undefined name",
            "UndefinedExport": "undefined name in __all__",
            "RedefinedWhileUnused": "duplicate name", "UnusedImport": "unused import",
            "ImportShadowedByLoopVar": "import shadowed", "ImportStarUsage": "name from *"}
    return f"{what.get(kind, kind)} {args[0] if args else ''}".strip()


def _lost_comments(before: str, applied: str) -> Counter:
    """Comments the rule's edits delete; `# noqa` comments are what DL910's fix is about, and a
    comment on an import line removed with the import goes with it (checked on `applied`,
    the text before the import clean-up)."""
    lost = _comments(before) - _comments(applied)
    return Counter({c: n for c, n in lost.items() if "noqa" not in c})


def verify(before: str, after: str, base_names: Counter | None, path: str = "<fix>",
           applied: str | None = None) -> str | None:
    """Why `after` (the fixed `before`) must not be written, or None."""
    try:
        ast.parse(after)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "the result would not parse"
    if applied is not None and _lost_comments(before, applied):
        return "it would delete a comment"
    added = _private_from_imports(after) - _private_from_imports(before)
    if added:
        module, name = sorted(added)[0]
        return f"it would import {name} from the private {module}"
    if base_names is not None:
        new = name_problems(after, path) - base_names
        if new:
            return f"the result would have {_describe(sorted(new)[0])}"
    return None


# --- one fix, complete and checked ------------------------------------------------------------

@functools.lru_cache(maxsize=16)  # the original text is checked once per fix
def _keras_bound(text: str) -> set[str]:
    """Names bound by `from <keras module> import ...` in `text` (ast: fast)."""
    try:
        tree = stdlib_tree(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {a.asname or a.name for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and not node.level
            and any(p in ("keras", "tf_keras") for p in node.module.split(".")) for a in node.names}


def _loads(text: str) -> set[str]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _may_prune(text: str, applied: str, words: set[str]) -> bool:
    """Could `fixes.prune_imports` remove something (a keras name a fix replaced that the
    code no longer uses)? A fast test before its libcst pass."""
    if not words or "\x00" in applied:
        return False
    candidates = words & _keras_bound(text)
    return bool(candidates - _loads(applied))


@dataclasses.dataclass
class Completed:
    ranges: list[Range] | None  # on the original text; None when refused
    reason: str | None = None
    after: str | None = None


def complete(text: str, fix: Fix, base_names: Counter | None = None, path: str = "<fix>",
             comments: bool = True) -> Completed:
    """The fix's full edit list on `text` (renames expanded, unused imports removed), checked."""
    if fix.applicability == fixes.REFUSED:
        return Completed(None, fix.description)
    starts = _starts(text)
    ranges: list[Range] = []
    try:
        for e in fix.edits:
            rename = fixes.rename_marker(e)
            if rename is None:
                ranges.append(to_range(starts, e))
                continue
            uses = rename_uses(text, *rename)
            if isinstance(uses, str):
                return Completed(None, uses)
            ranges += uses
        ranges = sorted(set(ranges), key=lambda r: (r[0], r[1]))
        applied = apply_ranges(text, ranges)
    except (ValueError, IndexError):
        return Completed(None, "its edits overlap or fall outside the text")
    words = set()
    for s, e, _c in ranges:
        words.update(re.findall(r"\w+", text[s:e]))
    pruned = applied
    if _may_prune(text, applied, words):
        try:
            pruned = fixes.prune_imports(text, applied, words)
        except Exception:  # noqa: BLE001 - libcst on odd text: keep the fix without pruning
            pruned = applied
    if pruned != applied:
        ranges = merge(text, ranges, applied, diff_ranges(applied, pruned))
    final = apply_ranges(text, ranges)
    if final != pruned:
        return Completed(None, "its edits could not be combined with the import clean-up")
    reason = verify(text, final, base_names, path, applied if comments else None)
    if reason:
        return Completed(None, reason)
    return Completed(ranges, None, final)


def finalize(text: str | None, findings: list[Finding], path: str = "<fix>") -> list[Finding]:
    """Each finding with its fix completed (`complete`), or refused with the reason."""
    if not any(f.fix is not None for f in findings):
        return findings
    cache: dict = {}
    base: list = []
    starts = _starts(text) if text is not None else []
    out = []
    for f in findings:
        fix = f.fix
        if fix is None:
            out.append(f)
            continue
        if text is None:
            out.append(refuse(f, fix.description) if fix.applicability == fixes.REFUSED else f)
            continue
        comments = f.code != "DL910"  # DL910's fix removes a suppression comment
        key = (fix.applicability, fix.edits, comments)
        if key not in cache:
            if not base and fix.applicability != fixes.REFUSED:
                base.append(name_problems(text, path))
            cache[key] = complete(text, fix, base[0] if base else None, path, comments)
        done = cache[key]
        if done.ranges is None:
            out.append(refuse(f, done.reason))
            continue
        cells = {e.cell for e in fix.edits if fixes.rename_marker(e) is None}
        cell = cells.pop() if len(cells) == 1 else None
        edits = tuple(to_edit(starts, r, cell) for r in sorted(done.ranges))
        out.append(dataclasses.replace(f, fix=Fix(fix.applicability, fix.description, edits)))
    return out


def refuse(finding: Finding, reason: str | None) -> Finding:
    reason = (reason or "it cannot be written safely").rstrip(".")
    note = f"No automatic fix: {reason}."
    help = f"{finding.help} {note}" if finding.help else note
    return dataclasses.replace(finding, fix=None, fix_refused=reason, help=help)
