"""`--add-noqa`: write `# noqa: DLxxx` on every line with a finding, merging into the line's
existing suppression comment. Works on any text document (a Python file, a notebook's program)
through document.Document.with_text."""
from __future__ import annotations

import io
import tokenize

from droplint.rules import BY_CODE

from . import fixes
from .config import Settings
from .document import Document, DocumentError
from .report import Edit, Finding
from .suppress import LINES, comment_at, parse
from .unused_noqa import CODE


def _comment_ok_lines(text: str) -> set[int]:
    """Lines whose end is outside any string or backslash continuation: a comment can go
    there."""
    ok: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL):
                ok.add(tok.start[0])
    except (tokenize.TokenError, SyntaxError):
        pass
    return ok


def noqa_edits(text: str, findings: list[Finding]) -> list[Edit]:
    """One edit per line with findings: merge the codes into the line's `# noqa: ...` (or
    `# droplint: ignore[...]`) comment, or append `  # noqa: CODES`."""
    by_line: dict[int, set[str]] = {}
    for f in findings:
        rule = BY_CODE.get(f.code)
        if f.line is None or f.code == CODE or rule is None or rule.loader_only:
            continue
        by_line.setdefault(f.line, set()).add(f.code)
    if not by_line:
        return []
    sup = parse(text)
    lines = LINES.findall(text)
    ok = _comment_ok_lines(text)
    edits = []
    for line_no, codes in sorted(by_line.items()):
        if line_no > len(lines) or line_no not in ok:
            continue
        line = lines[line_no - 1]
        content = line.rstrip("\r\n")
        existing = [(s, comment_at(line, s)) for s in sup.lines.get(line_no, [])]
        merge = next(((s, m) for s, m in existing if m is not None and s.codes is not None), None)
        if merge is not None:
            s, m = merge
            new = sorted(codes - s.codes)
            if new:
                edits.append(Edit.insert(line_no, m.end("codes") + 1, ", " + ", ".join(new)))
        elif not any(s.codes is None for s, _ in existing):
            edits.append(Edit.insert(line_no, len(content) + 1,
                                     "  # noqa: " + ", ".join(sorted(codes))))
    return edits


def add_noqa_text(text: str, findings: list[Finding]) -> tuple[str, int]:
    """The text with the noqa comments added, and how many lines got one."""
    from .fixing import parses

    edits = noqa_edits(text, findings)
    if not edits:
        return text, 0
    new = fixes.apply_edits(text, edits)
    if not parses(new):
        return text, 0
    return new, len(edits)


def add_noqa_document(doc: Document, settings: Settings) -> tuple[bytes, int]:
    """`--add-noqa` on one document: its new content and how many lines were changed (the
    content unchanged when it cannot be decoded or does not parse)."""
    from .pipeline import check_text

    try:
        doc = doc.decoded()
    except DocumentError:
        return doc.raw, 0
    new, count = add_noqa_text(doc.text, check_text(doc.text, doc.path, settings).findings)
    edited = doc.with_text(new) if count else doc
    if edited is doc or (doc.is_notebook and not edited.changes):
        return doc.raw, 0
    return edited.to_bytes(), count


def add_noqa_data(data: bytes, path: str, settings: Settings) -> tuple[bytes, int]:
    """`--add-noqa` on a file's content: the new content and how many lines were changed."""
    return add_noqa_document(Document.from_bytes(path, data), settings)


def add_noqa_file(path: str, settings: Settings) -> int:
    """Add the comments to one file on disk (written atomically); lines changed."""
    from .fixing import write_atomic

    doc = Document.from_path(path)
    after, count = add_noqa_document(doc, settings)
    if count and after != doc.raw:
        from .safe_write import WriteRefused

        try:
            write_atomic(path, after, doc.raw)
        except WriteRefused as exc:
            import sys

            print(f"droplint: warning: {path}: noqa comments not added: {exc}",
                  file=sys.stderr)
            return 0
    return count
