"""The driver: files or a built model in, a Report out. `analyze` and `analyze_source` are the
public API; the CLI calls `check_paths`."""
from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import engine, suppress
from .config import Settings
from .graph import Graph
from .keras_version import newer_than_known, resolve
from .loaders import SourceError
from .report import Finding, Report, Severity, Site
from .selection import selected_rules

# A file that mentions none of these cannot hold a dropout site or a recurrent layer; it is
# skipped before parsing (libcst parses ~13k lines/s, this test runs at memory speed).
_RELEVANT = re.compile(rb"ropout|LSTM|GRU|SimpleRNN|CuDNN|GaussianNoise|ConvLSTM|RNN\(")
PARALLEL_MIN_FILES = 16


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    suppressions: object = None  # suppress.Suppressions, for unused-noqa / --add-noqa
    text: str | None = None
    notes: list[str] = field(default_factory=list)  # what could not be known (built models)
    keras: object = None  # built models: the KerasVersion the model runs under


def parse_error(path: str, message: str, line: int | None = 1, column: int | None = 1,
                code: str = "DL900") -> Finding:
    from droplint.rules import BY_CODE

    rule = BY_CODE[code]
    return Finding(code, rule.name, Severity.ERROR, path, line, column, line,
                   (column or 0) + 1 if column else None, message)


def lint_graph(graph: Graph, settings: Settings, path: str | None = None
               ) -> tuple[list[Finding], list[Site]]:
    """Run the selected rules over a graph; returns findings and sites (local site ids)."""
    keras = resolve(settings.keras_version, graph.api)
    findings, ctx = engine.run(graph, keras, selected_rules(settings, path or graph.path))
    return findings, engine.to_sites(ctx)


# 200 brackets opened in a row (empty pairs and other text between them allowed): nesting that
# Python itself refuses (its limit is 200) and that crashes libcst's native parser (a stack
# overflow kills the process) from about 1,500 levels. Searched in the brackets alone (fast).
_NOT_BRACKETS = re.compile(r"[^()\[\]{}]+")
_DEEP = re.compile(r"(?:[(\[{](?:\(\)|\[\]|\{\})*){200}")


def python_rejects_nesting(text: str) -> tuple[str, int, int] | None:
    """(message, line, column) when `text` nests brackets deeper than Python compiles."""
    if not _DEEP.search(_NOT_BRACKETS.sub("", text)):
        return None
    import ast

    try:
        ast.parse(text)
    except SyntaxError as err:
        return f"SyntaxError: {err.msg}", err.lineno or 1, err.offset or 1
    except (ValueError, MemoryError, RecursionError) as err:
        return f"SyntaxError: too deeply nested ({type(err).__name__} in Python's parser)", 1, 1
    return None


def lint_text(text: str, path: str, settings: Settings) -> FileResult:
    """Check one Python source text (already decoded)."""
    from .loaders.source import load
    from .noqa import unused_noqa

    result = FileResult(path, text=text)
    too_deep = python_rejects_nesting(text)
    if too_deep:
        result.findings.append(parse_error(path, *too_deep))
        return result
    try:
        graph = load(text, path)
    except SourceError as exc:
        result.findings.append(parse_error(path, exc.message, exc.line, exc.column))
        return result
    findings, sites = lint_graph(graph, settings, path)
    sup = suppress.parse(text)
    result.suppressions = sup
    result.findings = [f for f in findings if not sup.match(f.line, f.code, f.name)]
    result.findings += unused_noqa(sup, findings, text, path, settings)
    result.sites = sites
    return result


def check_file(path: str, settings: Settings) -> FileResult:
    """Check one file from disk, whatever its kind. Never raises for bad input."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return FileResult(path, [parse_error(path, f"cannot read file: {exc.strerror or exc}")])
    return check_data(data, path, settings)


def check_data(data: bytes, path: str, settings: Settings) -> FileResult:
    """Check the content of a Python file or notebook named `path` (e.g. read from stdin)."""
    if path.endswith(".ipynb"):
        from .loaders.notebook import lint_notebook

        return lint_notebook(data, path, settings)
    if not _RELEVANT.search(data):
        return FileResult(path)
    try:
        text, _ = decode_source(data)
    except DecodeError as exc:
        return FileResult(path, [parse_error(path, str(exc))])
    return lint_text(text, path, settings)


class DecodeError(ValueError):
    pass


def decode_source(data: bytes) -> tuple[str, str]:
    """Python source bytes -> (text, encoding), decoded as Python reads them (PEP 263: a UTF-8
    BOM, or a `# -*- coding: ... -*-` line, else UTF-8). `text.encode(encoding)` writes it
    back the same way (BOM included). Raises DecodeError with a one-line reason."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # unknown encoding, or a BOM with another coding cookie
        raise DecodeError(f"cannot decode file: {exc.msg if hasattr(exc, 'msg') else exc}"
                          ) from None
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding in ("utf-8", "utf-8-sig") else encoding
        raise DecodeError(f"cannot decode file as {name}: {exc.reason} at byte {exc.start}"
                          ) from None


def _check_many(paths: list[str], settings: Settings) -> list[FileResult]:
    jobs = min(os.cpu_count() or 1, 8)
    if len(paths) < PARALLEL_MIN_FILES or jobs < 2:
        return [check_file(p, settings) for p in paths]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(check_file, paths, [settings] * len(paths),
                             chunksize=max(1, len(paths) // (jobs * 8))))


def assemble(results: list[FileResult], settings: Settings, errors: list[str] | None = None
             ) -> Report:
    """Merge per-file results into one Report: unique site ids, deterministic order."""
    keras = resolve(settings.keras_version, "keras")
    models = {r.keras for r in results if r.keras is not None}
    if len(models) == 1 and all(r.keras is not None for r in results):
        keras = models.pop()  # only built models: the Keras they run under
    report = Report(str(keras), keras.source, errors=list(errors or []))
    newer = newer_than_known(keras)
    if newer:
        report.notes.append(newer)
    for r in sorted(results, key=lambda r: r.path):
        report.notes.extend(f"{r.path}: {n}" for n in r.notes)
        offset = len(report.sites)
        for s in r.sites:
            s.id += offset
        report.sites.extend(r.sites)
        report.findings.extend(engine.shift_findings(r.findings, offset))
        report.files_checked += 1
    report.findings.sort(key=Finding.sort_key)
    return report


def check_paths(paths: list[str], settings: Settings | None = None, *,
                force_exclude: bool = False, unsafe_load: bool = False,
                probe: bool = False) -> Report:
    """Check files and directories; `probe` also runs every dropout of each model file."""
    from .discover import is_model_path, iter_files

    settings = settings or Settings()
    files, errors = [], []
    for path, error in iter_files(list(paths), settings, force_exclude):
        if error:
            errors.append(error)
        else:
            files.append(path)
    models = [p for p in files if is_model_path(p)]
    model_set = set(models)
    sources = [p for p in files if p not in model_set]
    results = _check_many(sources, settings)
    for p in models:
        if not keras_installed():
            results.append(FileResult(p, [parse_error(p, NO_KERAS, None, None, code="DL901")]))
            continue
        from .loaders.model import lint_model_file

        results.append(lint_model_file(p, settings, unsafe_load=unsafe_load, probe=probe))
    return assemble(results, settings, errors)


NO_KERAS = ("model files are loaded with Keras, which is not installed here: pip install "
            "'droplint[keras]' (TensorFlow) to check them; source files need neither")


def keras_installed() -> bool:
    """Can a model file be loaded here (Keras 3 or tf_keras importable)? Never imports them."""
    from importlib.util import find_spec

    return any(find_spec(name) is not None for name in ("keras", "tf_keras"))


def analyze_source(code: str, filename: str = "<string>", *, settings: Settings | None = None,
                   keras_version: str | None = None) -> Report:
    """Analyze Python source text (never executed)."""
    settings = (settings or Settings()).with_overrides(keras_version=keras_version)
    return assemble([lint_text(code, filename, settings)], settings)


def analyze(target, *, settings: Settings | None = None, keras_version: str | None = None,
            probe: bool = False, unsafe_load: bool = False) -> Report:
    """Analyze a path (file or directory), a list of paths, or a built Keras model.
    `probe=True` also runs every dropout site of a model (object or file) in training mode
    and reports disagreements with droplint's explanation (DL902)."""
    settings = (settings or Settings()).with_overrides(keras_version=keras_version)
    if isinstance(target, (str, os.PathLike)):
        return check_paths([os.fspath(target)], settings, unsafe_load=unsafe_load, probe=probe)
    if isinstance(target, (list, tuple)):
        return check_paths([os.fspath(t) for t in target], settings, unsafe_load=unsafe_load,
                           probe=probe)
    from .loaders.model import analyze_model

    return analyze_model(target, settings, probe=probe)
