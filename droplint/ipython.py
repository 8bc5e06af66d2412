"""`%load_ext droplint` in IPython / Jupyter: droplint checks the notebook as it runs.

- After each cell runs (IPython's post_run_cell event), the source of the cells run so far is
  checked as one program, as `droplint check` checks an .ipynb file (never executed again,
  nothing imported: the source side only), and only findings not shown before are shown:
  a Dropout defined in one cell is reported when the cell that feeds it to an LSTM runs.
- `%droplint` checks the whole history again and shows every finding and every dropout's
  mask picture; `%droplint NAME` analyzes the built Keras model `NAME` of the user namespace
  (`droplint.analyze(model)`: real shapes; Keras is already imported by then), or the file or
  folder whose path NAME holds; `%droplint path/to/model.py` a path.

Output is HTML where the frontend shows it (a table of findings, the mask pictures in <pre>)
and plain text elsewhere. IPython is imported only by IPython itself: this module takes the
shell it is given.
"""
from __future__ import annotations

import html
import os
from dataclasses import dataclass, field

from .report import Finding, Report, Site

PROGRAM = "<ipython>.ipynb"  # the name the history is checked under


@dataclass
class Shown:
    """What to display: findings and the sites whose pictures go with them."""

    title: str
    findings: list[Finding]
    sites: list[Site]
    where: dict[int, str] = field(default_factory=dict)  # cell number -> "In [n]"
    notes: list[str] = field(default_factory=list)

    def _loc(self, item) -> str:
        if item.cell is not None:
            cell = self.where.get(item.cell, f"cell {item.cell}")
            return f"{cell}, line {item.line}" if item.line is not None else cell
        if item.line is not None:
            return f"{os.path.basename(item.path)}:{item.line}"
        name = getattr(item, "layer_name", None)
        return f"layer '{name}'" if name else item.path

    def _pictures(self) -> list[tuple[str, list[str]]]:
        from .render.explain import picture, site_title

        return [(f"{site_title(s)} ({self._loc(s)}): {s.description or s.drops}",
                 picture(s)) for s in self.sites]

    def text(self) -> str:
        lines = [self.title]
        for f in self.findings:
            lines.append(f"{self._loc(f)}: {f.code} [{f.severity.value}] {f.message}")
        for head, pic in self._pictures():
            lines += ["", head, *("  " + p for p in pic)]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:  # IPython's text/plain
        return self.text()

    def _repr_html_(self) -> str:
        e = html.escape
        rows = "".join(
            f"<tr><td>{e(self._loc(f))}</td><td><b>{e(f.code)}</b></td>"
            f"<td>{e(f.severity.value)}</td><td style='text-align:left'>{e(f.message)}</td></tr>"
            for f in self.findings)
        parts = [f"<div class='droplint'><p><b>{e(self.title)}</b></p>"]
        if rows:
            parts.append("<table><tr><th>where</th><th>code</th><th>severity</th>"
                         f"<th>message</th></tr>{rows}</table>")
        for head, pic in self._pictures():
            parts.append(f"<p>{e(head)}</p><pre style='line-height:1.0'>{e(chr(10).join(pic))}"
                         "</pre>")
        parts += [f"<p><i>note: {e(n)}</i></p>" for n in self.notes]
        parts.append("</div>")
        return "".join(parts)


def _key(f: Finding) -> tuple:
    return (f.code, f.cell, f.line, f.column, f.layer_name, f.message)


def _summary(n: int, what: str) -> str:
    return f"droplint: {n} finding{'s' * (n != 1)} {what}"


class Checker:
    """The extension's state for one shell: the cells run so far and what was shown."""

    def __init__(self, shell):
        self.shell = shell
        self.cells: list[str] = []
        self.counts: list[int | None] = []  # execution count of each cell
        self.shown: set[tuple] = set()

    def settings(self):
        from .editor import settings_for

        settings, error = settings_for(None, os.getcwd())
        if error:
            print(error)
        return settings

    def check_history(self):
        from .editor import analyze_cells

        return analyze_cells([("code", c) for c in self.cells], PROGRAM, self.settings())

    def where(self) -> dict[int, str]:
        return {i: f"In [{n}]" if n is not None else f"cell {i}"
                for i, n in enumerate(self.counts, 1)}

    def _sites_of(self, findings: list[Finding], sites: list[Site]) -> list[Site]:
        wanted = {(f.cell, f.line, f.column) for f in findings}
        return [s for s in sites if (s.cell, s.line, s.column) in wanted]

    # --- the post_run_cell event ------------------------------------------------------------

    def post_run_cell(self, result) -> None:
        info = getattr(result, "info", None)
        source = getattr(info, "raw_cell", None)
        if not isinstance(source, str) or getattr(result, "error_before_exec", None):
            return  # not run (a syntax error): not part of the program
        if source.lstrip().startswith(("%droplint", "%load_ext droplint", "%reload_ext")):
            return
        self.cells.append(source)
        self.counts.append(getattr(result, "execution_count", None))
        try:
            analysis = self.check_history()
        except Exception as exc:  # noqa: BLE001 - never break the user's session
            print(f"droplint: could not check this cell: {type(exc).__name__}: {exc}")
            return
        new = [f for f in analysis.findings if _key(f) not in self.shown
               and f.code != "DL900"]
        self.shown.update(_key(f) for f in new)
        if new:
            self.display(Shown(_summary(len(new), "new in this cell's program"), new,
                               self._sites_of(new, analysis.sites), self.where()))

    # --- %droplint ----------------------------------------------------------------------

    def magic(self, line: str = "") -> None:
        arg = line.strip()
        if not arg:
            analysis = self.check_history()
            self.shown.update(_key(f) for f in analysis.findings)
            self.display(Shown(_summary(len(analysis.findings), f"in the {len(self.cells)} "
                                        "cells run so far"), analysis.findings, analysis.sites,
                               self.where()))
            return
        report = self.analyze_target(arg)
        if report is not None:
            self.display(Shown(_summary(len(report.findings), f"in {arg}"), report.findings,
                               report.sites, notes=list(report.notes)))

    def analyze_target(self, arg: str) -> Report | None:
        from .api import analyze

        ns = self.shell.user_ns
        target = ns[arg] if arg in ns else arg if os.path.exists(arg) else None
        if target is None:
            print(f"droplint: {arg!r} is neither a name in this session nor a path: "
                  "%droplint [MODEL_VARIABLE | PATH]")
            return None
        settings = self.settings()
        if isinstance(target, (str, os.PathLike)):
            return analyze(target, settings=settings)
        if not hasattr(target, "layers"):
            print(f"droplint: {arg} is a {type(target).__name__}, not a Keras model or a path")
            return None
        try:
            return analyze(target, settings=settings)
        except Exception as exc:  # noqa: BLE001 - a model droplint cannot read: say so
            print(f"droplint: cannot analyze {arg}: {type(exc).__name__}: {exc}")
            return None

    def display(self, shown: Shown) -> None:
        from IPython.display import display

        display(shown)


def load_ipython_extension(shell) -> None:
    """`%load_ext droplint`: check each cell as it runs; add the %droplint magic."""
    if getattr(shell, "_droplint", None) is not None:
        return
    checker = Checker(shell)
    shell._droplint = checker
    shell.events.register("post_run_cell", checker.post_run_cell)
    shell.register_magic_function(checker.magic, "line", "droplint")


def unload_ipython_extension(shell) -> None:
    checker = getattr(shell, "_droplint", None)
    if checker is not None:
        shell.events.unregister("post_run_cell", checker.post_run_cell)
        shell._droplint = None
