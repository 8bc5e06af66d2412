"""Which rules run for a file: --select / --extend-select / --ignore / per-file-ignores.
Codes, code prefixes (`DL1`, `DL30`), kebab-case names and `ALL` are accepted."""
from __future__ import annotations

import fnmatch
from pathlib import Path, PurePosixPath

from .config import ConfigError, Settings
from .rule import Rule


def _matches(rule: type[Rule], selector: str) -> bool:
    s = selector.strip()
    return (s.upper() == "ALL" or rule.code.startswith(s.upper()) and s.upper().startswith("DL")
            or rule.name == s.lower())


def validate(selectors, where: str) -> None:
    selectors = [s for s in selectors if s.strip().upper() != "ALL"]
    if not selectors:  # nothing to look up: the rules are not imported
        return
    from droplint.rules import ALL_RULES

    for s in selectors:
        if not any(_matches(r, s) for r in ALL_RULES):
            raise ConfigError(f"{where}: unknown rule code or name {s!r} (see `droplint rules`)")


def selected_rules(settings: Settings, path: str | None = None) -> list[Rule]:
    from droplint.rules import ALL_RULES

    ignore = list(settings.ignore) + list(per_file_ignores(settings, path))
    chosen = []
    for rule in ALL_RULES:
        on = any(_matches(rule, s) for s in settings.select + settings.extend_select)
        if rule.loader_only or (on and not any(_matches(rule, s) for s in ignore)):
            chosen.append(rule())
    return chosen


def per_file_ignores(settings: Settings, path: str | None) -> list[str]:
    if not path or not settings.per_file_ignores:
        return []
    p = Path(path)
    try:
        rel = p.resolve().relative_to(settings.root.resolve()) if settings.root else p
    except ValueError:
        rel = p
    rel_s = PurePosixPath(rel).as_posix()
    out: list[str] = []
    for glob, codes in settings.per_file_ignores.items():
        if fnmatch.fnmatch(rel_s, glob) or fnmatch.fnmatch(p.name, glob):
            out.extend(codes)
    return out
