"""droplint's command line: `check` (the default command), `explain`, `rule`, `rules`.

Exit status: 0 nothing at or above --fail-on, 1 findings at or above it, 2 a usage, config or
internal error, always reported as one `droplint: error: ...` line on stderr.

Extending: an output format is one entry in `render.FORMATS` (offered by --format at once); a
flag is one `click.option` in CHECK_OPTIONS / EXPLAIN_OPTIONS, read from `opts` where it is used.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .version import __version__
from .config import ConfigError, Settings, find_pyproject, load, parse_severity
from .keras_version import KerasVersionError, resolve
from .keras_version import parse as parse_keras_version
from .cli_output import CliError, export, quiet_level, quieted
from .render import FORMATS, Output, RenderOptions
from .report import Report, Severity

if TYPE_CHECKING:
    from rich.console import Console  # imported where a console is first used

PROG = "droplint"


# ---------------------------------------------------------------------------------- plumbing

def fail_line(message: str) -> str:
    """`droplint: error: ...` on one line; control characters from file names and content
    shown as visible ones (render/escape.py)."""
    from .render.escape import safe_text

    return f"{PROG}: error: " + safe_text(" ".join(str(message).split()), keep_newlines=False)


class DefaultGroup(click.Group):
    """A group whose unknown first argument (a path or a check option) goes to `check`, and
    whose errors are one line on stderr with exit status 2, never a traceback."""

    default_command = "check"
    group_flags = ("--help", "-h", "--version")

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in self.group_flags:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        try:
            rv = super().main(args, prog_name or PROG, complete_var, standalone_mode=False,
                              **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else "")
            rv = 0
        except click.ClickException as exc:
            message = exc.format_message()
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message = message.rstrip(".") + f" (see `{exc.ctx.command_path} --help`)"
            click.echo(fail_line(message), err=True)
            rv = 2
        except click.Abort:
            click.echo(fail_line("interrupted"), err=True)
            rv = 130
        except (CliError, ConfigError, KerasVersionError) as exc:
            click.echo(fail_line(str(exc)), err=True)
            rv = 2
        except BrokenPipeError:
            # The reader went away (`droplint ... | head`): stop quietly.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            rv = 1
        except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into a line
            click.echo(fail_line(f"internal error: {type(exc).__name__}: {exc}"), err=True)
            rv = 2
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


def with_options(options: list[Callable]) -> Callable:
    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f
    return decorate


def split_codes(values) -> tuple[str, ...]:
    """`--select DL1,dropout-on-output --select DL3` -> ("DL1", "dropout-on-output", "DL3")."""
    return tuple(c.strip() for v in values or () for c in v.split(",") if c.strip())


def wants_color(no_color: bool, color: str | None = "auto") -> bool:
    """--color always: colour even into a pipe or file; never (or --no-color): none; auto: on
    a terminal unless NO_COLOR is set."""
    if no_color or color == "never":
        return False
    return color == "always" or not os.environ.get("NO_COLOR")


def make_console(no_color: bool = False, color: str | None = "auto") -> Console:
    """stdout console; with --color auto rich itself drops colour when stdout is not a
    terminal."""
    on = wants_color(no_color, color)
    forced = {"force_terminal": True} if on and color == "always" else {}
    return LazyConsole(no_color=not on, color_system="auto" if on else None, **forced,
                       highlight=False, soft_wrap=True, markup=False, emoji=False)


class LazyConsole:
    """A rich Console made on first use: output that is a plain string (JSON, SARIF, GitHub)
    never imports rich (~30 ms)."""

    def __init__(self, **kwargs):
        object.__setattr__(self, "_kwargs", kwargs)
        object.__setattr__(self, "_console", None)

    def _get(self) -> Console:
        if self._console is None:
            from rich.console import Console

            object.__setattr__(self, "_console", Console(**self._kwargs))
        return self._console

    def __getattr__(self, name: str):
        return getattr(self._get(), name)

    def __setattr__(self, name: str, value) -> None:
        setattr(self._get(), name, value)


def is_rich(output: Output) -> bool:
    """A human format's rich.text.Text (else a str)."""
    return not isinstance(output, str)


def emit(output: Output, console: Console, output_file: str | None = None) -> None:
    """Write a rendered output: to --output-file as plain text, else to stdout."""
    if output_file:
        data = output.plain if is_rich(output) else output
        try:
            Path(output_file).write_text(data + "\n", encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {output_file}: {exc.strerror or exc}") from None
    elif is_rich(output):
        console.print(output)
    else:
        click.echo(output)


def print_errors(report: Report) -> None:
    for error in report.errors:
        click.echo(fail_line(error), err=True)


# ---------------------------------------------------------------------------------- settings

def _validate(selectors, where: str) -> None:
    from .selection import validate

    validate(selectors, where)


def load_settings(paths: tuple[str, ...], opts: dict) -> Settings:
    """[tool.droplint] of --config or the nearest pyproject.toml above the first path, with the
    command-line flags on top. A bad value raises ConfigError (exit 2)."""
    if opts.get("config"):
        pyproject = Path(opts["config"])
        if not pyproject.is_file():
            raise ConfigError(f"{pyproject}: config file not found")
    else:
        pyproject = find_pyproject(Path(paths[0] if paths else "."))
    settings = load(pyproject)
    if pyproject is not None:
        for selectors in (settings.select, settings.extend_select, settings.ignore,
                          *settings.per_file_ignores.values()):
            _validate(selectors, str(pyproject))

    select = split_codes(opts.get("select"))
    extend = split_codes(opts.get("extend_select"))
    ignore = split_codes(opts.get("ignore"))
    for flag, selectors in (("--select", select), ("--extend-select", extend),
                            ("--ignore", ignore)):
        _validate(selectors, flag)
    if select:  # like ruff: a --select on the command line starts the selection afresh
        overrides = {"select": select, "extend_select": extend, "ignore": ignore}
    else:
        overrides = {"extend_select": settings.extend_select + extend,
                     "ignore": settings.ignore + ignore}
    keras = opts.get("keras_version")
    if keras and keras != "auto":
        try:
            parse_keras_version(keras)
        except KerasVersionError as exc:
            raise CliError(f"--keras-version: {exc}") from None
    fail_on = opts.get("fail_on")
    if opts.get("min_severity"):
        overrides["min_severity"] = parse_severity(opts["min_severity"], "", "--min-severity")
    from .config import BUDGET_KEYS, budget_value

    for key, (name, _kind, _unit) in BUDGET_KEYS.items():
        if opts.get(name) is not None:
            overrides[name] = budget_value(key, opts[name], f"--{key}")
    return settings.with_overrides(
        keras_version=keras, fail_on=parse_severity(fail_on) if fail_on else None, **overrides)


def shown(report: Report, settings: Settings) -> Report:
    """The report as --min-severity shows it: findings below the threshold left out (so a
    hidden finding never makes the exit status 1, whatever --fail-on says)."""
    low = settings.min_severity.rank
    if low == 0:
        return report
    return replace(report, findings=[f for f in report.findings if f.severity.rank >= low])


def exit_status(report: Report, fail_on: Severity, exit_zero: bool = False) -> int:
    if report.errors:
        return 2
    if exit_zero:
        return 0
    return 1 if any(f.severity.rank >= fail_on.rank for f in report.findings) else 0


# ---------------------------------------------------------------------------------- options

def codes_option(flag: str, help: str) -> Callable:
    return click.option(flag, multiple=True, metavar="CODES", help=help)


PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=str, readable=False))
COMMON_OPTIONS = [
    click.option("--keras-version", metavar="auto|2|3|X.Y[.Z]", default=None,
                 help="Keras version the explanations assume (default: auto, from imports and "
                      "the installed packages; or keras-version in pyproject.toml)."),
    click.option("--config", type=click.Path(dir_okay=False, path_type=str), default=None,
                 help="Use this pyproject.toml instead of the nearest one above the first path."),
    click.option("--no-color", is_flag=True, help="No colour (also: NO_COLOR, or not a tty)."),
    click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
                 show_default=True, help="Colour: auto (on a terminal, unless NO_COLOR), "
                                         "always, never."),
    click.option("--verbose", "-v", is_flag=True,
                 help="Also say (on stderr) which pyproject.toml is used and which Keras each "
                      "file is explained for, and why."),
    click.option("--show-settings", is_flag=True,
                 help="Print the settings in effect, the pyproject.toml they come from and "
                      "each file's Keras version (and why); check nothing."),
    click.option("--unsafe-load", is_flag=True,
                 help="Allow loading model files that may run code (Lambda layers)."),
    click.option("--force-exclude", is_flag=True,
                 help="Apply exclude to paths named on the command line too (pre-commit)."),
    click.option("--max-file-size", type=float, default=None, metavar="MB",
                 help="Files larger than this are not analyzed (DL900) [default: 1; or "
                      "max-file-size in pyproject.toml]."),
    click.option("--file-timeout", type=float, default=None, metavar="SECONDS",
                 help="Time limit for one file (DL900 when over) [default: 60]."),
    click.option("--max-depth", type=int, default=None, metavar="LEVELS",
                 help="Deepest syntax nesting analyzed (DL900 when over) [default: 400]."),
    click.option("--max-nodes", type=int, default=None, metavar="NODES",
                 help="Largest syntax tree analyzed (DL900 when over) [default: 150000]."),
    click.option("--no-cache", is_flag=True,
                 help="Check every file afresh; do not read or write the cache."),
    click.option("--cache-dir", type=click.Path(file_okay=False, path_type=str), default=None,
                 help="The cache folder [default: .droplint_cache in the project root; or "
                      "cache-dir in pyproject.toml]."),
]
CHECK_OPTIONS = [
    PATHS,
    click.option("--format", "--output-format", "output_format",
                 type=click.Choice(list(FORMATS)), default="text", show_default=True,
                 help="Output format (--output-format: the same, as ruff spells it)."),
    click.option("--quiet", "-q", count=True,
                 help="Only the findings, no summary line; -qq (or --silent): print nothing "
                      "(the exit status still says whether there were findings)."),
    click.option("--silent", is_flag=True, help="Print nothing (as -qq)."),
    codes_option("--select", "Only these rules (codes, prefixes like DL1, names, or ALL); "
                             "comma-separated, repeatable. Replaces the config's selection."),
    codes_option("--extend-select", "Rules to add to the selection."),
    codes_option("--ignore", "Rules to leave out (codes, prefixes or names)."),
    click.option("--fail-on", type=click.Choice([s.value for s in Severity]), default=None,
                 help="Lowest severity that makes the exit status 1 [default: warning]."),
    click.option("--min-severity", type=click.Choice([s.value for s in Severity]), default=None,
                 help="Show only findings at or above this severity [default: info; or "
                      "min-severity in pyproject.toml]. Hidden findings never fail the run."),
    click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are reported."),
    click.option("--statistics", is_flag=True, help="Count findings per rule instead."),
    click.option("--output-file", "-o", type=click.Path(dir_okay=False, path_type=str),
                 default=None, help="Write the output to this file instead of stdout."),
    click.option("--fix", is_flag=True, help="Apply the safe fixes, rewriting the files."),
    click.option("--unsafe-fixes", is_flag=True,
                 help="With --fix or --diff: apply the unsafe fixes too (they change what is "
                      "regularized)."),
    click.option("--diff", is_flag=True,
                 help="Print the fixes as a unified diff; write nothing (exit 1 if any)."),
    click.option("--show-fixes", is_flag=True, help="With --fix: list the fixes applied."),
    click.option("--add-noqa", is_flag=True,
                 help="Add `# noqa: DLxxx` to every line with a finding."),
    click.option("--stdin-filename", metavar="PATH", default=None,
                 help="With `-` (read stdin): the file's name, for config, per-file-ignores "
                      "and the output."),
    *COMMON_OPTIONS,
]


def _explain_text(report: Report, opts: dict) -> Output:
    from .render.explain import render_explain

    return render_explain(report, seed=opts["seed"])


def _explain_json(report: Report, opts: dict) -> Output:
    from .render.explain import render_explain_json

    return render_explain_json(report, seed=opts["seed"])


EXPLAIN_FORMATS: dict[str, Callable[[Report, dict], Output]] = {
    "text": _explain_text,
    "json": _explain_json,
}
EXPLAIN_OPTIONS = [
    PATHS,
    click.option("--format", "--output-format", "output_format",
                 type=click.Choice(list(EXPLAIN_FORMATS)), default="text", show_default=True,
                 help="Output format."),
    click.option("--stdin-filename", metavar="PATH", default=None,
                 help="With `-` (read stdin): the file's name, for config and the output."),
    click.option("--seed", type=int, default=0, show_default=True,
                 help="Seed of the random masks drawn in the pictures."),
    click.option("--html", type=click.Path(dir_okay=False, path_type=str), default=None,
                 help="Also save an HTML page: findings and a figure of every site's mask."),
    click.option("--svg", type=click.Path(dir_okay=False, path_type=str), default=None,
                 help="Also save an SVG image: a figure of every site's mask (grid, axes, "
                      "legend)."),
    click.option("--output-file", "-o", type=click.Path(dir_okay=False, path_type=str),
                 default=None, help="Write the output to this file instead of stdout."),
    *COMMON_OPTIONS,
]


# ---------------------------------------------------------------------------------- commands

def _print_version(ctx: click.Context, _param, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    pyproject, setting = None, "auto"
    try:  # the keras-version of the nearest [tool.droplint], as `check .` would read it
        pyproject = find_pyproject(Path("."))
        setting = load(pyproject).keras_version
        keras = resolve(setting)
    except (ConfigError, KerasVersionError) as exc:
        click.echo(fail_line(str(exc)), err=True)
        keras = resolve("auto")
    how = {"installed": "read from the installed packages",
           "default": "no Keras installed: the newest Keras 3 droplint knows",
           "config": f"keras-version = {setting!r} in {pyproject}"}.get(keras.source,
                                                                       keras.source)
    click.echo(f"{PROG} {__version__}\nassumes Keras {keras} ({how}; "
               f"change with --keras-version or keras-version in [tool.droplint])")
    ctx.exit(0)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show droplint's and the assumed Keras version.")
def cli() -> None:
    """What every dropout in your Keras models drops, and the mistakes around it.

    `droplint PATH...` is `droplint check PATH...`.
    """


def run_check(paths: tuple[str, ...], opts: dict) -> Report:
    from .api import check_paths

    settings = load_settings(paths, opts)
    opts["settings"] = settings
    return check_paths(list(paths or (".",)), settings,
                       force_exclude=opts.get("force_exclude", False),
                       unsafe_load=opts.get("unsafe_load", False),
                       cache_dir=cache_dir(settings, opts))


def cache_dir(settings: Settings, opts: dict) -> str | None:
    """--cache-dir, else cache-dir in the config, else .droplint_cache in the project root;
    None with --no-cache."""
    if opts.get("no_cache"):
        return None
    if opts.get("cache_dir"):
        return opts["cache_dir"]
    from .cache import default_dir

    return str(settings.cache_dir or default_dir(settings))


@cli.command(short_help="Check files for dropout mistakes (the default command).")
@with_options(CHECK_OPTIONS)
def check(paths: tuple[str, ...], **opts) -> int:
    """Check Python files, notebooks and model files (directories are walked).
    `-` reads one file from stdin (name it with --stdin-filename)."""
    if show_settings(paths, opts):
        return 0
    if "-" in paths:
        return check_stdin(paths, opts)
    report = run_check(paths, opts)
    if opts["add_noqa"]:
        return add_noqa(report, opts)
    fixed = ""
    if opts["fix"] or opts["diff"]:
        report, fixed, status = apply_fixes(paths, report, opts)
        if opts["diff"]:
            return status
    report = shown(report, opts["settings"])
    options = RenderOptions(statistics=opts["statistics"])
    output = quieted(FORMATS[opts["output_format"]](report, options), report, opts)
    if output is not None:
        emit(output, make_console(opts["no_color"], opts["color"]), opts["output_file"])
    if fixed and not quiet_level(opts):
        click.echo(fixed, err=opts["output_format"] not in ("text", "concise")
                   or bool(opts["output_file"]))
    print_errors(report)
    return exit_status(report, opts["settings"].fail_on, opts["exit_zero"])


# ---------------------------------------------- fixes, --add-noqa, stdin (fixing.py, add_noqa.py)

def settings_lines(paths: tuple[str, ...], opts: dict) -> list[str]:
    """--show-settings / --verbose: the config file, the settings, each file's Keras and why."""
    from . import settings_report

    named = opts.get("stdin_filename") if "-" in paths else None
    files = [p for p in paths if p != "-"] or ([] if named else ["."])
    settings = load_settings(tuple(files) or (named,), opts)
    pyproject = Path(opts["config"]) if opts.get("config") else \
        find_pyproject(Path(files[0] if files else named or "."))
    keras_flag = bool(opts.get("keras_version")) and opts["keras_version"] != "auto"
    return settings_report.report(files, settings, pyproject, keras_flag,
                                  opts.get("force_exclude", False))


def show_settings(paths: tuple[str, ...], opts: dict) -> bool:
    """--show-settings: print the settings and each file's Keras, and say the run is done;
    --verbose: the config file and each file's Keras on stderr, then the run goes on."""
    if not (opts["show_settings"] or opts["verbose"]):
        return False
    lines = settings_lines(paths, opts)
    if opts["show_settings"]:
        click.echo("\n".join(lines))
        return True
    from .render.escape import safe_text

    files = lines[lines.index("files:") + 1:]
    for line in [lines[0], *(f.strip() for f in files)]:
        click.echo(f"{PROG}: {safe_text(line, keep_newlines=False)}", err=True)
    return False


def apply_fixes(paths: tuple[str, ...], report: Report, opts: dict) -> tuple[Report, str, int]:
    """--fix / --diff: returns the report after fixing, the summary line(s) and, for --diff,
    the exit status (1 when there is anything to fix)."""
    from . import fixing

    unsafe, diff = opts["unsafe_fixes"], opts["diff"]
    targets = fixing.fixable_paths(report.findings, unsafe)
    done = fixing.fix_paths(targets, opts["settings"], unsafe=unsafe, write=not diff)
    if diff:
        click.echo("".join(d.diff for d in done), nl=False)
        click.echo(fixing.summary(done, verb="Would fix"), err=True)
        return report, "", int(any(d.changed for d in done))
    if any(d.changed for d in done):
        report = run_check(paths, opts)
    return report, fixing.summary(done, show=opts["show_fixes"]), 0


def add_noqa(report: Report, opts: dict) -> int:
    from .add_noqa import add_noqa_file, summary

    paths = sorted({f.path for f in report.findings if f.line is not None})
    results = [add_noqa_file(p, opts["settings"]) for p in paths]
    added, warnings = summary(results)
    click.echo(added)
    for line in warnings:  # findings left unsuppressed: never silently
        click.echo(line, err=True)
    print_errors(report)
    return 2 if report.errors else int(bool(warnings))


def check_stdin(paths: tuple[str, ...], opts: dict) -> int:
    """`droplint check -`: one file from stdin. With --fix the fixed file goes to stdout and
    the report to stderr (as ruff does)."""
    from . import fixing
    from .discover import _excluded
    from .document import Document
    from .pipeline import assemble, check_document
    from .render.sources import Sources, decode_text

    if paths != ("-",):
        raise CliError("`-` (read stdin) cannot be combined with other paths")
    if opts["add_noqa"]:
        raise CliError("--add-noqa cannot be used with stdin")
    name = opts["stdin_filename"] or "-"
    settings = load_settings((name,) if opts["stdin_filename"] else (), opts)
    data = sys.stdin.buffer.read()
    fix_wanted = opts["fix"] or opts["diff"]
    excluded = bool(opts["force_exclude"] and opts["stdin_filename"]
                    and _excluded(Path(name), settings, every_part=True))
    if excluded:
        if opts["fix"] and not opts["diff"]:
            sys.stdout.buffer.write(data)
        return 0
    doc = Document.from_bytes(name, data, stdin=True)
    if fix_wanted:
        done = fixing.fix_document(doc, settings, unsafe=opts["unsafe_fixes"])
        if opts["diff"]:
            click.echo(done.diff, nl=False)
            return int(done.changed)
        sys.stdout.buffer.write(done.after)
        sys.stdout.flush()
        result, data = done.result, done.after
    else:
        result = check_document(doc, settings)
    report = shown(assemble([result], settings), settings)
    text = decode_text(data, python=not doc.is_notebook)
    output = quieted(FORMATS[opts["output_format"]](
        report, RenderOptions(sources=Sources({name: text}), statistics=opts["statistics"])),
        report, opts)
    console = make_console(opts["no_color"], opts["color"])
    if output is None:
        pass
    elif fix_wanted and not opts["output_file"]:  # stdout holds the fixed file
        console.stderr = True
        console.print(output) if is_rich(output) else click.echo(output, err=True)
    else:
        emit(output, console, opts["output_file"])
    return exit_status(report, settings.fail_on, opts["exit_zero"])


@cli.command(short_help="Show what every dropout masks, with pictures.")
@with_options(EXPLAIN_OPTIONS)
def explain(paths: tuple[str, ...], **opts) -> int:
    """Show what every dropout masks, with a picture of one sample's mask. A file that cannot
    be parsed or loaded (DL900, DL901) is one error line on stderr and exit status 1."""
    from .render.text import location

    if show_settings(paths, opts):
        return 0
    report = explain_stdin(paths, opts) if "-" in paths else run_check(paths, opts)
    output = EXPLAIN_FORMATS[opts["output_format"]](report, opts)
    emit(output, make_console(opts["no_color"], opts["color"]), opts["output_file"])
    export(report, opts["seed"], html=opts["html"], svg=opts["svg"])
    unreadable = [f for f in report.findings if f.code in ("DL900", "DL901")]
    for f in unreadable:
        click.echo(fail_line(f"{location(f)}: {f.code} {f.message}"), err=True)
    print_errors(report)
    return 2 if report.errors else int(bool(unreadable))


def explain_stdin(paths: tuple[str, ...], opts: dict) -> Report:
    """`droplint explain -`: one file from stdin, named by --stdin-filename (as `check -`)."""
    from .document import Document
    from .pipeline import assemble, check_document

    if paths != ("-",):
        raise CliError("`-` (read stdin) cannot be combined with other paths")
    name = opts["stdin_filename"] or "-"
    settings = load_settings((name,) if opts["stdin_filename"] else (), opts)
    opts["settings"] = settings
    doc = Document.from_bytes(name, sys.stdin.buffer.read(), stdin=True)
    return assemble([check_document(doc, settings)], settings)


@cli.command(short_help="Show one rule's documentation.")
@click.argument("code_or_name")
@click.option("--no-color", is_flag=True, help="Print the markdown source without styling.")
def rule(code_or_name: str, no_color: bool) -> int:
    """Show the documentation of one rule (by code, e.g. DL101, or by name)."""
    from droplint.rules import lookup

    found = lookup(code_or_name)
    if found is None:
        raise CliError(f"unknown rule {code_or_name!r}; run `droplint rules` to list all "
                            "rules")
    console = make_console(no_color)
    if console.is_terminal and wants_color(no_color):
        from rich.markdown import Markdown

        console.print(Markdown(found.doc()), soft_wrap=False)
    else:
        click.echo(found.doc().rstrip("\n"))
    return 0


def rules_table() -> list[dict]:
    from droplint.rules import ALL_RULES

    return [{"code": r.code, "name": r.name, "severity": r.severity.value,
             "fix": r.fix_safety or "", "summary": r.summary} for r in ALL_RULES]


@cli.command(name="rules", short_help="List every rule.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--no-color", is_flag=True, help="No colour.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True, help="Colour: auto, always, never.")
def rules_command(output_format: str, no_color: bool, color: str) -> int:
    """List every rule: code, name, severity, fix, summary."""
    rows = rules_table()
    if output_format == "json":
        from .render.json import dumps

        click.echo(dumps(rows))
        return 0
    from .render.plain import rules_lines

    text = "\n".join(rules_lines(rows))
    if wants_color(no_color, color) and (color == "always" or sys.stdout.isatty()):
        from rich.text import Text

        styled = Text(text)
        for sev, style in (("error", "bold red"), ("warning", "bold yellow"),
                           ("info", "bold cyan")):
            styled.highlight_regex(rf"(?<=  ){sev}\b", style)
        make_console(no_color, color).print(styled)
    else:
        click.echo(text)
    return 0


@cli.command(short_help="Run each dropout of a model file; compare with droplint's claim.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str, readable=False))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--unsafe-load", is_flag=True,
              help="Allow loading model files that may run code (Lambda layers).")
@click.option("--no-color", is_flag=True, help="No colour (also: NO_COLOR, or not a tty).")
@click.option("--output-file", "-o", type=click.Path(dir_okay=False, path_type=str),
              default=None, help="Write the output to this file instead of stdout.")
def probe(paths: tuple[str, ...], output_format: str, unsafe_load: bool, no_color: bool,
          output_file: str | None) -> int:
    """Run every dropout site of model files (.keras, .h5, SavedModel directories) in training
    mode, seeded, on an input of the site's real shape, and print what it measured next to
    what droplint claims. Exit status 1 when they disagree (DL902) or a file cannot be loaded
    (DL901)."""
    from .api import check_paths
    from .discover import is_model_path
    from .render.probe import render_probe, render_probe_json

    for path in paths:
        if not is_model_path(path):
            raise CliError(f"probe takes model files (.keras, .h5 or a SavedModel "
                                f"directory), not {path}")
    settings = load_settings(paths, {})
    report = check_paths(list(paths), settings, unsafe_load=unsafe_load, probe=True)
    output = render_probe(report) if output_format == "text" else render_probe_json(report)
    emit(output, make_console(no_color), output_file)
    print_errors(report)
    if report.errors:
        return 2
    return 1 if any(f.code in ("DL901", "DL902") for f in report.findings) else 0


@cli.command(short_help="Language server for editors (LSP over stdio).")
def server() -> int:
    """Run droplint's language server over stdin/stdout (pygls): diagnostics as you type,
    fixes and noqa as code actions, what a dropout masks on hover. Needs pygls (pip install 'pygls>=2')."""
    from .server import main as serve

    return serve()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (`droplint`, `python -m droplint`)."""
    cli.main(args=argv, prog_name=PROG)


if __name__ == "__main__":
    main()
