"""Which files a run checks: walk directories, honour .gitignore, `exclude`, `extend-exclude`."""
from __future__ import annotations

import fnmatch
import os
import re
from functools import lru_cache
from pathlib import Path

from .config import Settings
from .loaders import MODEL_SUFFIXES, NOTEBOOK_SUFFIXES, SOURCE_SUFFIXES

WALKED_SUFFIXES = SOURCE_SUFFIXES + NOTEBOOK_SUFFIXES  # model files only when named explicitly


def _relative(path: Path, settings: Settings) -> str:
    if settings.root is not None:
        try:
            return path.resolve().relative_to(settings.root.resolve()).as_posix()
        except (ValueError, OSError, RuntimeError):  # outside the root, or a symlink loop
            pass
    return path.as_posix()


def _excluded(path: Path, settings: Settings, every_part: bool = False) -> bool:
    """A pattern without a slash matches a file or folder name (a walked folder's own name,
    or with `every_part` any folder on an explicit path); one with a slash matches the path
    relative to the config's folder."""
    patterns = settings.exclude + settings.extend_exclude
    names = Path(_relative(path, settings)).parts if every_part else (path.name,)
    match_name = _name_matcher(patterns)
    if match_name is not None and any(match_name(os.path.normcase(n)) for n in names):
        return True
    rel = None
    for pat in patterns:
        if "/" not in pat.rstrip("/"):
            continue
        rel = rel if rel is not None else _relative(path, settings)
        if fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel, pat.rstrip("/") + "/*"):
            return True
    return False


@lru_cache(maxsize=32)
def _name_matcher(patterns: tuple[str, ...]):
    """One compiled test for all the patterns without a slash (as fnmatch.fnmatch each)."""
    names = [os.path.normcase(p.rstrip("/")) for p in patterns if "/" not in p.rstrip("/")]
    if not names:
        return None
    return re.compile("|".join(fnmatch.translate(n) for n in names)).match


def _gitignore_spec(folder: Path):
    lines: list[str] = []
    f = folder / ".gitignore"
    if f.is_file():
        try:
            lines = f.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return None
    if not lines:
        return None
    import pathspec  # only when there is a .gitignore (pathspec takes ~50 ms to import)

    return pathspec.PathSpec.from_lines("gitwildmatch", lines)


def iter_files(paths: list[str], settings: Settings, force_exclude: bool = False):
    """Yield (path, None) for each file to check, or (path, error) for a missing path."""
    seen: set[str] = set()
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            why = "broken symlink or symlink loop" if p.is_symlink() else "No such file or directory"
            yield raw, f"{raw}: {why}"
            continue
        if p.is_file() or (p.is_dir() and ((p / "saved_model.pb").is_file()
                                           or raw.endswith(MODEL_SUFFIXES))):
            if force_exclude and _excluded(p, settings, every_part=True):
                continue
            if str(p) not in seen:
                seen.add(str(p))
                yield str(p), None
            continue
        specs: list[tuple[Path, object]] = []
        for dirpath, dirnames, filenames in os.walk(p):
            d = Path(dirpath)
            if settings.respect_gitignore:
                spec = _gitignore_spec(d)
                if spec is not None:
                    specs.append((d, spec))
            active = [(base, s) for base, s in specs if d == base or base in d.parents]
            dirnames[:] = sorted(n for n in dirnames if not _excluded(d / n, settings)
                                 and not _gitignored(d / n, True, active))
            for name in sorted(filenames):
                child = d / name
                if name.endswith(WALKED_SUFFIXES) and not _excluded(child, settings) \
                        and not _gitignored(child, False, active) and str(child) not in seen:
                    seen.add(str(child))
                    yield str(child), None


def _gitignored(child: Path, is_dir: bool, specs: list[tuple[Path, object]]) -> bool:
    """Whether a .gitignore of `child`'s folder or of a folder above it ignores `child`."""
    for base, spec in specs:
        if spec.match_file(child.relative_to(base).as_posix() + ("/" if is_dir else "")):
            return True
    return False


def is_model_path(path: str) -> bool:
    p = Path(path)
    return path.endswith(MODEL_SUFFIXES) or (p.is_dir() and (p / "saved_model.pb").is_file())
