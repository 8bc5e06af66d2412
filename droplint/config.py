"""Settings: `[tool.droplint]` of the nearest pyproject.toml, overridden by CLI flags."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import budgets
from .report import Severity

DEFAULT_EXCLUDE = (".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "__pycache__",
                   "build", "dist", "node_modules", ".mypy_cache", ".pytest_cache",
                   ".ruff_cache", "site-packages", ".eggs", "*.egg-info")
KEYS = {"select", "extend-select", "ignore", "per-file-ignores", "exclude", "extend-exclude",
        "fail-on", "min-severity", "keras-version", "respect-gitignore", "cache-dir", "max-file-size",
        "file-timeout", "max-depth", "max-nodes"}
# Budgets (budgets.py): key -> (Settings field, type, unit for messages)
BUDGET_KEYS = {"max-file-size": ("max_file_size", float, "MB"),
               "file-timeout": ("file_timeout", float, "s"),
               "max-depth": ("max_depth", int, "levels"),
               "max-nodes": ("max_nodes", int, "nodes")}


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
    # display threshold: findings below it are not shown, and so never fail the run either
    min_severity: Severity = Severity.INFO
    keras_version: str = "auto"
    respect_gitignore: bool = True
    root: Path | None = None  # the folder of the pyproject.toml the settings came from
    # Budgets per file (budgets.py): over them a file is DL900 "not analyzed: ...".
    max_file_size: float = budgets.MAX_FILE_SIZE_MB  # MB
    file_timeout: float = budgets.FILE_TIMEOUT_S  # seconds, where a file runs in a worker
    max_depth: int = budgets.MAX_DEPTH
    max_nodes: int = budgets.MAX_NODES
    cache_dir: Path | None = None  # cache-dir (relative to root); None: root/.droplint_cache

    def __post_init__(self):
        """Check the types of values given from Python (the API, the callback): a string of
        codes is split at commas as on the command line (not into characters); a wrong type
        is a TypeError, a bad value a ConfigError, both naming the argument."""
        for name in ("select", "extend_select", "ignore", "exclude", "extend_exclude"):
            object.__setattr__(self, name, string_tuple(getattr(self, name), name))
        if not isinstance(self.fail_on, Severity):
            object.__setattr__(self, "fail_on", parse_severity(self.fail_on, "fail_on"))
        if not isinstance(self.min_severity, Severity):
            object.__setattr__(self, "min_severity",
                               parse_severity(self.min_severity, "min_severity", "min_severity"))
        if not isinstance(self.keras_version, str):
            raise TypeError(f"keras_version must be a string such as 'auto', '2' or '3.10', "
                            f"not {type(self.keras_version).__name__}")
        for key, (name, _kind, _unit) in BUDGET_KEYS.items():
            value = getattr(self, name)
            object.__setattr__(self, name, budget_value(key, value, name))

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
        try:
            exists = candidate.is_file()
        except OSError:  # a folder above that cannot be searched
            exists = False
        if exists:
            tool = read_toml(candidate).get("tool")
            if isinstance(tool, dict) and "droplint" in tool:
                return candidate
    return None


def read_toml(path: Path) -> dict:
    """A TOML file's table; ConfigError (one line) when it cannot be read or parsed."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"{path}: cannot read: {why}") from None
    except (RecursionError, MemoryError):  # arrays or tables nested thousands deep
        raise ConfigError(f"{path}: cannot read: nested too deeply") from None


def _codes(value, key: str, path: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.droplint] {key} must be a list of rule codes or names")
    return tuple(value)


def load(pyproject: Path | None) -> Settings:
    if pyproject is None:
        return Settings()
    tool = read_toml(pyproject).get("tool")
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
    if "min-severity" in table:
        kw["min_severity"] = parse_severity(table["min-severity"], pyproject, "min-severity")
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
    for key, value in table.items():
        if key in BUDGET_KEYS:
            kw[BUDGET_KEYS[key][0]] = budget_value(key, value, str(pyproject))
    return Settings(**kw)


def string_tuple(value, argument: str) -> tuple[str, ...]:
    """Rule selectors or patterns given from Python: "DL101,DL2" or a list/tuple of strings."""
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str)
                                                                  for v in value):
        return tuple(value)
    raise TypeError(f"{argument} must be a list of strings (rule codes, names or patterns) "
                    f"or one comma-separated string, not {type(value).__name__}"
                    + (" with non-string items" if isinstance(value, (list, tuple)) else ""))


def budget_value(key: str, value, where: str = "") -> float | int:
    """A budget setting (`max-file-size = 5`): a positive number, else ConfigError."""
    _field, kind, unit = BUDGET_KEYS[key]
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = number and 0 < value < 1e12 and (kind is float or value == int(value))
    if not ok:
        small = not number or (isinstance(value, float) or value.bit_length() < 64)
        shown = repr(value) if small and len(repr(value)) < 40 else type(value).__name__
        raise ConfigError(f"{where}{': ' if where else ''}{key} must be a positive "
                          f"{'number' if kind is float else 'whole number'} ({unit}), not "
                          f"{shown}")
    return kind(value)


def parse_severity(value, where="", key="fail-on") -> Severity:
    try:
        return Severity(str(value).lower())
    except ValueError:
        raise ConfigError(f"{where}{': ' if where else ''}{key} must be error, warning or info, "
                          f"not {value!r}") from None
