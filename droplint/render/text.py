"""Human output: `full` (ruff-like, a code frame under each finding) and `concise` (one line
each). Pure functions from a Report to a rich Text; colour is applied only when printed to a
terminal that wants it, so `Text.plain` is the exact no-colour output."""
from __future__ import annotations

import shutil
import textwrap

from rich.text import Text

from ..report import Finding, Report, Severity, Site
from . import plain
from .escape import safe_rich, safe_text
from .sources import Sources

SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "bold cyan"}
GUTTER = "blue"
CONTEXT_BEFORE, CONTEXT_AFTER = 2, 1
MAX_WIDTH = 100  # help text is wrapped to the terminal's width, at most this


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"


def location(f: Finding | Site) -> str:
    """`path:line:col`, `path:cell N:line:col` (notebooks) or `path [layer_name]` (models),
    for a finding or a site (render/plain.py: the same words as `str(report)`)."""
    return plain.location(f)


def _sev(f: Finding) -> str:
    return f.severity.value if isinstance(f.severity, Severity) else str(f.severity)


def header(f: Finding, detail: str) -> Text:
    """`path:line:col: DL101 [info] <detail>`."""
    sev = _sev(f)
    out = Text()
    out.append(safe_text(location(f)), style="bold")
    out.append(": ")
    out.append(f.code, style=SEVERITY_STYLE.get(sev, "bold"))
    out.append(" ")
    out.append(f"[{sev}]", style=SEVERITY_STYLE.get(sev, ""))
    out.append(" ")
    out.append(safe_text(detail, False))
    return out


def _one_line(message: str) -> str:
    return " ".join(message.split())


def frame(f: Finding, sources: Sources) -> list[Text]:
    """A few numbered source lines around the finding with a caret line under its range.
    Empty when the finding has no line or the source cannot be read."""
    if f.line is None:
        return []
    lines = sources.lines(f.path, f.cell)
    if lines is None or not 1 <= f.line <= len(lines):
        return []
    first = max(1, f.line - CONTEXT_BEFORE)
    last = min(len(lines), f.line + CONTEXT_AFTER)
    while first < f.line and not lines[first - 1].strip():
        first += 1
    while last > f.line and not lines[last - 1].strip():
        last -= 1
    width = len(str(last))
    bar = Text.assemble((" " * width + " |", GUTTER))
    out = [bar.copy()]
    for n in range(first, last + 1):
        raw = lines[n - 1]
        shown = " " + safe_text(raw.expandtabs(4), False) if raw else ""  # before rich: it
        row = Text.assemble((f"{n:>{width}} |", GUTTER), shown)  # drops BEL, BS and CR
        out.append(row)
        if n == f.line:
            out.append(_carets(f, raw, width))
    out.append(bar.copy())
    return out


def _carets(f: Finding, raw: str, width: int) -> Text:
    col = max(1, f.column or 1)
    end = f.end_column if f.end_line == f.line and f.end_column else len(raw) + 1
    end = max(end, col + 1)
    pad = len(raw[: col - 1].expandtabs(4))
    span = max(1, len(raw[col - 1: end - 1].expandtabs(4)))
    row = Text.assemble((" " * width + " |", GUTTER), " " + " " * pad)
    row.append("^" * span + " " + f.code, style=SEVERITY_STYLE.get(_sev(f), "bold"))
    return row


def fix_line(f: Finding) -> Text | None:
    if f.fix is None:
        return None
    out = Text.assemble(("  = ", GUTTER), ("help", "bold"))
    safety = "" if f.fix.applicability == "safe" else f" ({f.fix.applicability} fix)"
    out.append(safe_text(f": {f.fix.description}{safety}", False))
    return out


def wrap_width() -> int:
    """The terminal's width (COLUMNS, else 100 when not a terminal), between 40 and MAX_WIDTH."""
    return max(40, min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24)).columns))


def note_lines(text: str, width: int, label: str = "note") -> list[Text]:
    """`  = note: ...` wrapped to `width`, continuation lines aligned under the text."""
    lead = f"  = {label}: "
    body = textwrap.wrap(_one_line(text), max(20, width - len(lead)),
                         break_long_words=False, break_on_hyphens=False) or [""]
    first = Text.assemble(("  = ", GUTTER), (label, "bold"), ": " + safe_text(body[0], False))
    return [first] + [Text(" " * len(lead) + safe_text(line, False)) for line in body[1:]]


def _where(f: Finding) -> str:
    return f"line {f.line}" if f.cell is None else f"cell {f.cell} line {f.line}"


def render_finding(f: Finding, sources: Sources, width: int | None = None,
                   same_as: Finding | None = None) -> Text:
    """The header, the message, the code frame, the fix title and the help text. `same_as`:
    an earlier finding of the same file with the same code and help (its help is not repeated;
    with the same message too, the finding is one line)."""
    if same_as is not None and same_as.message == f.message:
        return header(f, f"{f.name}: same as {_where(same_as)}")
    parts = [header(f, f.name)]
    for line in f.message.splitlines() or [""]:
        parts.append(Text("  " + safe_text(line, False) if line else ""))
    parts.extend(frame(f, sources))
    fix = fix_line(f)
    if fix is not None:
        parts.append(fix)
    if same_as is not None:
        parts.append(Text.assemble(("  = ", GUTTER), ("note", "bold"),
                                   f": same as {_where(same_as)}"))
    elif f.help:
        parts.extend(note_lines(f.help, width or wrap_width()))
    return Text("\n").join(parts)


def repeats(findings: list[Finding]) -> dict[int, Finding]:
    """Index in `findings` -> the first earlier finding of the same file with the same code
    and the same advice (help, or the message when there is no help)."""
    first: dict[tuple, Finding] = {}
    out: dict[int, Finding] = {}
    for i, f in enumerate(findings):
        if f.line is None:  # built models: no line to refer to
            continue
        key = (f.path, f.code, f.help if f.help else f.message)
        if key in first:
            out[i] = first[key]
        else:
            first[key] = f
    return out


def summary(report: Report) -> Text:
    """The last line (render/plain.py's sentence, the one `str(report)` ends with)."""
    sentence = plain.summary_sentence(report)
    head = "All checks passed!"
    if sentence.startswith(head):
        return Text.assemble((head, "bold green"), sentence[len(head):])
    return Text(sentence, style="" if not report.findings else "bold")


def notes(report: Report) -> Text:
    """What droplint could not know (built models: e.g. inside a subclassed call())."""
    return Text("\n").join(Text(safe_text(f"note: {n}"), style="dim") for n in report.notes)


def render_full(report: Report, sources: Sources | None = None,
                width: int | None = None) -> Text:
    """Each finding in full; repeated advice within a file is given once (see `repeats`)."""
    sources = sources or Sources()
    width = width or wrap_width()
    same = repeats(report.findings)
    blocks = [render_finding(f, sources, width, same.get(i))
              for i, f in enumerate(report.findings)]
    if report.notes:
        blocks.append(notes(report))
    blocks.append(summary(report))
    return safe_rich(Text("\n\n").join(blocks))


def render_concise(report: Report) -> Text:
    lines = [header(f, _one_line(f.message)) for f in report.findings]
    if report.notes:
        lines.append(notes(report))
    lines.append(summary(report))
    return safe_rich(Text("\n").join(lines))


def statistics(report: Report) -> list[dict]:
    """Per rule: code, name, severity, count, fixable (safe fixes: --fix) and unsafe_fixable
    (--fix --unsafe-fixes) counts; most frequent first."""
    rows: dict[str, dict] = {}
    for f in report.findings:
        row = rows.setdefault(f.code, {"code": f.code, "name": f.name, "severity": _sev(f),
                                       "count": 0, "fixable": 0, "unsafe_fixable": 0})
        row["count"] += 1
        if f.fix is not None and f.fix.edits:
            row["fixable" if f.fix.applicability == "safe" else "unsafe_fixable"] += 1
    return sorted(rows.values(), key=lambda r: (-r["count"], r["code"]))


def render_statistics(report: Report) -> Text:
    rows = statistics(report)
    if not rows:
        return summary(report)
    width = max(len(str(r["count"])) for r in rows)
    sev_width = max(len(r["severity"]) for r in rows) + 2
    out = []
    for r in rows:
        line = Text(f"{r['count']:>{width}}\t")
        line.append(r["code"], style=SEVERITY_STYLE.get(r["severity"], "bold"))
        line.append("\t")
        line.append(f"{'[' + r['severity'] + ']':<{sev_width}}",
                    style=SEVERITY_STYLE.get(r["severity"], ""))
        line.append(f"\t{r['name']}")
        fixable = ([f"{r['fixable']} fixable"] if r["fixable"] else []) + \
            ([f"{r['unsafe_fixable']} fixable with --unsafe-fixes"] if r["unsafe_fixable"] else [])
        if fixable:
            line.append(f" ({', '.join(fixable)})")
        out.append(line)
    out.append(summary(report))
    return Text("\n").join(out)
