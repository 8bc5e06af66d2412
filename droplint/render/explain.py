"""`droplint explain`: every dropout site with its mask, and a picture of one sample's mask.

The pictures are pure functions, site -> list of plain strings, drawn from a seeded
`random.Random` (no numpy), so the same site always gives the same picture. `to_text` adds
colour; an HTML/SVG exporter prints the same Text to `Console(record=True)`.

How a picture reads (rows down, features across, KEEP kept, DROP dropped):
  element-wise Dropout        speckle: a new pattern in every row
  SpatialDropout1D            vertical stripes: whole features, the same in every row
  noise_shape=(None, T, 1)    horizontal bands: whole timesteps
  LSTM(dropout=r), Keras 3    vertical stripes: one mask reused at every step
  rank-2 input (units)        a single row
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from rich.text import Text

from ..report import Report, Site
from .escape import safe_rich
from .text import location

KEEP, DROP = "█", "·"
SHADES = "░▒▓█"  # noise layers: nothing is zeroed, only scaled/shifted
MAX_ROWS, MAX_COLS = 20, 24
DEFAULT_ROWS, DEFAULT_COLS = 12, 16  # illustrative size when a size is unknown statically
DEFAULT_RATE = 0.5
TRIES = 16  # seeds tried for a picture that shows both kept and dropped cells
STYLES = {KEEP: "green", DROP: "red", "░": "yellow", "▒": "yellow", "▓": "yellow"}


@dataclass
class Axes:
    """The two axes a picture is drawn on, from the site's input shape."""

    rows: int  # full size (before the display cap)
    cols: int
    row_word: str  # "timestep", "position" or "" (a single row)
    col_word: str  # "feature", "unit", "channel", "entry"
    notes: list[str] = field(default_factory=list)


def _size(value, default: int, word: str, notes: list[str]) -> int:
    if isinstance(value, int) and value > 0:
        return value
    notes.append(f"number of {word}s unknown statically: {default} shown for illustration")
    return default


def axes(site: Site) -> Axes:
    """Rows and columns of the picture for a site (illustrative sizes when unknown)."""
    notes: list[str] = []
    shape = site.input_shape
    if shape is None:
        if site.drops == "units":
            return Axes(1, _size(None, DEFAULT_COLS, "unit", notes), "", "unit", notes)
        notes.append("input shape unknown statically: the picture is illustrative")
        return Axes(DEFAULT_ROWS, DEFAULT_COLS, "timestep", "feature", notes)
    rank = len(shape)
    if rank <= 2:
        word = "unit" if site.drops in ("units", "none") or rank == 2 else "feature"
        return Axes(1, _size(shape[-1] if rank == 2 else None, DEFAULT_COLS, word, notes),
                    "", word, notes)
    if rank == 3:
        return Axes(_size(shape[1], DEFAULT_ROWS, "timestep", notes),
                    _size(shape[2], DEFAULT_COLS, "feature", notes),
                    "timestep", "feature", notes)
    if site.over_time is not None:  # ConvLSTM: (B, T, *spatial, C), one step flattened
        rest = shape[2:]
        cols = math.prod(rest) if all(isinstance(d, int) for d in rest) else None
        return Axes(_size(shape[1], DEFAULT_ROWS, "timestep", notes),
                    _size(cols, DEFAULT_COLS, "entry", notes), "timestep", "entry", notes)
    mask = site.mask_shape
    channels_first = bool(mask) and mask[-1] == 1 and mask[1] not in (1, None)
    channels = shape[1] if channels_first else shape[-1]
    spatial = shape[2:] if channels_first else shape[1:-1]
    positions = math.prod(spatial) if all(isinstance(d, int) for d in spatial) else None
    return Axes(_size(positions, DEFAULT_ROWS, "position", notes),
                _size(channels, DEFAULT_COLS, "channel", notes), "position", "channel", notes)


def _key(drops: str, over_time: str | None, row: int, col: int):
    """Which random draw decides cell (row, col): cells with the same key share it."""
    if drops in ("features", "channels", "units"):
        return col
    if drops == "timesteps":
        return ("t", row)
    if drops == "samples":
        return "sample"
    if drops == "elements" and over_time == "same-every-step":
        return col
    return (row, col)


def _draw(site: Site, ax: Axes, rng: random.Random) -> list[list[str]]:
    rate = site.rate if isinstance(site.rate, (int, float)) else DEFAULT_RATE
    draws: dict = {}
    rows = []
    for r in range(min(ax.rows, MAX_ROWS)):
        row = []
        for c in range(min(ax.cols, MAX_COLS)):
            if site.drops == "none":
                row.append(KEEP)
            elif site.drops == "noise":
                row.append(SHADES[min(3, max(0, int(rng.gauss(2.5, 0.9))))])
            else:
                key = _key(site.drops, site.over_time, r, c)
                if key not in draws:
                    draws[key] = rng.random() >= rate
                row.append(KEEP if draws[key] else DROP)
        rows.append(row)
    return rows


def mask_grid(site: Site, seed: int = 0) -> tuple[list[str], Axes] | None:
    """One sample's mask as rows of characters, each cell two characters wide (capped at
    MAX_ROWS x MAX_COLS), or None when the pattern is unknown. A draw that happens to keep or
    drop everything shows nothing, so up to TRIES seeds from `seed` on are tried for one with
    both (all-or-nothing masks, `drops: samples`, keep the first draw)."""
    if site.drops == "unknown":
        return None
    ax = axes(site)
    rows: list[list[str]] = []
    for attempt in range(TRIES):
        # each site its own draws: equal pictures would suggest shared masks (DL409)
        rows = _draw(site, ax, random.Random(f"{seed}:{site.id}:{attempt}"))
        cells = {ch for row in rows for ch in row}
        if site.drops in ("none", "noise", "samples") or {KEEP, DROP} <= cells:
            break
    return ["".join(ch * 2 for ch in row) for row in rows], ax


def _caption(site: Site, ax: Axes) -> str:
    rate = site.rate if isinstance(site.rate, (int, float)) else None
    size = (f"{ax.rows} {ax.row_word}{'s' * (ax.rows != 1)} x " if ax.row_word else "") \
        + f"{ax.cols} {ax.col_word}{'s' * (ax.cols != 1)}"
    legend = (f"{SHADES} noise, nothing zeroed" if site.drops == "noise"
              else f"{KEEP} kept, {DROP} dropped")
    rate_s = f"rate {rate:g}" if rate is not None else f"rate unknown, {DEFAULT_RATE:g} shown"
    return f"one sample's mask, {size} ({legend}; {rate_s}):"


def picture(site: Site, seed: int = 0) -> list[str]:
    """The picture of a site as plain lines: caption, grid with row labels, notes."""
    drawn = mask_grid(site, seed)
    if drawn is None:
        return ["(no picture: what this mask drops is not known statically)"]
    grid, ax = drawn
    lines = [_caption(site, ax)]
    prefix = "t" if ax.row_word == "timestep" else "p" if ax.row_word == "position" else ""
    label_w = len(f"{prefix}{len(grid) - 1}") if ax.row_word else 0
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
    notes = list(ax.notes)
    if (site.masks or 0) > 1:
        notes.append(f"one of {site.masks} masks shown (one per gate)")
    if site.argument == "recurrent_dropout":
        notes.append("applied to the recurrent state at every step: the same mask each step")
    elif site.over_time == "same-every-step" and ax.row_word == "timestep":
        notes.append("drawn once per call: every timestep sees the same mask")
    if site.per_sample is False:
        notes.append("the same pattern for every sample of the batch")
    elif site.drops == "samples":
        notes.append("all or nothing per sample: another sample may be dropped entirely")
    lines.extend(f"note: {n}" for n in notes)
    return lines


def _fmt_shape(shape) -> str:
    if shape is None:
        return "unknown"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def site_title(site: Site) -> str:
    """`Dropout(0.3)` or `LSTM(dropout=0.2)`."""
    rate = f"{site.rate:g}" if isinstance(site.rate, (int, float)) else "?"
    if site.argument:
        return f"{site.layer}({site.argument}={rate})"
    return f"{site.layer}({rate})"


def site_lines(site: Site, codes: list[str] | None = None, seed: int = 0) -> list[str]:
    """Everything `explain` says about one site, as plain lines (the first is the heading)."""
    yes_no = {True: "yes", False: "no", None: "unknown"}
    facts = [f"drops: {site.drops}", f"per sample: {yes_no[site.per_sample]}",
             f"over time: {site.over_time or ('unknown' if site.drops == 'unknown' else 'no time axis')}",
             f"masks: {'unknown' if site.masks is None else site.masks}"]
    lines = [
        f"{location(site)}: {site_title(site)}  [site {site.id}]",
        f"  input {_fmt_shape(site.input_shape)} -> mask {_fmt_shape(site.mask_shape)}"
        + (f"   Keras {site.keras}" if site.keras else ""),
        "  " + ", ".join(facts),
    ]
    if site.description:
        lines.append(f"  what is dropped: {site.description}")
    if codes:
        lines.append(f"  findings: {', '.join(codes)} (see `droplint check`)")
    lines.extend("  " + p for p in picture(site, seed))
    return lines


GALLERY_ROWS = 12
GALLERY_WIDTH = 100


def gallery(sites: list[Site], seed: int = 0, width: int = GALLERY_WIDTH) -> list[str]:
    """The sites' mask pictures next to each other (first GALLERY_ROWS rows, same seed), so
    that element speckle, feature stripes and timestep rows can be compared at a glance.
    Empty when fewer than two sites have a picture."""
    panels: list[list[str]] = []
    for site in sites:
        drawn = mask_grid(site, seed)
        if drawn is None:
            continue
        grid, _ = drawn
        title = f"[{site.id}] {site_title(site)}"
        body = [f"│{row}│" for row in grid[:GALLERY_ROWS]]
        w = max(len(title), *(len(b) for b in body))
        panels.append([title.ljust(w)] + [b.ljust(w) for b in body])
    if len(panels) < 2:
        return []
    bands: list[list[list[str]]] = [[]]
    used = 0
    for panel in panels:
        w = len(panel[0]) + 3
        if bands[-1] and used + w > width:
            bands.append([])
            used = 0
        bands[-1].append(panel)
        used += w
    lines = [f"side by side (one sample each, first {GALLERY_ROWS} rows; "
             f"{KEEP * 2} kept, {DROP * 2} dropped):"]
    for band in bands:
        height = max(len(p) for p in band)
        for i in range(height):
            lines.append("  " + "   ".join(p[i] if i < len(p) else " " * len(p[0])
                                           for p in band).rstrip())
        lines.append("")
    return lines[:-1]


def to_text(line: str) -> Text:
    """A plain picture/explain line with colour on the mask characters."""
    text = Text(line)
    for ch, style in STYLES.items():
        text.highlight_regex(f"{ch}+", style)
    return text


def codes_by_site(report: Report) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for f in report.findings:
        if f.site is not None and f.code not in out.setdefault(f.site, []):
            out[f.site].append(f.code)
    return out


def summary(report: Report) -> str:
    files = report.files_checked
    n = len(report.sites)
    where = f"{files} file{'s' * (files != 1)}"
    keras = f"Keras {report.keras} ({report.keras_source})"
    if not n:
        return f"No dropout sites found in {where}; {keras}."
    return f"{n} dropout site{'s' * (n != 1)} in {where}; explanations assume {keras}."


def render_explain(report: Report, seed: int = 0) -> Text:
    codes = codes_by_site(report)
    blocks = []
    for site in report.sites:
        lines = site_lines(site, codes.get(site.id), seed)
        head = Text(lines[0], style="bold")
        blocks.append(Text("\n").join([head, *(to_text(line) for line in lines[1:])]))
    side = gallery(report.sites, seed)
    if side:
        blocks.append(Text("\n").join([Text(side[0], style="bold"),
                                       *(to_text(line) for line in side[1:])]))
    blocks.append(Text(summary(report), style="bold"))
    return safe_rich(Text("\n\n").join(blocks))


def explain_dict(report: Report, seed: int = 0) -> dict:
    data = report.to_dict()
    codes = codes_by_site(report)
    data.pop("findings", None)
    for site, d in zip(report.sites, data["sites"]):
        d["findings"] = codes.get(site.id, [])
        d["picture"] = picture(site, seed)
    return data


def render_explain_json(report: Report, seed: int = 0) -> str:
    from .json import dumps

    return dumps(explain_dict(report, seed))
