"""The public API: `analyze` (paths or a built Keras model) and `analyze_source` (text) return a
Report; the CLI calls `check_paths`. The work is done by droplint/pipeline.py."""
from __future__ import annotations

import os

from .config import Settings
from .document import Document
from .pipeline import (NO_KERAS, CheckOptions, FileResult, assemble, check_document,  # noqa: F401
                       check_files, check_text, keras_installed)
from .report import Report

lint_text = check_text  # the name tests and older callers use


def check_paths(paths: list[str], settings: Settings | None = None, *,
                force_exclude: bool = False, unsafe_load: bool = False,
                probe: bool = False, cache_dir: str | None = None) -> Report:
    """Check files and directories; `probe` also runs every dropout of each model file;
    `cache_dir`: keep per-file results in a content cache there (cache.py)."""
    from .discover import iter_files

    settings = settings or Settings()
    files, errors = [], []
    for path, error in iter_files(list(paths), settings, force_exclude):
        if error:
            errors.append(error)
        else:
            files.append(path)
    options = CheckOptions(unsafe_load=unsafe_load, probe=probe, cache_dir=cache_dir)
    return assemble(check_files(files, settings, options), settings, errors)


def checked_settings(settings: Settings | None, **overrides) -> Settings:
    """The API's settings: `settings` (a Settings or None) with the overrides, the rule codes
    and names checked (an unknown one is a ValueError naming the argument, not a run of no
    rule)."""
    from .selection import validate

    if settings is not None and not isinstance(settings, Settings):
        raise TypeError(f"settings must be a droplint.config.Settings, not "
                        f"{type(settings).__name__}")
    settings = (settings or Settings()).with_overrides(**overrides)
    for name in ("select", "extend_select", "ignore"):
        validate(getattr(settings, name), name)
    return settings


def analyze_source(code: str, filename: str = "<string>", *, settings: Settings | None = None,
                   keras_version: str | None = None) -> Report:
    """Analyze Python source text (never executed)."""
    if not isinstance(code, str):
        hint = " (decode the bytes first, or pass the file's path to analyze())" \
            if isinstance(code, (bytes, bytearray)) else ""
        raise TypeError(f"analyze_source(code=...) expects Python source as str, not "
                        f"{type(code).__name__}{hint}")
    if not isinstance(filename, str):
        raise TypeError(f"analyze_source(filename=...) expects a str, not "
                        f"{type(filename).__name__}")
    settings = checked_settings(settings, keras_version=keras_version)
    return assemble([check_document(Document.from_text(code, filename), settings)], settings)


def analyze(target, *, settings: Settings | None = None, keras_version: str | None = None,
            probe: bool = False, unsafe_load: bool = False) -> Report:
    """Analyze a path (file or directory), a list of paths, or a built Keras model.
    `probe=True` also runs every dropout site of a model (object or file) in training mode
    and reports disagreements with droplint's explanation (DL902)."""
    settings = checked_settings(settings, keras_version=keras_version)
    if isinstance(target, (str, os.PathLike)):
        return check_paths([os.fspath(target)], settings, unsafe_load=unsafe_load, probe=probe)
    if isinstance(target, (list, tuple)):
        return check_paths([os.fspath(t) for t in target], settings, unsafe_load=unsafe_load,
                           probe=probe)
    return analyze_model(target, settings, probe=probe)


def analyze_model(model, settings: Settings | None = None, *, probe: bool = False) -> Report:
    """The Report of a live Keras model (analyze(model), the training callback)."""
    from .loaders.model import is_keras_model

    if not is_keras_model(model):
        raise TypeError(f"droplint.analyze() expects a path or a Keras model, not "
                        f"{type(model).__name__}")
    settings = settings or Settings()
    result = check_document(Document.from_model(model), settings, CheckOptions(probe=probe))
    return assemble([result], settings)
