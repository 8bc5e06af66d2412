"""Applying fixes (--fix, --diff): lint, apply the wanted non-overlapping fixes, lint again,
until nothing changes (at most MAX_PASSES passes), as ruff does.

The edits themselves come from the rules (droplint/fixes.py builds them, `fixes.apply_edits`
applies them to a text). This module decides which fixes to apply, checks that the result
still parses (libcst), edits any text document (a Python file, a notebook's program) through
document.Document.with_text, and writes files atomically. A text that does not parse is never
changed.
"""
from __future__ import annotations

import difflib
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from . import fixcheck, fixes
from .config import Settings
from .document import Document, DocumentError
from .pipeline import FileResult, check_document, check_text, loader_finding
from .report import Edit, Finding

MAX_PASSES = 100  # a pass per fix sharing an import edit with another


def wanted(finding: Finding, unsafe: bool) -> bool:
    """Does `--fix` (with `--unsafe-fixes` when `unsafe`) apply this finding's fix?"""
    fix = finding.fix
    return fix is not None and bool(fix.edits) and (fix.applicability == "safe" or unsafe)


def parses(text: str) -> bool:
    import libcst

    try:
        libcst.parse_module(text)
    except (libcst.ParserSyntaxError, ValueError, RecursionError):
        return False
    return True


def _newline(text: str) -> str:
    """The file's line ending, so that inserted lines match it."""
    i = text.find("\n")
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


def _apply(text: str, chosen: list[Finding]) -> str | None:
    nl = _newline(text)
    edits = [e if nl == "\n" else
             Edit(e.line, e.column, e.end_line, e.end_column,
                        e.content.replace("\r\n", "\n").replace("\n", nl))
             for f in chosen for e in f.fix.edits]
    try:
        return fixes.apply_edits(text, edits)
    except (ValueError, IndexError):
        return None


def _select(findings: list[Finding], unsafe: bool, skip: set) -> list[Finding]:
    """The wanted fixes in report order, skipping any that overlaps or shares an edit with one
    already taken (it is tried again on the next pass, after the text has been linted anew,
    so that its import clean-up sees the text the others left). Fixes with the same edits (a
    class renamed everywhere, reported at each use) go together."""
    taken: list[Finding] = []
    edits: list = []
    sets: set = set()
    for f in sorted(findings, key=Finding.sort_key):
        if not wanted(f, unsafe) or _key(f) in skip:
            continue
        mine = frozenset(f.fix.edits)
        if mine not in sets and any(fixes.overlaps(e, a) or e == a
                                    for e in f.fix.edits for a in edits):
            continue
        taken.append(f)
        sets.add(mine)
        edits.extend(f.fix.edits)
    return taken


def _key(f: Finding) -> tuple:
    return (f.code, f.message, f.fix.description if f.fix else None)


def _errors(result) -> Counter:
    return Counter(f.code for f in result.findings if f.severity.value == "error")


def _why_not(before_result, after_result, base_names, text: str) -> str | None:
    """Why the fixed `text` (linted: `after_result`) must be rolled back, or None: a new
    droplint error, a new undefined/duplicate/unused name (pyflakes), or it does not parse."""
    if not parses(text):
        return "the result does not parse"
    new = _errors(after_result) - _errors(before_result)
    if new:
        return f"it adds droplint error {sorted(new)[0]}"
    if base_names is not None:
        names = fixcheck.name_problems(text) - base_names
        if names:
            return f"it adds pyflakes {sorted(names)[0][0]} {sorted(names)[0][1]}"
    return None


@dataclass
class FixOutcome:
    text: str  # the fixed text (the input when nothing was applied)
    fixed: list[Finding]  # the findings whose fixes were applied, in the order applied
    result: object  # the lint of `text` (what remains), as returned by `lint`
    rolled_back: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, why)

    @property
    def findings(self) -> list[Finding]:
        return self.result.findings


def fix_text(text: str, lint: Callable[[str], object], *, unsafe: bool = False,
             max_passes: int = MAX_PASSES) -> FixOutcome:
    """`lint(text)` returns an object with `.findings` (pipeline.FileResult). Each pass applies
    the selected fixes together, lints the result and keeps it only when it passes `_why_not`;
    otherwise the fixes are tried one at a time and each that fails alone is rolled back
    (reported in `rolled_back`, never tried again)."""
    result = lint(text)
    fixed: list[Finding] = []
    rolled: list[tuple[Finding, str]] = []
    if any(f.code == "DL900" for f in result.findings) or not parses(text):
        return FixOutcome(text, fixed, result)
    base_names = fixcheck.name_problems(text)
    skip: set = set()
    for _ in range(max_passes):
        chosen = _select(result.findings, unsafe, skip)
        if not chosen:
            break
        new = _apply(text, chosen)
        after = lint(new) if new is not None and new != text else None
        if after is not None and _why_not(result, after, base_names, new) is None:
            text, result = new, after
            fixed.extend(chosen)
            continue
        progressed = False
        for f in chosen:  # one at a time: keep the first that passes, retry the rest anew
            new = _apply(text, [f])
            after = lint(new) if new is not None and new != text else None
            why = "its edits do not apply" if after is None else \
                _why_not(result, after, base_names, new)
            if why is None:
                text, result = new, after
                fixed.append(f)
                progressed = True
                break
            skip.add(_key(f))
            rolled.append((f, why))
        if not progressed and not _select(result.findings, unsafe, skip):
            break
    return FixOutcome(text, fixed, result, rolled)


# --- files ------------------------------------------------------------------------------------

@dataclass
class FileFix:
    """What fixing one file did: its bytes before and after, the fixes applied, and the
    lint of the result (pipeline.FileResult: the remaining findings and the sites)."""

    path: str
    before: bytes
    after: bytes
    fixed: list[Finding] = field(default_factory=list)
    result: object = None
    diff: str = ""
    rolled_back: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, why)

    @property
    def changed(self) -> bool:
        return self.after != self.before


def fix_document(doc: Document, settings: Settings, *, unsafe: bool = False) -> FileFix:
    """Fix one text document (nothing is written): a Python file's text, or a notebook's
    code cells as one program (only the changed cells are written back)."""
    before = doc.to_bytes()
    try:
        doc = doc.decoded()
    except DocumentError as exc:
        result = check_document(doc, settings) if doc.is_notebook else \
            FileResult(doc.path, [loader_finding("DL900", doc.path, exc.message)])
        return FileFix(doc.path, before, before, result=result)
    if doc.write_problem():  # unicode_escape...: its findings say why they are not fixed
        return FileFix(doc.path, before, before, result=check_document(doc, settings))
    outcome = fix_text(doc.text, lambda t: check_text(t, doc.path, settings), unsafe=unsafe)
    edited = doc.with_text(outcome.text)
    if not doc.is_notebook:
        return FileFix(doc.path, before, edited.to_bytes(), outcome.fixed, outcome.result,
                       unified_diff(doc.path, doc.text, outcome.text), outcome.rolled_back)
    after = edited.to_bytes() if edited.changes else before
    diff = "".join(unified_diff(doc.path, old, new, label=f"{doc.path}:cell {n}")
                   for n, old, new in edited.changes)
    return FileFix(doc.path, before, after, outcome.fixed if edited.changes else [],
                   check_document(Document.from_bytes(doc.path, after), settings), diff,
                   outcome.rolled_back)


def fix_data(data: bytes, path: str, settings: Settings, *, unsafe: bool = False,
             stdin: bool = False) -> FileFix:
    """Fix the content of a Python file or notebook named `path` (nothing is written)."""
    return fix_document(Document.from_bytes(path, data, stdin=stdin), settings, unsafe=unsafe)


def fix_file(path: str, settings: Settings, *, unsafe: bool = False,
             write: bool = True) -> FileFix:
    """Fix one file on disk; written (atomically) only when something changed and `write`."""
    doc = Document.from_path(path)
    result = fix_document(doc, settings, unsafe=unsafe)
    if write and result.changed:
        from .safe_write import WriteRefused

        try:
            write_atomic(path, result.after, doc.raw)
        except WriteRefused as exc:
            from .render.escape import safe_text

            print(safe_text(f"droplint: warning: {path}: not fixed: {exc}", False),
                  file=sys.stderr)
            result.after = result.before  # nothing changed on disk
    return result


def unified_diff(path: str, before: str, after: str, label: str | None = None) -> str:
    if before == after:
        return ""
    name = label or path
    lines = difflib.unified_diff(before.splitlines(keepends=True),
                                 after.splitlines(keepends=True), f"a/{name}", f"b/{name}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def write_atomic(path: str, data: bytes, expected: bytes | None = None) -> None:
    """Replace the file safely (safe_write.replace_file: owner, mode, links, read-only files,
    a change on disk since `expected` was read, encodings that do not round-trip)."""
    from .safe_write import replace_file

    replace_file(path, data, expected)


# --- the command line's --fix / --diff / --show-fixes -----------------------------------------

def fix_paths(paths: list[str], settings: Settings, *, unsafe: bool = False,
              write: bool = True) -> list[FileFix]:
    """Fix each file (nothing is written when not `write`); returns what each fix did."""
    return [fix_file(p, settings, unsafe=unsafe, write=write) for p in paths]


def fixable_paths(findings: list[Finding], unsafe: bool) -> list[str]:
    """Files with at least one fix that --fix (with --unsafe-fixes when `unsafe`) applies."""
    return sorted({f.path for f in findings if wanted(f, unsafe)})


def summary(done: list[FileFix], *, verb: str = "Fixed", show: bool = False) -> str:
    """`Fixed 3 findings in 2 files.` and, with `show` (--show-fixes), the count per file and
    rule, as ruff prints it."""
    from collections import Counter

    changed = [d for d in done if d.changed]
    total = sum(len(d.fixed) for d in changed)
    rolled = [f"droplint: warning: {d.path}:{f.line}:{f.column}: {f.code} fix not applied: {why}"
              for d in done for f, why in d.rolled_back]
    from .render.escape import safe_text  # paths and reasons quote file names and content

    if not total:
        none = [] if verb == "Fixed" else ["No fixes to apply."]
        return safe_text("\n".join(rolled + none))
    lines = [f"{verb} {total} finding{'s' if total != 1 else ''} in {len(changed)} "
             f"file{'s' if len(changed) != 1 else ''}" + (":" if show else ".")]
    if show:
        for d in changed:
            lines.append(f"- {d.path}:")
            counts = Counter((f.code, f.name) for f in d.fixed)
            lines += [f"    {n} × {code} ({name})" for (code, name), n in sorted(counts.items())]
    return safe_text("\n".join(rolled + lines))
