"""The package's layout stays as issue 9 left it: no import cycle among droplint's modules
(imports made inside functions count), no loader or renderer importing the layers that drive
them, and no module over MAX_LINES lines without a reason written at its top."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (("droplint", "droplint"), ("rules", "droplint.rules"))
DRIVERS = ("droplint.api", "droplint.pipeline", "droplint.fixing", "droplint.add_noqa",
           "droplint.cli")
MAX_LINES = 700
# A long module says why in one of its first lines, e.g. "# long module: one traversal ...".
REASON_MARK = "long module:"


def modules() -> dict[str, Path]:
    found = {}
    for folder, package in PACKAGES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def _targets(name: str, path: Path, node, mods: dict) -> list[str]:
    """The package modules an import statement names (a `from x import y` names x.y when y is
    a module, else x)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if node.level:
        base = package[: len(package) - node.level + 1]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    return [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in mods else prefix
            for a in node.names]


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(name, path, node, mods):
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_inside_functions_are_edges():
    edges = import_graph()
    # api.py imports the model walker inside analyze_model only
    assert "droplint.loaders.model" in edges["droplint.api"]


def test_no_import_cycle_among_droplint_modules():
    assert cycles(import_graph()) == []


def test_loaders_and_renderers_do_not_import_the_drivers():
    edges = import_graph()
    upward = sorted(f"{m} -> {t}" for m, targets in edges.items() for t in targets
                    if m.startswith(("droplint.loaders", "droplint.render"))
                    and t.startswith(DRIVERS))
    assert upward == []


def test_report_does_not_import_the_package():
    assert "droplint" not in import_graph()["droplint.report"]


def test_no_module_over_the_limit_without_a_reason_at_its_top():
    long = []
    for name, path in modules().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and not any(REASON_MARK in line for line in lines[:30]):
            long.append(f"{name}: {len(lines)} lines")
    assert long == []
