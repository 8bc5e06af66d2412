"""Output helpers of the command line that are not options: -q/--silent trimming, the
--html/--svg figure files of `explain`, and CliError (a one-line user-facing error, exit 2).
cli.py imports them; they never import cli.py."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .render import Output
    from .report import Report


class CliError(Exception):
    """A user-facing error of the command line: printed as one line, exit status 2. (The
    training callback's DroplintError, droplint/callback.py, is another thing.)"""


def is_rich(output) -> bool:
    """A human format's rich.text.Text (else a str)."""
    return not isinstance(output, str)


def quiet_level(opts: dict) -> int:
    return 2 if opts.get("silent") else min(2, opts.get("quiet") or 0)


def quieted(output: Output, report: Report, opts: dict) -> Output | None:
    """-q: the text and concise formats without their summary line (nothing when there is
    no finding), --statistics too: only its rows, as `ruff check -q --statistics` prints;
    -qq / --silent: nothing. Machine formats are left whole by -q."""
    level = quiet_level(opts)
    if level >= 2:
        return None
    if level == 0 or opts["output_format"] not in ("text", "concise"):
        return output
    from .render.plain import summary_sentence

    plain = output.plain if is_rich(output) else output
    tail = summary_sentence(report)
    if not plain.rstrip().endswith(tail):
        return output
    keep = len(plain.rstrip()) - len(tail)
    if not plain[:keep].strip():
        return None
    if not is_rich(output):
        return plain[:keep].rstrip()
    cut = output[:keep]
    cut.rstrip()
    return cut


def export(report: Report, seed: int, html: str | None = None, svg: str | None = None
           ) -> None:
    """--html / --svg: every site's mask as a figure (render/figures.py, render/html.py)."""
    if not html and not svg:
        return
    from .render.explain import summary
    from .render.figures import document_svg, ordered_sites
    from .render.html import page

    sites = ordered_sites(report.sites)
    makers = ((html, lambda: page(report, seed)),
              (svg, lambda: document_svg(sites, seed, subtitle=summary(report, len(sites)))))
    for path, make in makers:
        if path:
            try:
                Path(path).write_text(make(), encoding="utf-8")
            except OSError as exc:
                raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
