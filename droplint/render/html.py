"""HTML of a report: a findings table and every site's mask figure (SVG from figures.py).

`fragment` is what `Report._repr_html_` shows in Jupyter; `page` is the standalone document of
`droplint explain --html` (the same fragment in a page). Plain data in, a string out; like
figures.py this never imports droplint.report (see render/plain.py for why). The output is
well-formed XML (XHTML-style empty elements), so tests parse it with xml.etree.
"""
from __future__ import annotations

from .figures import figure_title, ordered_sites, site_svg, x
from .plain import location, severity, summary_sentence

CSS = ("table.droplint{border-collapse:collapse;margin:0.5em 0}"
       "table.droplint td,table.droplint th{border:1px solid #ccc;padding:2px 6px;"
       "text-align:left;vertical-align:top}"
       ".droplint-error{color:#b00020;font-weight:bold}.droplint-warning{color:#8a6d00;"
       "font-weight:bold}.droplint-info{color:#00639b;font-weight:bold}"
       "figure.droplint{margin:0.8em 0}")


def findings_table(report) -> str:
    if not report.findings:
        return ""
    rows = []
    for f in report.findings:
        sev = severity(f)
        help_ = f"<br/><small>{x(f.help)}</small>" if getattr(f, "help", None) else ""
        rows.append(f"<tr><td>{x(location(f))}</td><td class=\"droplint-{x(sev)}\">"
                    f"{x(f.code)}</td><td>{x(sev)}</td><td>{x(f.name)}</td>"
                    f"<td>{x(f.message)}{help_}</td></tr>")
    return ("<table class=\"droplint\"><thead><tr><th>where</th><th>code</th><th>severity</th>"
            "<th>rule</th><th>message</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table>")


def figures(report, seed: int = 0) -> str:
    out = []
    for site in ordered_sites(report.sites):
        out.append(f"<figure class=\"droplint\" id=\"site-{int(site.id)}\">"
                   f"{site_svg(site, seed, title=figure_title(site))}"
                   "</figure>")
    return "".join(out)


def fragment(report, seed: int = 0, pictures: bool = True) -> str:
    """The findings table, the notes, the summary and (with `pictures`) the site figures."""
    parts = [f"<div class=\"droplint\"><style>{CSS}</style>", findings_table(report)]
    parts += [f"<p><i>note: {x(n)}</i></p>" for n in report.notes]
    parts.append(f"<p><b>{x(summary_sentence(report))}</b> Explanations assume Keras "
                 f"{x(report.keras)} ({x(report.keras_source)}).</p>")
    if pictures:
        parts.append(figures(report, seed))
    parts.append("</div>")
    return "".join(parts)


def page(report, seed: int = 0, title: str = "droplint explain") -> str:
    """A standalone HTML document: title, findings, every site's figure."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
            f"<title>{x(title)}</title></head><body><h1>{x(title)}</h1>"
            f"{fragment(report, seed)}</body></html>\n")
