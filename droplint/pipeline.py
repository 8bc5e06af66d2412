"""The pipeline: Document -> Graph -> rules -> suppressions -> findings, for every kind.

    check_document(doc: Document, settings: Settings, options: CheckOptions = CheckOptions())
        -> FileResult

is the per-file seam: one document in, its findings and sites out, never raising for bad
input. A cache or a crash boundary wraps one file there (`check_path` reads a path and calls
it; `check_files` maps `check_path` over many files, in processes when there are many).

Loaders only make graphs: the source loader from a text (a Python file's, or a notebook's
code cells joined into one program), loaders/model.py from a built Keras model. This module
links them to the engine (rules), the suppression comments (suppress.py), unused-noqa
(unused_noqa.py), the probe (built models) and, for notebooks, the mapping back to cells.
Findings that no rule's check() makes (DL900 parse error, DL901 model load error, DL902 probe
disagreement) are made here with `Rule.finding_at`, like every other finding.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import budgets, engine, isolate, prefilter, suppress
from .config import Settings
from .document import BUILT_MODEL, MODEL_FILE, NOTEBOOK, Document, DocumentError, kind_of
from .graph import Graph, Span
from .keras_version import KerasVersion, newer_than_known, resolve
from .loaders import NOTEBOOK_SUFFIXES, SourceError
from .report import Finding, Report, Site
from .selection import selected_rules

PARALLEL_MIN_FILES = 16

NO_KERAS = ("model files are loaded with Keras, which is not installed here: install "
            "Keras/TensorFlow in this environment (pip install tensorflow) to check them; "
            "source files need neither")


@dataclass(frozen=True)
class CheckOptions:
    """How to check, beyond the settings: model files only."""

    unsafe_load: bool = False  # load model files that contain code (Lambda layers)
    probe: bool = False  # run every dropout site of a built model and compare (DL902)
    cache_dir: str | None = None  # the content cache's folder (cache.py); None: no cache


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    suppressions: object = None  # suppress.Suppressions, for unused-noqa / --add-noqa
    text: str | None = None
    notes: list[str] = field(default_factory=list)  # what could not be known (built models)
    keras: object = None  # built models: the KerasVersion the model runs under
    transient: bool = False  # the analysis crashed or timed out: never cached (cache.py)


def loader_finding(code: str, path: str, message: str, line: int | None = 1,
                   column: int | None = 1) -> Finding:
    """DL900 / DL901: the input could not be read, at `line`:`column` (None: no position)."""
    from droplint.rules import BY_CODE

    span = None if line is None else Span(line, column, line, column + 1 if column else None)
    return BY_CODE[code].finding_at(path, message, span)


def _error_result(doc: Document, exc: DocumentError) -> FileResult:
    return FileResult(doc.path, [loader_finding("DL900", doc.path, exc.message, exc.line,
                                                exc.column)])


# --- graph -> findings ------------------------------------------------------------------------

def check_graph(graph: Graph, keras: KerasVersion, settings: Settings, path: str):
    """Run the rules selected for `path` over a graph: (findings, engine context, rules)."""
    rules = selected_rules(settings, path)
    findings, ctx = engine.run(graph, keras, rules)
    return findings, ctx, rules


def lint_graph(graph: Graph, settings: Settings, path: str | None = None
               ) -> tuple[list[Finding], list[Site]]:
    """Run the selected rules over a source graph; returns findings and sites (local ids)."""
    keras = resolve(settings.keras_version, graph.api)
    findings, ctx, _ = check_graph(graph, keras, settings, path or graph.path)
    return findings, engine.to_sites(ctx)


# --- Python text ------------------------------------------------------------------------------

def check_text(text: str, path: str, settings: Settings) -> FileResult:
    """Check one Python source text (already decoded): parse, rules, suppressions, DL910.
    The budgets (budgets.py) are checked first; a crash, MemoryError or RecursionError is a
    DL900 finding (isolate.py), never the caller's exception or the end of its process."""
    try:
        return _check_budgeted(text, path, settings)
    finally:
        budgets.forget_tree()  # the stdlib tree the pre-check, positions and fixes shared


def _check_budgeted(text: str, path: str, settings: Settings) -> FileResult:
    verdict = budgets.precheck_text(text, settings)
    if verdict.reason:  # over a budget, or nesting Python itself refuses
        return FileResult(path, [loader_finding("DL900", path, verdict.reason, verdict.line,
                                                verdict.column)], text=text)
    if verdict.risky and not isolate.in_worker():  # near a budget: parse in a child process
        outcome = isolate.run_isolated(_check_text, text, (path, settings),
                                       settings.file_timeout)
    else:
        outcome = isolate.guarded(_check_text, text, path, settings,
                                  timeout=settings.file_timeout)
    if isinstance(outcome, isolate.Failure):
        return failed(path, outcome, settings, text)
    return outcome


def failed(path: str, failure: isolate.Failure, settings: Settings, text: str | None = None
           ) -> FileResult:
    """The result of a file whose analysis crashed, ran out of time or memory: DL900."""
    message = budgets.timeout_reason(settings.file_timeout) if failure.kind == "timeout" \
        else failure.message
    return FileResult(path, [loader_finding("DL900", path, message)], text=text,
                      transient=True)


def _check_text(text: str, path: str, settings: Settings) -> FileResult:
    from .loaders.source import load
    from . import fixcheck
    from .unused_noqa import unused_noqa

    result = FileResult(path, text=text)
    try:
        graph = load(text, path)
    except SourceError as exc:
        result.findings.append(loader_finding("DL900", path, exc.message, exc.line, exc.column))
        return result
    findings, sites = lint_graph(graph, settings, path)
    sup = suppress.parse(text)
    result.suppressions = sup
    result.findings = [f for f in findings if not sup.match(f.line, f.code, f.name)]
    result.findings += unused_noqa(sup, findings, text, path, settings)
    result.findings = fixcheck.finalize(text, result.findings, path)  # complete, checked fixes
    result.sites = sites
    return result


def _check_python(doc: Document, settings: Settings) -> FileResult:
    if doc.text is None and not prefilter.relevant(doc.raw, notebook=False) \
            and not budgets.decode_first(doc.raw):  # UTF-16: decoded (or DL900) first
        return FileResult(doc.path)
    try:
        doc = doc.decoded()
    except DocumentError as exc:
        return _error_result(doc, exc)
    result = check_text(doc.text, doc.path, settings)
    why = doc.write_problem()  # e.g. unicode_escape: never fixable, and the finding says why
    if why:
        from .fixcheck import refuse

        result.findings = [refuse(f, why) if f.fix is not None else f for f in result.findings]
    return result


if TYPE_CHECKING:  # the notebook loader (and json) is imported only for a notebook
    from .loaders import notebook as nbformat


# --- notebooks --------------------------------------------------------------------------------

def _cell_errors(nb: nbformat.Notebook, path: str, settings: Settings) -> list[Finding]:
    """DL900 for each code cell that does not parse on its own, in cell coordinates."""
    from .loaders import notebook as nbformat

    errors = []
    for n, cell in enumerate(nb.cells, 1):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            code = nbformat.cell_code(nbformat.source_text(cell))[0]
            for f in check_text(code, path, settings).findings:
                if f.code == "DL900":
                    f.cell = n
                    errors.append(f)
    return errors


def _check_program(doc: Document, settings: Settings):
    """Check a notebook's code cells as one program. When it does not parse, each cell that
    does not parse on its own gets DL900 and is left out, and the others are checked.
    Returns (program, result in program coordinates, DL900 findings in cell coordinates)."""
    from .loaders import notebook as nbformat

    prog = doc.program
    result = check_text(prog.text, doc.path, settings)
    errors = [f for f in result.findings if f.code == "DL900"]
    if not errors:
        return prog, result, []
    if errors[0].message.startswith("not analyzed"):  # a budget, not one cell's syntax
        return prog, FileResult(doc.path), [nbformat.finding_to_cells(errors[0], prog)]
    bad = _cell_errors(doc.notebook, doc.path, settings)
    if bad:
        prog = nbformat.program(doc.notebook, frozenset(f.cell for f in bad))
        result = check_text(prog.text, doc.path, settings)
    errors = [f for f in result.findings if f.code == "DL900"]
    if errors:  # the cells parse one by one but not together: report where it failed
        return prog, FileResult(doc.path), bad + [nbformat.finding_to_cells(errors[0], prog)]
    return prog, result, bad


def _check_notebook(doc: Document, settings: Settings) -> FileResult:
    """A notebook's code cells as one program; findings and sites carry `cell` and the line
    within it. Undecodable or invalid JSON gives DL900."""
    from .loaders import notebook as nbformat

    try:
        doc = doc.decoded()
    except DocumentError as exc:
        return _error_result(doc, exc)
    lang = doc.notebook.language()
    if lang is not None and lang != "python":
        return FileResult(doc.path)
    if not prefilter.relevant(doc.raw, notebook=True):
        return FileResult(doc.path)
    prog, result, bad = _check_program(doc, settings)
    result.findings = [nbformat.finding_to_cells(f, prog) for f in result.findings] + bad
    result.findings.sort(key=Finding.sort_key)
    result.sites = [nbformat.site_to_cells(s, prog) for s in result.sites]
    result.text = None
    return result


# --- built models -----------------------------------------------------------------------------

def keras_installed() -> bool:
    """Can a model file be loaded here (Keras 3 or tf_keras importable)? Never imports them."""
    from importlib.util import find_spec

    return any(find_spec(name) is not None for name in ("keras", "tf_keras"))


def _probe_sites(built, ctx, notes: list[str]):
    """Run every site's layer in training mode and compare what it drops with the claim.
    Returns (DL902 findings, {site id: Measured})."""
    from droplint.rules import BY_CODE

    from . import probe

    rule = BY_CODE["DL902"]()
    findings, measured = [], {}
    for site in ctx.sites:
        obj = built.objects.get(id(site.node.layer))
        try:
            result = probe.measure(obj, site.node.input_shape, seed=0, argument=site.argument)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - a layer that cannot run alone
            notes.append(
                f"probe: could not run layer '{site.node.layer.origin.layer_name}': "
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            continue
        measured[site.id] = result
        disagreements = probe.compare(site.mask, result)
        if disagreements:
            findings.append(rule.finding(ctx, site, disagreements))
    return findings, measured


def _check_built(model, path: str, settings: Settings, probe: bool) -> FileResult:
    """A live model object: its graph through the rules, and the probe when asked."""
    from .loaders.model import build_graph

    built = build_graph(model, path)
    findings, ctx, rules = check_graph(built.graph, built.keras, settings, path)
    sites = engine.to_sites(ctx)
    if probe:
        extra, measured = _probe_sites(built, ctx, built.graph.notes)
        if any(r.code == "DL902" for r in rules):
            findings.extend(extra)
        for site in sites:
            if site.id in measured:
                site.probe = measured[site.id].to_dict()
    return FileResult(path, findings, sites, notes=list(built.graph.notes), keras=built.keras)


def _check_model_file(doc: Document, settings: Settings, options: CheckOptions) -> FileResult:
    """A model file: loaded (Keras safe mode unless unsafe_load), then as a built model; a
    file that cannot be loaded is a DL901 finding."""
    if not keras_installed():
        return FileResult(doc.path, [loader_finding("DL901", doc.path, NO_KERAS, None, None)])
    from .loaders import model_file

    try:
        model, notes = model_file.load_model_file(doc.path, options.unsafe_load)
    except model_file.ModelFileError as exc:
        return FileResult(doc.path, [loader_finding("DL901", doc.path, str(exc), None, None)])
    result = _check_built(model, doc.path, settings, options.probe)
    result.notes.extend(notes)
    saved_with = model_file.h5_saved_with(doc.path)
    if saved_with and saved_with.startswith("2.") and result.keras.is_keras3:
        result.notes.append(
            f"saved by Keras {saved_with} and analyzed as Keras {result.keras} loads it; set "
            "TF_USE_LEGACY_KERAS=1 (with tf_keras installed) to analyze it as tf.keras 2 runs it")
    return result


# --- the seam ---------------------------------------------------------------------------------

def check_document(doc: Document, settings: Settings,
                   options: CheckOptions = CheckOptions()) -> FileResult:
    """Check one document of any kind. Never raises for bad input (DL900 / DL901 instead)."""
    if doc.kind == NOTEBOOK:
        return _check_notebook(doc, settings)
    if doc.kind == MODEL_FILE:
        return _check_model_file(doc, settings, options)
    if doc.kind == BUILT_MODEL:
        return _check_built(doc.model, doc.path, settings, options.probe)
    return _check_python(doc, settings)


def check_path(path: str, settings: Settings, options: CheckOptions = CheckOptions()
               ) -> FileResult:
    """Check one file or model directory from disk, whatever its kind. Only regular files
    are read, and files over max-file-size only when they could hold a finding (DL900)."""
    if kind_of(path) != MODEL_FILE:
        from .discover import ReadError, read_source

        try:
            data = read_source(path, settings.max_file_size, prefilter.NAMES.search)
        except ReadError as exc:
            return FileResult(path, [loader_finding("DL900", path, exc.message)])
        if data is None:
            return FileResult(path)
        return check_document(Document.from_bytes(path, data), settings, options)
    try:
        doc = Document.from_path(path)
    except DocumentError as exc:
        return FileResult(path, [loader_finding("DL900", path, exc.message)])
    return check_document(doc, settings, options)


def check_files(paths: list[str], settings: Settings, options: CheckOptions = CheckOptions()
                ) -> list[FileResult]:
    """Check many files: text files in processes when there are many, model files here
    (Keras is loaded once)."""
    models = [p for p in paths if kind_of(p) == MODEL_FILE]
    model_set = set(models)
    texts = [p for p in paths if p not in model_set]
    store = None
    if options.cache_dir is not None:
        from .cache import Cache

        store = Cache.open(options.cache_dir, settings)
    if store is None:
        results = _check_texts(texts, settings, options)
    else:
        results = _check_cached(texts, settings, options, store)
    return results + [check_path(p, settings, options) for p in models]


def _check_texts(texts: list[str], settings: Settings, options: CheckOptions
                 ) -> list[FileResult]:
    """Python files and notebooks: in processes when there are many."""
    jobs = min(isolate.cpu_count(), 8)
    if len(texts) < PARALLEL_MIN_FILES or jobs < 2:
        return [_guarded_path(p, settings, options) for p in texts]
    # Worker processes restarted when one dies; a file over file-timeout kills only its worker.
    pool = isolate.Pool(_check_in_worker, (settings, options), jobs, settings.file_timeout)
    frozen = _prepare_fork(pool)
    try:
        outcomes = pool.map(texts)
    finally:
        if frozen:
            import gc

            gc.unfreeze()
    return [failed(p, r, settings) if isinstance(r, isolate.Failure) else r
            for p, r in zip(texts, outcomes)]


def _prepare_fork(pool) -> bool:
    """Before fork-started workers: import the parser and the rules once here (each worker
    would import them itself: ~0.15 s of CPU each) and freeze the objects that exist, so
    that the workers' garbage collections never scan them (nor copy their pages). The
    caller unfreezes once the workers are done. False when workers are not forked."""
    if pool.ctx.get_start_method() != "fork":
        return False
    import gc

    import droplint.rules  # noqa: F401

    from .loaders import source  # noqa: F401

    gc.freeze()
    return True


def _guarded_path(path: str, settings: Settings, options: CheckOptions) -> FileResult:
    outcome = isolate.guarded(check_path, path, settings, options)
    return failed(path, outcome, settings) if isinstance(outcome, isolate.Failure) else outcome


def _check_in_worker(path: str, settings: Settings, options: CheckOptions) -> FileResult:
    """`check_path` in a worker process, then the memory of the freed parse trees handed back
    to the system: glibc keeps it otherwise, and every worker would stay at the size its
    largest file needed (a 100 KB file's syntax tree takes ~50 MB). The cyclic garbage
    collector is paused for the file (libcst's trees hold no cycles, and freeing them is
    reference counting's work; its collections walked every new node: ~15% of the time),
    and runs once after it."""
    import gc

    gc.disable()
    try:
        result = check_path(path, settings, options)
    finally:
        gc.enable()
    gc.collect(1)
    _release_freed_memory()
    return result


_TRIM = None


def _release_freed_memory() -> None:
    global _TRIM
    if _TRIM is None:
        try:
            import ctypes

            _TRIM = ctypes.CDLL(None).malloc_trim  # glibc only
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


def _check_cached(texts: list[str], settings: Settings, options: CheckOptions, store
                  ) -> list[FileResult]:
    """The content cache (cache.py), here in the calling process before any worker starts:
    a file whose bytes hash as cached takes the cached result; one the pre-filter drops is
    empty; only the others are checked (`_check_texts`), and stored when their bytes did not
    change meanwhile."""
    from .cache import digest
    from .discover import ReadError, read_source

    done: dict[str, FileResult] = {}
    todo: dict[str, str] = {}  # path -> digest of the bytes read here
    for path in texts:
        try:  # as check_path reads: regular files only, within max-file-size
            data = read_source(path, settings.max_file_size, prefilter.NAMES.search)
        except ReadError:
            todo[path] = ""  # check_path reports it; nothing is cached
            continue
        if data is None:  # over the size limit, with nothing droplint could find
            done[path] = FileResult(path)
            continue
        key = digest(data)
        hit = store.get(path, key)
        if hit is not None:
            done[path] = FileResult(path, findings=hit[0], sites=hit[1], notes=hit[2])
        elif not path.endswith(NOTEBOOK_SUFFIXES) and not budgets.decode_first(data) \
                and not prefilter.relevant(data, path, notebook=False):
            done[path] = FileResult(path)  # (notebooks are decoded first: bad JSON is DL900)
            store.put(path, key, [], [], [])
        else:
            todo[path] = key
    for result in _check_texts(list(todo), settings, options):
        done[result.path] = result
        key = todo.get(result.path)
        if key and not result.transient \
                and _digest_of(result.path, settings.max_file_size) == key:
            store.put(result.path, key, result.findings, result.sites, result.notes)
    store.save()
    return [done[p] for p in texts]


def _digest_of(path: str, max_mb: float) -> str | None:
    from .cache import digest
    from .discover import ReadError, read_source

    try:
        data = read_source(path, max_mb)
    except ReadError:
        return None
    return digest(data) if data is not None else None


# --- results -> a report ----------------------------------------------------------------------

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
