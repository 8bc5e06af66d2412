"""`droplint probe`: for every dropout site of a model, what droplint claims next to what
running the layer measured (Site.probe, filled by droplint/pipeline.py with droplint.probe)."""
from __future__ import annotations

from rich.text import Text

from ..report import Report, Site
from .escape import safe_text
from .explain import site_title
from .text import location

_YES_NO = {True: "per sample", False: "shared by the batch", None: "per sample: unknown"}


def _shape(shape) -> str:
    if shape is None:
        return "unknown"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def _facts(mask_shape, drops, per_sample, over_time, masks) -> str:
    masks = "? masks" if masks is None else f"{masks} mask{'s' * (masks != 1)}"
    return (f"mask {_shape(mask_shape):<14} {drops}, {_YES_NO[per_sample]}, "
            f"{over_time or 'no time axis'}, {masks}")


def disagreements(report: Report) -> dict[int, str]:
    """Site id -> the DL902 message about it."""
    return {f.site: f.message for f in report.findings if f.code == "DL902" and f.site is not None}


def site_lines(site: Site, disagreement: str | None) -> list[str]:
    lines = [f"{location(site)}: {site_title(site)}  [site {site.id}]",
             "  claimed:  " + _facts(site.mask_shape, site.drops, site.per_sample,
                                     site.over_time, site.masks)]
    p = site.probe
    if p is None:
        lines.append("  measured: not run (see the notes)")
        return lines
    lines.append("  measured: " + _facts(p.get("mask_shape"), p.get("drops"),
                                         p.get("per_sample"), p.get("over_time"),
                                         p.get("masks"))
                 + f"  on {_shape(p.get('input_shape'))}, {p.get('draws')} draws")
    if p.get("directions_identical") is not None:
        lines.append("  Bidirectional: both directions draw "
                     + ("identical masks" if p["directions_identical"] else "different masks"))
    lines.append(f"  DL902 disagrees: {disagreement}" if disagreement else "  agrees")
    return lines


def render_probe(report: Report) -> Text:
    differ = disagreements(report)
    blocks = []
    for site in report.sites:
        # escaped before rich sees them (rich drops BEL, BS and CR silently)
        lines = [safe_text(line) for line in site_lines(site, differ.get(site.id))]
        style = "bold yellow" if site.id in differ else "green"
        block = Text(lines[0], style="bold")
        for line in lines[1:]:
            block.append("\n" + line, style=style if line.startswith("  DL902")
                         or line == "  agrees" else "")
        blocks.append(block)
    for f in report.findings:
        if f.code == "DL901":
            blocks.append(Text(safe_text(f"{f.path}: DL901 {f.message}"), style="bold red"))
    blocks.extend(Text(safe_text(f"note: {n}")) for n in report.notes)
    probed = sum(1 for s in report.sites if s.probe is not None)
    blocks.append(Text(f"{probed} of {len(report.sites)} dropout sites probed, "
                       f"{len(differ)} disagree with droplint (Keras {report.keras}).",
                       style="bold"))
    return Text("\n\n").join(blocks)


def render_probe_json(report: Report) -> str:
    from .json import dumps

    return dumps(report.to_dict())
