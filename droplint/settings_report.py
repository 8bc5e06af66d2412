"""`--show-settings` and `--verbose`: which pyproject.toml the settings came from, the settings
in effect, and for each file which Keras version its explanations assume and why (the
decision of keras_version.resolve, in words). Reads files the way `check` does; never imports
Keras."""
from __future__ import annotations

import os
import re
from pathlib import Path

from .config import Settings
from .keras_version import KerasVersionError, _installed, resolve

API_WORDS = {"keras": "imports keras", "tf.keras": "uses tf.keras",
             "tf_keras": "imports tf_keras"}


def _legacy() -> bool:
    return os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes")


def keras_why(setting: str, api: str, where: str) -> str:
    """Why `resolve(setting, api)` gives the version it gives, in a few words."""
    if setting and setting != "auto":
        return f"keras-version = {setting!r} ({where})"
    said = API_WORDS.get(api, f"api {api}")
    if api == "tf_keras":
        v = _installed("tf-keras") or _installed("tf_keras")
        return f"{said}: tf-keras {v} installed" if v else \
            f"{said}, tf-keras not installed: the newest tf.keras 2 droplint knows"
    if api == "tf.keras":
        tf = _installed("tensorflow") or _installed("tensorflow-cpu")
        if tf:
            tf_v = tuple(int(p) for p in re.findall(r"\d+", tf)[:2])
            if tf_v < (2, 16):
                return f"{said}: TensorFlow {tf} < 2.16 bundles Keras 2"
            legacy = _installed("tf-keras") or _installed("tf_keras")
            if _legacy() and legacy:
                return f"{said}: TF_USE_LEGACY_KERAS is set and tf-keras {legacy} installed"
            said += f" (TensorFlow {tf}: tf.keras is Keras 3"
            said += ", TF_USE_LEGACY_KERAS not set)" if not _legacy() else \
                ", tf-keras not installed)"
    v = _installed("keras")
    return f"{said}: keras {v} installed" if v else \
        f"{said}, no keras installed: the newest Keras 3 droplint knows"


def file_api(path: str, settings: Settings) -> str | None:
    """The import root the source loader finds in a file ("keras", "tf.keras", "tf_keras"),
    or None for model files and files that cannot be read or parsed."""
    from .document import Document, DocumentError
    from .loaders.source import load

    try:
        doc = Document.from_path(path)
        if not doc.is_text:
            return None
        doc = doc.decoded()
        return load(doc.text, path).api
    except (OSError, DocumentError, ValueError, SyntaxError, RecursionError, MemoryError):
        return None
    except Exception:  # noqa: BLE001 - a file the loader rejects: `check` reports it (DL900)
        return None


def file_lines(paths: list[str], settings: Settings, where: str,
               force_exclude: bool = False) -> list[str]:
    """`path: Keras 3.15.1 (imports keras: keras 3.15.1 installed)` for each file checked."""
    from .discover import is_model_path, iter_files

    out = []
    for path, error in iter_files(paths, settings, force_exclude=force_exclude):
        if error:
            out.append(f"{path}: not checked: {error}")
            continue
        if is_model_path(path):
            out.append(f"{path}: the model's own Keras (read when it is loaded)")
            continue
        api = file_api(path, settings)
        if api is None:
            out.append(f"{path}: cannot be parsed (DL900): Keras not decided")
            continue
        try:
            version = resolve(settings.keras_version, api)
        except KerasVersionError as exc:
            out.append(f"{path}: {exc}")
            continue
        out.append(f"{path}: Keras {version} ({keras_why(settings.keras_version, api, where)})")
    return out


def settings_lines(settings: Settings, pyproject: Path | None) -> list[str]:
    """The settings in effect, one `name = value` a line, after where they came from."""
    none = "none (no pyproject.toml with [tool.droplint] above the first path)"
    out = [f"config: {pyproject or none}"]
    for name in ("select", "extend_select", "ignore", "per_file_ignores", "exclude",
                 "extend_exclude", "fail_on", "min_severity", "keras_version",
                 "respect_gitignore", "max_file_size", "file_timeout", "max_depth",
                 "max_nodes", "cache_dir"):
        value = getattr(settings, name, None)
        value = getattr(value, "value", value)
        if isinstance(value, tuple):
            value = list(value)
        out.append(f"{name.replace('_', '-')} = {value!r}")
    return out


def report(paths: list[str], settings: Settings, pyproject: Path | None, keras_flag: bool,
           force_exclude: bool = False) -> list[str]:
    """Everything --show-settings prints."""
    where = "--keras-version" if keras_flag else str(pyproject or "config")
    return [*settings_lines(settings, pyproject), "files:",
            *("  " + line for line in file_lines(paths, settings, where, force_exclude))]
