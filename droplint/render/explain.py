"""`droplint explain`: every dropout site with its mask, and a picture of one sample's mask.

The pictures are pure functions, site -> list of plain strings, drawn from a seeded
`random.Random` (no numpy) in render/figures.py, so the same site always gives the same
picture; `to_text` adds colour. Every line fits the terminal's width (80 columns and up): long
sentences are wrapped, pictures and the side-by-side block lose columns before they overflow.
`--html` / `--svg` are real figures (render/figures.py, render/html.py), not a terminal dump.
"""
from __future__ import annotations

import shutil
import textwrap

from rich.text import Text

from ..report import Report, Site
from .escape import safe_rich, safe_text
from .figures import _identity
from .figures import (  # noqa: F401 - the picture API, re-exported for its users
    DEFAULT_COLS, DEFAULT_RATE, DEFAULT_ROWS, DROP, KEEP, MAX_COLS, MAX_ROWS, SHADES, Axes,
    axes, fmt_shape, mask_grid, notes, ordered_sites, rate_of, site_label, site_title,
    size_words)
from .text import location

STYLES = {KEEP: "green", DROP: "red", "░": "yellow", "▒": "yellow", "▓": "yellow"}
MIN_WIDTH, MAX_WIDTH = 40, 120


def terminal_width() -> int:
    """COLUMNS, else the terminal's width, else 80; between MIN_WIDTH and MAX_WIDTH."""
    return max(MIN_WIDTH, min(MAX_WIDTH, shutil.get_terminal_size((80, 24)).columns))


def _caption(site: Site, ax: Axes) -> str:
    rate = rate_of(site)
    legend = (f"{SHADES} noise, nothing zeroed" if site.drops == "noise"
              else f"{KEEP} kept, {DROP} dropped")
    rate_s = f"rate {rate:g}" if rate is not None else f"rate unknown, {DEFAULT_RATE:g} shown"
    return f"one sample's mask, {size_words(ax)} ({legend}; {rate_s}):"


def _wrapped(line: str, width: int) -> list[str]:
    """A sentence wrapped to `width`, continuation lines indented under its text."""
    if len(line) <= width:
        return [line]
    lead = len(line) - len(line.lstrip(" "))
    indent = " " * (lead + 2)
    return textwrap.wrap(line.lstrip(" "), width, initial_indent=" " * lead,
                         subsequent_indent=indent,
                         break_long_words=True, break_on_hyphens=False) or [line]


def grid_columns(width: int, label_w: int, indent: int = 2) -> int:
    """How many 2-character cells fit in `width` after the indent, row label and borders."""
    return max(1, min(MAX_COLS, (width - indent - label_w - 3) // 2))


def picture(site: Site, seed: int = 0, width: int | None = None) -> list[str]:
    """The picture of a site as plain lines: caption, grid with row labels, notes. With
    `width`, every line fits in it once indented by two spaces (columns are dropped from the
    grid, sentences wrapped)."""
    drawn = mask_grid(site, seed)
    if drawn is None:
        return ["(no picture: what this mask drops is not known statically)"]
    grid, ax = drawn
    prefix = "t" if ax.row_word == "timestep" else "p" if ax.row_word == "position" else ""
    label_w = len(f"{prefix}{len(grid) - 1}") if ax.row_word else 0
    if width is not None:
        keep = grid_columns(width, label_w)
        grid = [row[:2 * keep] for row in grid]
    lines = [_caption(site, ax)]
    lines.append(" " * (label_w + 2) + f"{ax.col_word}s →")
    for i, row in enumerate(grid):
        label = f"{prefix}{i}" if ax.row_word else ""
        lines.append(f"{label:>{label_w}} │{row}│")
    shown_r, shown_c = len(grid), len(grid[0]) // 2 if grid else 0
    if shown_r < ax.rows or shown_c < ax.cols:
        cut = []
        if shown_r < ax.rows:
            cut.append(f"first {shown_r} of {ax.rows} {ax.row_word}s")
        if shown_c < ax.cols:
            cut.append(f"first {shown_c} of {ax.cols} {ax.col_word}s")
        lines.append("truncated: showing the " + " and ".join(cut))
    lines.extend(f"note: {n}" for n in notes(site, ax))
    if width is None:
        return lines
    return [w for line in lines for w in
            ([line] if "│" in line else _wrapped(line, width - 2))]


def site_lines(site: Site, codes: list[str] | None = None, seed: int = 0,
               width: int | None = None) -> list[str]:
    """Everything `explain` says about one site, as plain lines (the first is the heading:
    `path:line:col: line 7 · site 0 · Dropout(0.3)`)."""
    yes_no = {True: "yes", False: "no", None: "unknown"}
    over = site.over_time or ("unknown" if site.drops == "unknown" else "no time axis")
    facts = [f"drops: {site.drops}", f"per sample: {yes_no[site.per_sample]}",
             f"over time: {over}", f"masks: {'unknown' if site.masks is None else site.masks}"]
    lines = [
        f"{location(site)}: {site_label(site)}",
        f"  input {fmt_shape(site.input_shape)} -> mask {fmt_shape(site.mask_shape)}"
        + (f", Keras {site.keras}" if site.keras else ""),
        "  " + ", ".join(facts),
    ]
    if site.description:
        lines.append(f"  what is dropped: {site.description}")
    if codes:
        lines.append(f"  findings: {', '.join(codes)} (see `droplint check`)")
    if width is not None:
        lines = [w for line in lines for w in _wrapped(line, width)]
    lines.extend("  " + p for p in picture(site, seed, width))
    return lines


GALLERY_ROWS = 12
GALLERY_COLS = 16  # cells per panel at most: several panels fit in 80 columns


def _panel(site: Site, seed: int, cols: int) -> list[str] | None:
    """A site's picture for the side-by-side block: two title lines (`line 7 · site 0`,
    `Dropout(0.3)`) over the first GALLERY_ROWS rows and `cols` columns of its grid."""
    drawn = mask_grid(site, seed)
    if drawn is None:
        return None
    grid, _ = drawn
    body = [f"│{row[:2 * cols]}│" for row in grid[:GALLERY_ROWS]]
    titles = [site_label(site).rsplit(" · ", 1)[0], site_title(site)]
    w = max(*(len(t) for t in titles), *(len(b) for b in body))
    return [t.ljust(w) for t in titles] + [b.ljust(w) for b in body]


def gallery(sites: list[Site], seed: int = 0, width: int = 80) -> list[str]:
    """The sites' mask pictures next to each other (first GALLERY_ROWS rows, same seed), so
    that element speckle, feature stripes and timestep rows can be compared at a glance; in
    bands that fit in `width` columns. Empty when fewer than two sites have a picture."""
    cols = max(1, min(GALLERY_COLS, (width - 2) // 2 - 1))
    panels = [p for p in (_panel(s, seed, cols) for s in sites) if p is not None]
    if len(panels) < 2:
        return []
    bands: list[list[list[str]]] = [[]]
    used = 2
    for panel in panels:
        w = len(panel[0]) + (3 if bands[-1] else 0)
        if bands[-1] and used + w > width:
            bands.append([])
            used, w = 2, len(panel[0])
        bands[-1].append(panel)
        used += w
    head = (f"side by side (one sample each, first {GALLERY_ROWS} rows; "
            f"{KEEP * 2} kept, {DROP * 2} dropped):")
    lines = _wrapped(head, width)
    for band in bands:
        height = max(len(p) for p in band)
        for i in range(height):
            lines.append("  " + "   ".join(p[i] if i < len(p) else " " * len(p[0])
                                           for p in band).rstrip())
        lines.append("")
    return lines[:-1]


def to_text(line: str) -> Text:
    """A plain picture/explain line with colour on the mask characters (escaped before rich
    sees it: rich drops BEL, BS and CR, which would shift every later column)."""
    text = Text(safe_text(line, False))
    for ch, style in STYLES.items():
        text.highlight_regex(f"{ch}+", style)
    return text


def codes_by_site(report: Report) -> dict[int, list[str]]:
    """Site id -> the codes of its findings. A site listed twice (ordered_sites shows it once)
    has the codes of every copy under each copy's id, whichever copy is shown."""
    out: dict[int, list[str]] = {}
    for f in report.findings:
        if f.site is not None and f.code not in out.setdefault(f.site, []):
            out[f.site].append(f.code)
    copies: dict[tuple, list[int]] = {}
    for site in report.sites:
        copies.setdefault(_identity(site), []).append(site.id)
    for ids in copies.values():
        if len(ids) > 1:
            merged = list(dict.fromkeys(c for i in ids for c in out.get(i, [])))
            out.update({i: list(merged) for i in ids if merged})
    return out


def summary(report: Report, shown: int | None = None) -> str:
    files = report.files_checked
    n = len(report.sites) if shown is None else shown
    where = f"{files} file{'s' * (files != 1)}"
    keras = f"Keras {report.keras} ({report.keras_source})"
    if not n:
        return f"No dropout sites found in {where}; {keras}."
    return f"{n} dropout site{'s' * (n != 1)} in {where}; explanations assume {keras}."


def _styled(lines: list[str], bold_first: bool = True) -> Text:
    head = Text(safe_text(lines[0], False), style="bold") if bold_first else to_text(lines[0])
    return Text("\n").join([head, *(to_text(line) for line in lines[1:])])


def render_explain(report: Report, seed: int = 0, width: int | None = None) -> Text:
    """Every site in line order, then per file the pictures side by side, then a summary;
    every line at most `width` (default: the terminal's) columns."""
    width = width or terminal_width()
    codes = codes_by_site(report)
    sites = ordered_sites(report.sites)
    blocks = []
    by_file: dict[str, list[Site]] = {}
    for site in sites:
        by_file.setdefault(site.path, []).append(site)
    for path, group in by_file.items():
        for site in group:
            blocks.append(_styled(site_lines(site, codes.get(site.id), seed, width)))
        side = gallery(group, seed, width)
        if side:
            if len(by_file) > 1:
                side = _wrapped(f"{path}: " + side[0], width) + side[len(_wrapped(side[0],
                                                                                  width)):]
            blocks.append(_styled(side))
    blocks.append(Text("\n").join(Text(safe_text(line, False), style="bold") for line in
                                  _wrapped(summary(report, len(sites)), width)))
    return safe_rich(Text("\n\n").join(blocks))


def explain_dict(report: Report, seed: int = 0) -> dict:
    """The JSON of `explain --format json`: the report's keys without findings, the sites in
    line order and each once, each with its finding codes and its picture."""
    data = report.to_dict()
    codes = codes_by_site(report)
    data.pop("findings", None)
    sites = ordered_sites(report.sites)
    data["sites"] = [site.to_dict() for site in sites]
    for site, d in zip(sites, data["sites"]):
        d["findings"] = codes.get(site.id, [])
        d["label"] = site_label(site)
        d["picture"] = picture(site, seed)
    return data


def render_explain_json(report: Report, seed: int = 0) -> str:
    from .json import dumps

    return dumps(explain_dict(report, seed))
