"""DL910 unused-noqa: droplint codes in a suppression comment that matched nothing (like
ruff's RUF100). The pipeline calls `unused_noqa` after matching the suppressions
(suppress.py parses them; add_noqa.py writes them).

Only droplint's own codes (`DLnnn`) and rule names are judged: `# noqa: E501` belongs to
another linter, and a bare `# noqa` (which suppresses everything) is never reported.
"""
from __future__ import annotations

import re

from droplint.rules import BY_CODE, BY_NAME, lookup

from .config import Settings
from .graph import Span
from .report import Edit, Finding, Fix
from .selection import selected_rules
from .suppress import LINES, Suppression, Suppressions, comment_at

RULE = BY_CODE["DL910"]
CODE, NAME = RULE.code, RULE.name
_DL_CODE = re.compile(r"DL\d[0-9A-Z]*$")  # DL101, and typos such as DL1O1


def _norm(code: str) -> str:
    return code.upper() if code[:2].upper() == "DL" else code.lower()


def _ours(code: str) -> bool:
    return bool(_DL_CODE.match(code)) or code in BY_NAME


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
    if not sup.lines or sup.file_codes is None or {CODE, NAME} & sup.file_codes:
        return []
    ran = {r.code for r in selected_rules(settings, path)}
    if CODE not in ran:
        return []
    lines = LINES.findall(text)
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
            m = comment_at(lines[line_no - 1], s) if line_no <= len(lines) else None
            if not unused or m is None:
                continue
            fix = Fix("safe", "remove the unused suppression" if len(unused) == len(s.codes)
                      else f"remove {', '.join(unused)} from the suppression",
                      (_removal(line_no, lines[line_no - 1], m, set(unused)),))
            message = (f"Unused suppression `{m.group(0).strip()}` "
                       f"({_describe(unused, unknown & set(unused))})")
            help = ("Nothing on this line is reported under that code, so the comment only "
                    "hides a future finding. Remove it.")
            out.append(RULE.finding_at(path, message,
                                       Span(line_no, m.start() + 1, line_no, m.end() + 1),
                                       fix=fix, help=help))
    return out
