"""Mask pictures from plain data: one sample's mask as a grid of kept/dropped cells, and that
grid as an SVG figure (axis labels, legend, title) written as plain strings.

This module reads a site only through its attributes (layer, argument, rate, input_shape,
mask_shape, drops, over_time, per_sample, masks, id, path, line, column, cell, layer_name,
description, keras) and imports nothing from droplint.report, so that Report's own methods
(`_repr_html_`, through render/html.py) can use it without an import cycle: the direction stays
report <- render.

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
import textwrap
from dataclasses import dataclass, field
from html import escape as _xml_escape

from .escape import safe_text

KEEP, DROP = "█", "·"
SHADES = "░▒▓█"  # noise layers: nothing is zeroed, only scaled/shifted
MAX_ROWS, MAX_COLS = 20, 24
DEFAULT_ROWS, DEFAULT_COLS = 12, 16  # illustrative size when a size is unknown statically
DEFAULT_RATE = 0.5
TRIES = 16  # seeds tried for a picture that shows both kept and dropped cells


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


def axes(site) -> Axes:
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


def rate_of(site) -> float | None:
    return site.rate if isinstance(site.rate, (int, float)) else None


def _draw(site, ax: Axes, rng: random.Random) -> list[list[str]]:
    rate = rate_of(site)
    rate = DEFAULT_RATE if rate is None else rate
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


def cells(site, seed: int = 0) -> tuple[list[list[str]], Axes] | None:
    """One sample's mask, one character per cell (capped at MAX_ROWS x MAX_COLS), or None
    when the pattern is unknown. A draw that happens to keep or drop everything shows nothing,
    so up to TRIES seeds from `seed` on are tried for one with both (all-or-nothing masks,
    `drops: samples`, keep the first draw)."""
    if site.drops == "unknown":
        return None
    ax = axes(site)
    rows: list[list[str]] = []
    for attempt in range(TRIES):
        # each site its own draws: equal pictures would suggest shared masks (DL409)
        rows = _draw(site, ax, random.Random(f"{seed}:{site.id}:{attempt}"))
        seen = {ch for row in rows for ch in row}
        if site.drops in ("none", "noise", "samples") or {KEEP, DROP} <= seen:
            break
    return rows, ax


def mask_grid(site, seed: int = 0) -> tuple[list[str], Axes] | None:
    """`cells` as strings, each cell two characters wide (square in a terminal)."""
    drawn = cells(site, seed)
    if drawn is None:
        return None
    rows, ax = drawn
    return ["".join(ch * 2 for ch in row) for row in rows], ax


def site_title(site) -> str:
    """`Dropout(0.3)` or `LSTM(dropout=0.2)`."""
    rate = rate_of(site)
    rate_s = f"{rate:g}" if rate is not None else "?"
    if site.argument:
        return f"{site.layer}({site.argument}={rate_s})"
    return f"{site.layer}({rate_s})"


def site_where(site) -> str:
    """`line 7`, `cell 3 line 2` (notebooks) or `layer 'drop'` (built models)."""
    if site.line is None:
        return f"layer {site.layer_name!r}" if site.layer_name else "model"
    return f"cell {site.cell} line {site.line}" if site.cell is not None else f"line {site.line}"


def site_label(site) -> str:
    """What tells sites apart: `line 7 · site 0 · Dropout(0.3)`."""
    return f"{site_where(site)} · site {site.id} · {site_title(site)}"


def plural_word(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def size_words(ax: Axes) -> str:
    """`30 timesteps x 8 features` or `64 units`."""
    cols = plural_word(ax.cols, ax.col_word)
    return f"{plural_word(ax.rows, ax.row_word)} x {cols}" if ax.row_word else cols


def notes(site, ax: Axes) -> list[str]:
    """What a picture cannot show by itself."""
    out = list(ax.notes)
    if (site.masks or 0) > 1:
        out.append(f"one of {site.masks} masks shown (one per gate)")
    if site.argument == "recurrent_dropout":
        out.append("applied to the recurrent state at every step: the same mask each step")
    elif site.over_time == "same-every-step" and ax.row_word == "timestep":
        out.append("drawn once per call: every timestep sees the same mask")
    if site.per_sample is False:
        out.append("the same pattern for every sample of the batch")
    elif site.drops == "samples":
        out.append("all or nothing per sample: another sample may be dropped entirely")
    return out


def fmt_shape(shape) -> str:
    if shape is None:
        return "unknown"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def _identity(site) -> tuple:
    """What makes two sites the same site: everything but the id."""
    d = site.to_dict()
    d.pop("id", None)
    return tuple(sorted((k, repr(v)) for k, v in d.items()))


def ordered_sites(sites: list) -> list:
    """The sites in file and line order, each once (a site listed twice with everything but
    its id equal is shown once)."""
    seen: set[tuple] = set()
    out = []
    for site in sorted(sites, key=lambda s: (s.path, s.cell or 0, s.line or 0, s.column or 0,
                                             s.layer_name or "", s.id)):
        key = _identity(site)
        if key not in seen:
            seen.add(key)
            out.append(site)
    return out


# ---------------------------------------------------------------------------------------- SVG

CELL = 14  # px per cell
FONT = 12  # px, monospace
CHAR_W = 0.62 * FONT  # a monospace glyph's advance, a little generous
LINE_H = 17
PAD = 12
WRAP = 88  # characters per text line of a figure
FILL = {KEEP: "#2e7d32", DROP: "#f3d0cc", "░": "#fff3c4", "▒": "#ffe082", "▓": "#ffca28"}
CLASS = {KEEP: "kept", DROP: "dropped", "░": "noise", "▒": "noise", "▓": "noise"}
STYLE = ("text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:%dpx;fill:#222}"
         ".title{font-weight:bold}.grid rect{stroke:#ffffff;stroke-width:1}" % FONT)


def x(text: str) -> str:
    """Text made safe for XML: control characters shown visibly (XML 1.0 forbids most of
    them), then <, >, & and quotes escaped."""
    return _xml_escape(safe_text(str(text), keep_newlines=False), quote=True)


def text_width(text: str) -> float:
    return len(text) * CHAR_W


def _text(tx: float, ty: float, content: str, cls: str = "", extra: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{tx:g}" y="{ty:g}"{klass}{extra}>{x(content)}</text>'


def wrap(text: str, width: int = WRAP) -> list[str]:
    return textwrap.wrap(" ".join(str(text).split()), width, break_long_words=True,
                         break_on_hyphens=False) or [""]


def site_svg(site, seed: int = 0, title: str | None = None) -> str:
    """One site's figure: title, what it drops, the mask grid with axis labels, a legend and
    the notes. Sized so that no text line is cut off."""
    title = title or site_label(site)
    head = [*wrap(title)]
    facts = [f"input {fmt_shape(site.input_shape)} -> mask {fmt_shape(site.mask_shape)}"
             + (f", Keras {site.keras}" if site.keras else "")]
    if site.description:
        facts += wrap(f"drops {site.description}")
    parts: list[str] = []
    y = PAD + FONT
    for line in head:
        parts.append(_text(PAD, y, line, "title"))
        y += LINE_H
    for line in facts:
        parts.append(_text(PAD, y, line))
        y += LINE_H
    widest = max(text_width(t) for t in head + facts)
    drawn = cells(site, seed)
    if drawn is None:
        parts.append(_text(PAD, y, "no picture: what this mask drops is not known statically"))
        y += LINE_H
        widest = max(widest, text_width("no picture: what this mask drops is not known "
                                        "statically"))
        return _svg(parts, PAD * 2 + widest, y + PAD)
    rows, ax = drawn
    n_rows, n_cols = len(rows), len(rows[0]) if rows else 0
    row_label_w = text_width(f"t{n_rows - 1}") + 4 if ax.row_word else 0
    axis_w = LINE_H if ax.row_word else 0  # the rotated y-axis label
    left = PAD + axis_w + row_label_w
    x_label = f"{ax.col_word}s → ({n_cols} of {ax.cols} shown)" if n_cols < ax.cols \
        else f"{ax.col_word}s →"
    y += 6
    parts.append(_text(left, y, x_label, "axis x"))
    y += 6
    top = y
    grid = ['<g class="grid">']
    for r, row in enumerate(rows):
        for c, ch in enumerate(row):
            grid.append(f'<rect x="{left + c * CELL:g}" y="{top + r * CELL:g}" width="{CELL}" '
                        f'height="{CELL}" fill="{FILL[ch]}" class="{CLASS[ch]}"/>')
    grid.append("</g>")
    parts.extend(grid)
    prefix = "t" if ax.row_word == "timestep" else "p" if ax.row_word == "position" else ""
    if ax.row_word:
        step = 1 if n_rows <= 10 else 5
        for r in range(0, n_rows, step):
            parts.append(_text(left - 4, top + r * CELL + CELL - 3, f"{prefix}{r}", "tick",
                               ' text-anchor="end"'))
        y_word = (f"{ax.row_word}s ↓" if n_rows == ax.rows
                  else f"{ax.row_word}s ↓ ({n_rows} of {ax.rows})")
        cy = top + n_rows * CELL / 2
        parts.append(_text(PAD + FONT, cy, y_word, "axis y",
                           f' text-anchor="middle" transform="rotate(-90 {PAD + FONT:g} '
                           f'{cy:g})"'))
    bottom = top + n_rows * CELL
    grid_right = left + n_cols * CELL
    y = bottom + 6 + FONT
    for c in range(0, n_cols, 4 if n_cols > 8 else 1):
        parts.append(_text(left + c * CELL + CELL / 2, y, str(c), "tick",
                           ' text-anchor="middle"'))
    y += LINE_H
    rate = rate_of(site)
    if site.drops == "noise":
        legend = [("▓", "noise: values scaled or shifted, nothing zeroed")]
    else:
        rate_s = f"rate {rate:g}" if rate is not None else f"rate unknown, {DEFAULT_RATE:g} shown"
        legend = [(KEEP, "kept"), (DROP, f"dropped ({rate_s})")]
    lx = PAD
    parts.append('<g class="legend">')
    for ch, label in legend:
        parts.append(f'<rect x="{lx:g}" y="{y - FONT + 1:g}" width="{FONT}" height="{FONT}" '
                     f'fill="{FILL[ch]}" class="{CLASS[ch]}"/>')
        parts.append(_text(lx + FONT + 4, y, label))
        lx += FONT + 4 + text_width(label) + 16
    parts.append("</g>")
    legend_right = lx
    y += LINE_H
    note_lines = [line for n in notes(site, ax) for line in wrap(f"note: {n}")]
    if n_rows < ax.rows or n_cols < ax.cols:
        note_lines.insert(0, f"showing the first {n_rows} x {n_cols} of {size_words(ax)}")
    for line in note_lines:
        parts.append(_text(PAD, y, line, "note"))
        widest = max(widest, text_width(line))
        y += LINE_H
    width = max(PAD * 2 + widest, grid_right + PAD, legend_right + PAD,
                left + text_width(x_label) + PAD)
    return _svg(parts, width, y - LINE_H + PAD + 4)


def _svg(parts: list[str], width: float, height: float, title: str | None = None) -> str:
    w, h = math.ceil(width), math.ceil(height)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}">')
    t = f"<title>{x(title)}</title>" if title else ""
    return "\n".join([head + t, f"<style>{STYLE}</style>", *parts, "</svg>"])


def svg_size(svg: str) -> tuple[int, int]:
    """(width, height) of an SVG written by this module."""
    import re

    m = re.search(r'width="(\d+)" height="(\d+)"', svg)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def document_svg(sites: list, seed: int = 0, title: str = "droplint explain",
                 subtitle: str = "") -> str:
    """Every site's figure stacked in one SVG image (nested <svg> elements), under a title."""
    parts = [_text(PAD, PAD + FONT + 2, title, "title", ' font-size="16"')]
    y = PAD + FONT + 2 + LINE_H
    widest = text_width(title) * 16 / FONT
    if subtitle:
        for line in wrap(subtitle):
            parts.append(_text(PAD, y, line))
            widest = max(widest, text_width(line))
            y += LINE_H
    y += 4
    for site in sites:
        figure = site_svg(site, seed, title=figure_title(site))
        w, h = svg_size(figure)
        nested = figure.replace("<svg ", f'<svg x="0" y="{y:g}" ', 1)
        parts.append(f'<g class="site" id="site-{int(site.id)}">{nested}</g>')
        parts.append(f'<line x1="{PAD}" x2="{max(w - PAD, PAD)}" y1="{y + h + 4:g}" '
                     f'y2="{y + h + 4:g}" stroke="#dddddd"/>')
        widest = max(widest, w - 2 * PAD)
        y += h + 10
    return _svg(parts, widest + 2 * PAD, y + PAD, title=title)


def figure_title(site) -> str:
    """The figure's title: the file, then `line 7 · site 0 · Dropout(0.3)`."""
    return f"{site.path} · {site_label(site)}"
