"""Settings: `[tool.droplint]` of the nearest pyproject.toml, overridden by CLI flags."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from .report import Severity

DEFAULT_EXCLUDE = (".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "__pycache__",
                   "build", "dist", "node_modules", ".mypy_cache", ".pytest_cache",
                   ".ruff_cache", "site-packages", ".eggs", "*.egg-info")
KEYS = {"select", "extend-select", "ignore", "per-file-ignores", "exclude", "extend-exclude",
        "fail-on", "keras-version", "respect-gitignore", "cache-dir"}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("ALL",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    fail_on: Severity = Severity.WARNING
    keras_version: str = "auto"
    respect_gitignore: bool = True
    root: Path | None = None  # the folder of the pyproject.toml the settings came from
    cache_dir: Path | None = None  # cache-dir (relative to root); None: root/.droplint_cache

    def with_overrides(self, **overrides) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.droplint] table, walking up from `start`."""
    try:
        start = start.resolve()
    except (OSError, RuntimeError):  # a symlink loop: discover reports the path itself
        start = start.absolute()
    for folder in [start, *start.parents] if start.is_dir() else start.parents:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"{candidate}: cannot read: {exc}") from None
            if "droplint" in data.get("tool", {}):
                return candidate
    return None


def _codes(value, key: str, path: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.droplint] {key} must be a list of rule codes or names")
    return tuple(value)


def load(pyproject: Path | None) -> Settings:
    if pyproject is None:
        return Settings()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: cannot read: {exc}") from None
    tool = data.get("tool")
    if not isinstance(tool, dict) or "droplint" not in tool:
        raise ConfigError(f"{pyproject}: no [tool.droplint] table")
    table = tool["droplint"]
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.droplint] must be a table")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise ConfigError(f"{pyproject}: unknown [tool.droplint] key(s): {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(KEYS))})")
    kw: dict = {"root": pyproject.parent}
    for key in ("select", "extend-select", "ignore", "exclude", "extend-exclude"):
        if key in table:
            kw[key.replace("-", "_")] = _codes(table[key], key, pyproject)
    if "per-file-ignores" in table:
        pfi = table["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise ConfigError(f"{pyproject}: per-file-ignores must be a table of glob = [codes]")
        kw["per_file_ignores"] = {g: _codes(v, f"per-file-ignores.{g}", pyproject)
                                  for g, v in pfi.items()}
    if "fail-on" in table:
        kw["fail_on"] = parse_severity(table["fail-on"], pyproject)
    if "keras-version" in table:
        if isinstance(table["keras-version"], float):  # TOML 3.10 is the number 3.1
            raise ConfigError(f"{pyproject}: keras-version must be in quotes, e.g. "
                              "keras-version = \"3.10\": unquoted, TOML reads a number "
                              f"({table['keras-version']}), and 3.10 would be 3.1")
        kw["keras_version"] = str(table["keras-version"])
        from .keras_version import KerasVersionError, parse

        if kw["keras_version"] != "auto":
            try:
                parse(kw["keras_version"])
            except KerasVersionError as exc:
                raise ConfigError(f"{pyproject}: {exc}") from None
    if "respect-gitignore" in table:
        if not isinstance(table["respect-gitignore"], bool):
            raise ConfigError(f"{pyproject}: respect-gitignore must be true or false")
        kw["respect_gitignore"] = table["respect-gitignore"]
    if "cache-dir" in table:
        if not isinstance(table["cache-dir"], str) or not table["cache-dir"].strip():
            raise ConfigError(f"{pyproject}: cache-dir must be a folder path (a string)")
        kw["cache_dir"] = pyproject.parent / table["cache-dir"]
    return Settings(**kw)


def parse_severity(value, where="") -> Severity:
    try:
        return Severity(str(value).lower())
    except ValueError:
        raise ConfigError(f"{where}{': ' if where else ''}fail-on must be error, warning or info, "
                          f"not {value!r}") from None
