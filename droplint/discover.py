"""Which files a run checks: walk directories, honour .gitignore, `exclude`, `extend-exclude`."""
from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
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
    try:
        if f.is_file():
            lines = f.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:  # unreadable: walked as if it were not there
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
        try:
            mode = p.stat().st_mode
        except OSError as exc:
            yield raw, f"{raw}: {_missing(p, exc)}"
            continue
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            yield raw, f"{raw}: not analyzed: {special_kind(mode)}, not a regular file"
            continue
        if stat.S_ISREG(mode) or (p.is_dir() and ((p / "saved_model.pb").is_file()
                                                  or raw.endswith(MODEL_SUFFIXES))):
            if force_exclude and _excluded(p, settings, every_part=True):
                continue
            if str(p) not in seen:
                seen.add(str(p))
                yield str(p), None
            continue
        specs: list[tuple[Path, object]] = []
        errors: list[OSError] = []
        for dirpath, dirnames, filenames in os.walk(p, onerror=errors.append):
            while errors:
                yield from _walk_error(errors.pop(0))
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
                    yield str(child), _not_regular(child)
        while errors:
            yield from _walk_error(errors.pop(0))


def _missing(p: Path, exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError) and p.is_symlink():
        return "broken symlink or symlink loop"
    if exc.errno == errno.ELOOP:
        return "broken symlink or symlink loop"
    return exc.strerror or str(exc)


def _walk_error(exc: OSError):
    name = exc.filename or "?"
    yield str(name), f"{name}: cannot read folder: {exc.strerror or exc}"


def special_kind(mode: int) -> str:
    """What a file that is not a regular file or folder is, in words."""
    for test, word in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return word
    return "a special file"


def _not_regular(child: Path) -> str | None:
    """None for a regular file found in a walked folder (followed through symlinks); else the
    one-line error for it (a FIFO named x.py would block a read forever, /dev/zero never
    ends). A broken symlink is skipped silently, as before."""
    try:
        mode = child.stat().st_mode
    except OSError:
        return None  # reported when read (or a dangling link: DL900 cannot read)
    if stat.S_ISREG(mode):
        return None
    return f"{child}: not analyzed: {special_kind(mode)}, not a regular file"


class ReadError(Exception):
    """A file that is not read: the one-line DL900 message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


CHUNK = 1 << 20
NOTEBOOK_SIZE_FACTOR = 32


def read_source(path: str, max_mb: float, relevant=None) -> bytes | None:
    """The bytes of a regular file of at most `max_mb` megabytes. Larger: ReadError "not
    analyzed: N MB > limit" when `relevant(chunk)` holds for some chunk of it (read a
    megabyte at a time, never whole), else None (nothing to check in it). Not a regular file
    (a FIFO, a device, through a symlink too) or not readable: ReadError. Never blocks on a
    FIFO: opened non-blocking and checked before reading."""
    from .budgets import size_reason

    if path.endswith(NOTEBOOK_SUFFIXES):
        # A notebook's bytes are mostly outputs (plots as base64), never analyzed: its raw size
        # gets a larger allowance, and its code cells, joined, are held to max-file-size like
        # any source text (budgets.precheck).
        max_mb *= NOTEBOOK_SIZE_FACTOR
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ReadError(f"cannot read file: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ReadError(f"not analyzed: {special_kind(info.st_mode)}, not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            too_big = size_reason(info.st_size, max_mb)
            if too_big is None:
                data = f.read(int(max_mb * (1 << 20)) + 1)
                too_big = size_reason(len(data), max_mb)  # it grew meanwhile
                if too_big is None:
                    return data
                f.seek(0)
            tail = b""
            while chunk := f.read(CHUNK):
                if relevant is None or relevant(tail + chunk):
                    raise ReadError(too_big)
                tail = chunk[-64:]
            return None
    except OSError as exc:
        raise ReadError(f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _gitignored(child: Path, is_dir: bool, specs: list[tuple[Path, object]]) -> bool:
    """Whether a .gitignore of `child`'s folder or of a folder above it ignores `child`."""
    for base, spec in specs:
        if spec.match_file(child.relative_to(base).as_posix() + ("/" if is_dir else "")):
            return True
    return False


def is_model_path(path: str) -> bool:
    p = Path(path)
    return path.endswith(MODEL_SUFFIXES) or (p.is_dir() and (p / "saved_model.pb").is_file())
