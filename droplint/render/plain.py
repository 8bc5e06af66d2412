"""The concise text of a report as a plain string: what `str(report)` / `print(report)` give.

Plain data in, plain string out: findings and the report are read through their attributes,
and droplint.report is never imported here, so `Report.__str__` can import this module inside
the method without an import cycle (report <- render stays the only direction). render/text.py
builds its coloured output from the same functions (`location`, `summary_sentence`), so both
say the same thing.
"""
from __future__ import annotations

import shutil
import textwrap
from collections import Counter

from .escape import safe_text


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"


def location(f) -> str:
    """`path:line:col`, `path:cell N:line:col` (notebooks) or `path [layer_name]` (models),
    for a finding or a site."""
    if f.line is None:
        return f"{f.path} [{f.layer_name}]" if f.layer_name else f.path
    cell = f"cell {f.cell}:" if f.cell is not None else ""
    return f"{f.path}:{cell}{f.line}:{f.column or 1}"


def severity(f) -> str:
    return getattr(f.severity, "value", f.severity)


def finding_line(f) -> str:
    """`path:line:col: DL101 [info] message` on one line."""
    return f"{location(f)}: {f.code} [{severity(f)}] {' '.join(f.message.split())}"


def summary_sentence(report) -> str:
    """`Found 2 findings (1 error, 1 info) in 1 file; 1 fixable with --fix.`, or `All checks
    passed! (...)` / `No files checked: ...`."""
    findings = report.findings
    if not findings:
        if report.files_checked == 0:
            return "No files checked: no Python files, notebooks or models found."
        return (f"All checks passed! ({plural(report.files_checked, 'file')}, "
                f"{plural(len(report.sites), 'dropout site')})")
    counts = Counter(severity(f) for f in findings)
    by_sev = ", ".join(f"{counts[s]} {s}{'s' if s != 'info' and counts[s] != 1 else ''}"
                       for s in ("error", "warning", "info") if counts[s])
    files = len({f.path for f in findings})
    checked = max(report.files_checked, files)
    where = plural(files, "file") if files == checked else f"{files} of {plural(checked, 'file')}"
    text = f"Found {plural(len(findings), 'finding')} ({by_sev}) in {where}"
    safe = sum(1 for f in findings if f.fix and f.fix.applicability == "safe")
    unsafe = sum(1 for f in findings if f.fix and f.fix.applicability != "safe")
    if safe:
        text += f"; {safe} fixable with --fix"
        if unsafe:
            text += f" ({unsafe} more with --unsafe-fixes)"
    elif unsafe:
        text += f"; {unsafe} fixable with --fix --unsafe-fixes"
    return text + "."


def concise(report) -> str:
    """One line per finding, the notes, the summary: `droplint check --format concise` without
    colour."""
    lines = [finding_line(f) for f in report.findings]
    lines += [f"note: {n}" for n in report.notes]
    lines.append(summary_sentence(report))
    return safe_text("\n".join(lines))


def width() -> int:
    """COLUMNS, else the terminal's width, else 80; between 40 and 120."""
    return max(40, min(120, shutil.get_terminal_size((80, 24)).columns))


def rules_lines(rows: list[dict], columns: int | None = None) -> list[str]:
    """`droplint rules`: `code  name  severity  fix` on one line, the summary wrapped under it,
    indented; fits in `columns` (default: the terminal's width, 80 when not a terminal)."""
    columns = columns or width()
    keys = ("code", "name", "severity", "fix")
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in keys}
    indent = " " * (widths["code"] + 2)
    out = ["  ".join(f"{k:<{widths[k]}}" for k in keys).rstrip()]
    for r in rows:
        out.append("  ".join(f"{r[k]:<{widths[k]}}" for k in keys).rstrip())
        out += textwrap.wrap(r["summary"], columns, initial_indent=indent,
                             subsequent_indent=indent, break_on_hyphens=False)
    return out
