"""Suppression comments, the other way round: `--add-noqa` writes `# noqa: DLxxx` for every
current finding, and `unused_noqa` reports droplint codes in a suppression that matched
nothing (DL910 unused-noqa, like ruff's RUF100).

Only droplint's own codes (`DLnnn`) and rule names are judged: `# noqa: E501` belongs to
another linter, and a bare `# noqa` (which suppresses everything) is never reported.
"""
from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from .config import Settings
from .report import Edit, Finding, Fix, Severity
from .suppress import _IGNORE, _NOQA, Suppression, Suppressions

CODE = "DL910"
NAME = "unused-noqa"
_DL_CODE = re.compile(r"DL\d[0-9A-Z]*$")  # DL101, and typos such as DL1O1
_TOKEN = re.compile(r"[\w-]+")
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _norm(code: str) -> str:
    return code.upper() if code[:2].upper() == "DL" else code.lower()


def _ours(code: str) -> bool:
    from droplint.rules import BY_NAME

    return bool(_DL_CODE.match(code)) or code in BY_NAME


def _comment(line: str, s: Suppression) -> re.Match | None:
    for pattern in (_IGNORE, _NOQA):
        m = pattern.match(line, s.column - 1)
        if m:
            return m
    return None


def _drop_codes(group: str, drop: set[str]) -> str:
    """`DL101, E501` without DL101 -> `E501`, keeping the other codes' separators."""
    parts = re.split(r"([\s,]+)", group)
    kept = [(tok, sep) for tok, sep in zip(parts[::2], parts[1::2] + [""])
            if tok and _norm(tok) not in drop]
    return "".join(tok + (sep if i < len(kept) - 1 else "") for i, (tok, sep) in enumerate(kept))


def _removal(line_no: int, line: str, m: re.Match, drop: set[str]) -> Edit:
    """The edit that removes `drop` from the comment `m` on `line` (or the whole comment)."""
    rest = _drop_codes(m.group("codes"), drop)
    if rest:
        return Edit(line_no, m.start("codes") + 1, line_no, m.end("codes") + 1, rest)
    content = line.rstrip("\r\n")
    if content[m.end():].strip():  # something follows the comment: keep it
        end = len(content) - len(content[m.end():].lstrip())
        return Edit(line_no, m.start() + 1, line_no, end + 1, "")
    start = len(content[:m.start()].rstrip())
    return Edit(line_no, start + 1, line_no, len(content) + 1, "")


def _describe(codes: list[str], unknown: set[str]) -> str:
    known = [c for c in codes if c not in unknown]
    parts = []
    if known:
        parts.append("unused: " + ", ".join(f"`{c}`" for c in known))
    if unknown:
        parts.append("unknown: " + ", ".join(f"`{c}`" for c in sorted(unknown)))
    return "; ".join(parts)


def unused_noqa(sup: Suppressions, findings: list[Finding], text: str, path: str,
                settings: Settings) -> list[Finding]:
    """DL910 findings for the droplint codes of line suppressions that matched no finding.
    `findings`: every finding of the file before suppression (from the rules that ran)."""
    from droplint.rules import lookup

    from .selection import selected_rules

    if not sup.lines or sup.file_codes is None or {CODE, NAME} & sup.file_codes:
        return []
    ran = {r.code for r in selected_rules(settings, path)}
    if CODE not in ran:
        return []
    lines = _LINES.findall(text)
    out = []
    for line_no, comments in sorted(sup.lines.items()):
        if any(s.codes is None or {CODE, NAME} & s.codes for s in comments):
            continue  # a bare suppression, or DL910 itself suppressed on this line
        hits = {key for f in findings if f.line == line_no for key in (f.code, f.name)}
        for s in comments:
            rules = {c: lookup(c) for c in s.codes if _ours(c)}
            unknown = {c for c, r in rules.items() if r is None}
            unused = sorted(c for c, r in rules.items()
                            if c not in hits and (r is None or r.code in ran))
            m = _comment(lines[line_no - 1], s) if line_no <= len(lines) else None
            if not unused or m is None:
                continue
            fix = Fix("safe", "remove the unused suppression" if len(unused) == len(s.codes)
                      else f"remove {', '.join(unused)} from the suppression",
                      (_removal(line_no, lines[line_no - 1], m, set(unused)),))
            message = (f"Unused suppression `{m.group(0).strip()}` "
                       f"({_describe(unused, unknown & set(unused))}): nothing on this line "
                       "is reported under that code, so the comment only hides a future "
                       "finding. Remove it.")
            out.append(Finding(CODE, NAME, Severity.WARNING, path, line_no, m.start() + 1,
                               line_no, m.end() + 1, message, fix=fix))
    return out


# --- --add-noqa -------------------------------------------------------------------------------

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
    from droplint.rules import BY_CODE

    from .suppress import parse

    by_line: dict[int, set[str]] = {}
    for f in findings:
        rule = BY_CODE.get(f.code)
        if f.line is None or f.code == CODE or rule is None or rule.loader_only:
            continue
        by_line.setdefault(f.line, set()).add(f.code)
    if not by_line:
        return []
    sup = parse(text)
    lines = _LINES.findall(text)
    ok = _comment_ok_lines(text)
    edits = []
    for line_no, codes in sorted(by_line.items()):
        if line_no > len(lines) or line_no not in ok:
            continue
        line = lines[line_no - 1]
        content = line.rstrip("\r\n")
        existing = [(s, _comment(line, s)) for s in sup.lines.get(line_no, [])]
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
    from . import fixes
    from .fixer import parses

    edits = noqa_edits(text, findings)
    if not edits:
        return text, 0
    new = fixes.apply_edits(text, edits)
    if not parses(new):
        return text, 0
    return new, len(edits)


def add_noqa_data(data: bytes, path: str, settings: Settings) -> tuple[bytes, int]:
    """`--add-noqa` on a file's content: the new content and how many lines were changed."""
    from .api import DecodeError, decode_source, lint_text

    if path.endswith(".ipynb"):
        from .loaders.notebook import edit_notebook

        count = 0

        def edit(text: str, result) -> str:
            nonlocal count
            new, count = add_noqa_text(text, result.findings)
            return new

        after, changes = edit_notebook(data, path, settings, edit)
        return after, count if changes else 0
    try:
        text, encoding = decode_source(data)
    except DecodeError:
        return data, 0
    new, count = add_noqa_text(text, lint_text(text, path, settings).findings)
    if not count:
        return data, 0
    return new.encode(encoding), count


def add_noqa_file(path: str, settings: Settings) -> int:
    """Add the comments to one file on disk (written atomically); lines changed."""
    from .fixer import write_atomic

    data = Path(path).read_bytes()
    after, count = add_noqa_data(data, path, settings)
    if count and after != data:
        write_atomic(path, after)
    return count
