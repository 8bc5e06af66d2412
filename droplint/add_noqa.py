"""`--add-noqa`: write `# noqa: DLxxx` on every line with a finding, merging into the line's
existing suppression comment. Works on any text document (a Python file, a notebook's program)
through document.Document.with_text.

A suppression counts on the line where the finding starts (suppress.py reads real comments
with the tokenizer), so the comment must go at the end of that line, and Python must allow a
comment there:

- a line that ends outside any string and continuation: the comment is appended;
- a line that ends in a backslash inside brackets: the backslash is not needed there (the
  brackets continue the line), so it is replaced by the comment;
- a line that ends in a backslash outside brackets, or inside a string (a multi-line string
  opens on it): no comment can go there. The finding is not suppressed and is reported
  (`skipped`: "line 3 (inside a string)"), never silently left out.
"""
from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass, field

from droplint.rules import BY_CODE

from . import fixes
from .config import Settings
from .document import Document, DocumentError
from .report import Edit, Finding
from .suppress import LINES, comment_at, parse
from .unused_noqa import CODE

OK, BRACKET_BACKSLASH = "ok", "bracket-backslash"
IN_STRING = "inside a string"
BACKSLASH = "after a backslash continuation"
_OPEN, _CLOSE = "([{", ")]}"


@dataclass
class NoqaPlan:
    """The edits for one text, and the findings' lines that cannot get a comment:
    (line, why, number of findings there)."""

    edits: list[Edit] = field(default_factory=list)
    skipped: list[tuple[int, str, int]] = field(default_factory=list)


def line_ends(text: str) -> dict[int, str] | None:
    """How each line of `text` ends, for a comment: OK, BRACKET_BACKSLASH, BACKSLASH or
    IN_STRING (lines not listed are inside no statement, e.g. past the end). None when the
    text does not tokenize."""
    norm = text.replace("\r\n", "\n").replace("\r", "\n")  # Python's line breaks, same lines
    kinds: dict[int, str] = {}
    depth_after: dict[int, int] = {}
    depth = 0
    fstrings: list[int] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(norm).readline):
            name = tokenize.tok_name[tok.type]
            if tok.type in (tokenize.NEWLINE, tokenize.NL):
                kinds[tok.start[0]] = OK
            elif tok.type == tokenize.STRING:
                for row in range(tok.start[0], tok.end[0]):
                    kinds[row] = IN_STRING
            elif name == "FSTRING_START":  # Python 3.12+: an f-string in several tokens
                fstrings.append(tok.start[0])
            elif name == "FSTRING_END" and fstrings:
                for row in range(fstrings.pop(), tok.end[0]):
                    kinds[row] = IN_STRING
            elif tok.type == tokenize.OP and tok.string in _OPEN:
                depth += 1
            elif tok.type == tokenize.OP and tok.string in _CLOSE:
                depth = max(0, depth - 1)
            depth_after[tok.end[0]] = depth
    except (tokenize.TokenError, SyntaxError):
        return None
    for row, line in enumerate(norm.split("\n"), 1):
        if row not in kinds and line.rstrip().endswith("\\"):
            kinds[row] = BRACKET_BACKSLASH if depth_after.get(row, 0) > 0 else BACKSLASH
    return kinds


def _codes_by_line(findings: list[Finding]) -> dict[int, dict[str, int]]:
    """{line: {code: number of findings}} of the findings a comment can suppress."""
    by_line: dict[int, dict[str, int]] = {}
    for f in findings:
        rule = BY_CODE.get(f.code)
        if f.line is None or f.code == CODE or rule is None or rule.loader_only:
            continue
        codes = by_line.setdefault(f.line, {})
        codes[f.code] = codes.get(f.code, 0) + 1
    return by_line


def plan(text: str, findings: list[Finding]) -> NoqaPlan:
    """One edit per line with findings: merge the codes into the line's `# noqa: ...` (or
    `# droplint: ignore[...]`) comment, or add `  # noqa: CODES` (see the module doc)."""
    out = NoqaPlan()
    by_line = _codes_by_line(findings)
    if not by_line:
        return out
    ends = line_ends(text)
    if ends is None:
        out.skipped = [(n, "the file does not tokenize", sum(c.values()))
                       for n, c in sorted(by_line.items())]
        return out
    sup = parse(text)
    lines = LINES.findall(text)
    for line_no, counts in sorted(by_line.items()):
        codes = set(counts)
        kind = ends.get(line_no) if line_no <= len(lines) else None
        if kind not in (OK, BRACKET_BACKSLASH):
            out.skipped.append((line_no, kind or "outside the text", sum(counts.values())))
            continue
        line = lines[line_no - 1]
        content = line.rstrip("\r\n")
        comment = "  # noqa: " + ", ".join(sorted(codes))
        if kind == BRACKET_BACKSLASH:  # `f(a, \` -> `f(a,  # noqa: DL101`
            keep = content.rstrip()[:-1].rstrip()
            out.edits.append(Edit(line_no, len(keep) + 1, line_no, len(content) + 1, comment))
            continue
        existing = [(s, comment_at(line, s)) for s in sup.lines.get(line_no, [])]
        merge = next(((s, m) for s, m in existing if m is not None and s.codes is not None), None)
        if merge is not None:
            s, m = merge
            new = sorted(codes - s.codes)
            if new:
                out.edits.append(Edit.insert(line_no, m.end("codes") + 1, ", " + ", ".join(new)))
        elif not any(s.codes is None for s, _ in existing):
            out.edits.append(Edit.insert(line_no, len(content) + 1, comment))
    return out


def noqa_edits(text: str, findings: list[Finding]) -> list[Edit]:
    """The edits of `plan` (the language server's code action)."""
    return plan(text, findings).edits


def add_noqa_text(text: str, findings: list[Finding]) -> tuple[str, int]:
    """The text with the noqa comments added, and how many lines got one."""
    new, count, _skipped = _add(text, findings)
    return new, count


def _add(text: str, findings: list[Finding]) -> tuple[str, int, list[tuple[int, str, int]]]:
    from .fixing import parses

    p = plan(text, findings)
    if not p.edits:
        return text, 0, p.skipped
    new = fixes.apply_edits(text, p.edits)
    if not parses(new):
        everything = _codes_by_line(findings)
        return text, 0, [(n, "the result would not parse", sum(c.values()))
                         for n, c in sorted(everything.items())]
    return new, len(p.edits), p.skipped


@dataclass
class NoqaResult:
    """`--add-noqa` on one document: its new content, how many lines got a comment, and the
    findings that did not: (where, why, how many findings) with where "line 3" or
    "cell 2, line 3"."""

    path: str
    data: bytes
    count: int = 0
    skipped: list[tuple[str, str, int]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list, repr=False)  # the document's

    @property
    def unsuppressed(self) -> int:
        return sum(n for _where, _why, n in self.skipped)


def _all_skipped(doc: Document, findings: list[Finding], why: str) -> NoqaResult:
    by_line = _codes_by_line(findings)
    return NoqaResult(doc.path, doc.raw, 0, [(_where(doc, n), why, sum(c.values()))
                                             for n, c in sorted(by_line.items())], findings)


def _where(doc: Document, line: int) -> str:
    if doc.program is not None:
        cell, line = doc.program.locate(line)
        return f"cell {cell}, line {line}"
    return f"line {line}"


def noqa_document(doc: Document, settings: Settings) -> NoqaResult:
    """`--add-noqa` on one document (nothing is written)."""
    from .pipeline import check_text

    if not doc.is_text:
        return NoqaResult(doc.path, doc.raw or b"")  # a model file: no line to comment on
    try:
        doc = doc.decoded()
    except DocumentError:
        return NoqaResult(doc.path, doc.raw)  # DL900: reported by the check, not suppressible
    findings = check_text(doc.text, doc.path, settings).findings
    why = doc.write_problem()
    if why:
        return _all_skipped(doc, findings, why)
    new, count, skipped = _add(doc.text, findings)
    result = NoqaResult(doc.path, doc.raw, 0, [(_where(doc, n), w, k) for n, w, k in skipped],
                        findings)
    if not count:
        return result
    edited = doc.with_text(new)
    if doc.is_notebook and not edited.changes:
        return _all_skipped(doc, findings, "the comments cannot be written back into the "
                                           "notebook's cells")
    result.data, result.count = edited.to_bytes(), count
    return result


def add_noqa_document(doc: Document, settings: Settings) -> tuple[bytes, int]:
    """`--add-noqa` on one document: its new content and how many lines were changed (the
    content unchanged when it cannot be decoded or does not parse)."""
    result = noqa_document(doc, settings)
    return result.data, result.count


def add_noqa_data(data: bytes, path: str, settings: Settings) -> tuple[bytes, int]:
    """`--add-noqa` on a file's content: the new content and how many lines were changed."""
    return add_noqa_document(Document.from_bytes(path, data), settings)


def add_noqa_file(path: str, settings: Settings) -> NoqaResult:
    """Add the comments to one file on disk (safe_write.replace_file). A file that cannot be
    written gets every finding in `skipped`, with the reason."""
    from .fixing import write_atomic
    from .safe_write import WriteRefused

    try:
        doc = Document.from_path(path)
    except DocumentError:
        return NoqaResult(path, b"")  # reported by the check (DL900)
    result = noqa_document(doc, settings)
    if result.count and result.data != doc.raw:
        try:
            write_atomic(path, result.data, doc.raw)
        except WriteRefused as exc:
            return _all_skipped(doc.decoded(), result.findings, f"not written: {exc}")
    return result


def summary(results: list[NoqaResult]) -> tuple[str, list[str]]:
    """What `--add-noqa` prints: how many comments were added (stdout), and one warning line
    per file with findings that could not get one (stderr)."""
    from .render.escape import safe_text

    count = sum(r.count for r in results)
    warnings = []
    for r in results:
        if r.skipped:
            n = r.unsuppressed
            where = ", ".join(f"{w} ({why})" for w, why, _k in r.skipped)
            warnings.append(safe_text(f"droplint: warning: {r.path}: {n} finding"
                                      f"{'s' if n != 1 else ''} could not get a noqa comment: "
                                      f"{where}", keep_newlines=False))
    return f"Added {count} noqa directive{'s' if count != 1 else ''}.", warnings
