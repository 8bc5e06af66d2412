"""What `pip install .` ships: every package folder under droplint/ is listed in pyproject.toml
(a forgotten one installs a droplint that fails on import, which only a non-editable install,
such as pre-commit's, shows)."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_shipped():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "droplint").rglob("__init__.py")}
    found.add("droplint.rules")  # shipped from the top-level rules/ folder (package-dir)
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    assert listed - found == set(), "listed but missing"
