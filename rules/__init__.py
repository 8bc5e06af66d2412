"""All rules, one module each; this table maps codes and names to rules.

Shipped in the wheel as `droplint.rules` (see pyproject.toml). Add a rule: write its module,
import it here. Codes are never renumbered or reused.
"""
from __future__ import annotations

import importlib
import pkgutil

from droplint.rule import Rule


def _load() -> list[type[Rule]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("dl"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule \
                    and obj.__module__ == module.__name__:
                found.append(obj)
    return sorted(found, key=lambda r: r.code)


ALL_RULES: list[type[Rule]] = _load()
BY_CODE: dict[str, type[Rule]] = {r.code: r for r in ALL_RULES}
BY_NAME: dict[str, type[Rule]] = {r.name: r for r in ALL_RULES}


def lookup(code_or_name: str) -> type[Rule] | None:
    key = code_or_name.strip()
    return BY_CODE.get(key.upper()) or BY_NAME.get(key.lower())
