"""A content cache of per-file results (as ruff's), so that a second run over files that did not
change parses nothing.

Layout: `<cache dir>/v1/<index>.json`, one index per (droplint code, settings) pair: the index
name hashes droplint's version, the bytes of droplint's own source files (a developer's edit
starts a new index), the Python version, and every setting that changes a file's result (rule
selection, per-file-ignores, the project root they are relative to, and the Keras version
assumed for each import root). Inside an index, one entry per path: the blake2b digest of the
file's bytes, the day it was last used, and the result (findings, dropout sites, notes) as
plain JSON. JSON, not pickle: a cache folder that came with a cloned repository is data, and
reading it must never run code.

Safety: every write goes to a temporary file renamed over the index (atomic); a run that
finds the index changed on disk since it read it merges its new entries into the newer one.
A corrupt, truncated or foreign index or entry is a miss, never an error; a folder that cannot
be created or written means running without a cache. Pruning: entries not used for
`MAX_AGE_DAYS` days and, past `MAX_ENTRIES`, the least recently used are dropped when an index
is written; index files not written for `MAX_AGE_DAYS` days, and all but the newest
`MAX_INDEXES`, are deleted.

The cache folder is `.droplint_cache` in the project root (the folder of the pyproject.toml
with [tool.droplint], else the current folder), with a `.gitignore` of `*` and a CACHEDIR.TAG.

Only Python files and notebooks read from disk are cached; model files, stdin, --fix and
--add-noqa do not go through it. This module imports nothing heavy (no libcst): a warm run
stays fast.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

from .config import Settings
from .report import Edit, Finding, Fix, Severity, Site

FORMAT = "v1"
DIRNAME = ".droplint_cache"
MAX_AGE_DAYS = 30
MAX_ENTRIES = 200_000
MAX_INDEXES = 32
_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
        "# This file is a cache directory tag created by droplint.\n"
        "# For information about cache directory tags see https://bford.info/cachedir/\n")
_FINDING = tuple(f.name for f in fields(Finding))
_SITE = tuple(f.name for f in fields(Site))


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def default_dir(settings: Settings, cwd: Path | None = None) -> Path:
    """`.droplint_cache` in the project root: the config's folder, else the current one."""
    return (settings.root or cwd or Path.cwd()) / DIRNAME


# --- what the key covers ----------------------------------------------------------------------

def _source_files() -> list[Path]:
    """droplint's own modules and its rules (wherever they are installed)."""
    here = Path(__file__).resolve().parent
    folders = [here]
    rules = here / "rules"
    if not rules.is_dir():  # a source checkout: rules/ next to the package
        rules = here.parent / "rules"
    if rules.is_dir():
        folders.append(rules)
    out = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and d != "rules")
            out += [Path(dirpath, n) for n in sorted(filenames) if n.endswith(".py")]
    return out


def code_fingerprint() -> str:
    """droplint's version, Python's, and the bytes of droplint's own source files."""
    from .version import __version__

    h = hashlib.blake2b(digest_size=16)
    h.update(f"{FORMAT} {__version__} {sys.version_info[:2]}".encode())
    for path in _source_files():
        try:
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        except OSError:
            h.update(path.name.encode() + b"\0?\0")
    return h.hexdigest()


def settings_key(settings: Settings) -> str:
    """Every setting that changes one file's result, as text."""
    from .keras_version import resolve

    keras = {api: str(resolve(settings.keras_version, api))
             for api in ("keras", "tf.keras", "tf_keras")}
    return json.dumps({
        "select": settings.select, "extend_select": settings.extend_select,
        "ignore": settings.ignore,
        "per_file_ignores": sorted((k, list(v)) for k, v in settings.per_file_ignores.items()),
        "root": str(settings.root) if settings.root is not None else None,
        "keras": keras, "cwd": os.getcwd(),
        # budgets that turn a file into DL900 (file-timeout is not here: a timed-out or
        # crashed analysis is never cached, FileResult.transient)
        "budgets": [getattr(settings, name, None)
                    for name in ("max_file_size", "max_depth", "max_nodes")],
    }, sort_keys=True)


# --- results <-> JSON ---------------------------------------------------------------------------

def _encode_fix(fix: Fix | None):
    if fix is None:
        return None
    return [fix.applicability, fix.description,
            [[e.line, e.column, e.end_line, e.end_column, e.content, e.cell] for e in fix.edits]]


def _decode_fix(raw) -> Fix | None:
    if raw is None:
        return None
    applicability, description, edits = raw
    return Fix(str(applicability), str(description), tuple(Edit(*e) for e in edits))


def encode(findings: list[Finding], sites: list[Site], notes: list[str]) -> list:
    """A file's result as plain JSON data (copied: later changes to the objects do not leak
    into the cache)."""
    fs = []
    for f in findings:
        row = [getattr(f, name) for name in _FINDING]
        row[_FINDING.index("severity")] = f.severity.value
        row[_FINDING.index("fix")] = _encode_fix(f.fix)
        fs.append(row)
    ss = [[getattr(s, name) for name in _SITE] for s in sites]
    return [fs, json.loads(json.dumps(ss)), list(notes)]


def decode(raw) -> tuple[list[Finding], list[Site], list[str]]:
    """The inverse of `encode`; raises (ValueError, TypeError, KeyError...) on foreign data."""
    fs, ss, notes = raw
    findings = []
    sev, fix = _FINDING.index("severity"), _FINDING.index("fix")
    for row in fs:
        if len(row) != len(_FINDING):
            raise ValueError("finding shape")
        row = list(row)
        row[sev] = Severity(row[sev])
        row[fix] = _decode_fix(row[fix])
        findings.append(Finding(*row))
    sites = []
    for row in ss:
        if len(row) != len(_SITE):
            raise ValueError("site shape")
        sites.append(Site(*row))
    if not all(isinstance(n, str) for n in notes):
        raise ValueError("notes")
    return findings, sites, list(notes)


# --- the cache ----------------------------------------------------------------------------------

def _today() -> int:
    return int(time.time() // 86400)


class Cache:
    """One index: path -> [digest, last day used, result]. `get` then `put` for misses, then
    `save` once at the end of the run."""

    def __init__(self, folder: Path, name: str):
        self.folder = folder
        self.file = folder / FORMAT / f"{name}.json"
        self.entries: dict[str, list] = {}
        self.dirty: set[str] = set()  # paths whose entry this run added or touched
        self.loaded_stat: tuple | None = None
        self.hits = self.misses = 0
        self._load()

    @classmethod
    def open(cls, folder: str | os.PathLike, settings: Settings) -> Cache | None:
        """The cache in `folder` for these settings, or None when the folder cannot be made
        or written (the run then goes without a cache)."""
        folder = Path(folder)
        try:
            _prepare(folder)
        except OSError:
            return None
        name = hashlib.blake2b((code_fingerprint() + settings_key(settings)).encode(),
                               digest_size=16).hexdigest()
        return cls(folder, name)

    def _stat(self) -> tuple | None:
        try:
            st = self.file.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def _read(self) -> dict[str, list]:
        try:
            raw = json.loads(self.file.read_bytes())
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            return {}
        entries = raw.get("files")
        if not isinstance(entries, dict):
            return {}
        return {p: e for p, e in entries.items()
                if isinstance(e, list) and len(e) == 3 and isinstance(e[0], str)
                and isinstance(e[1], int)}

    def _load(self) -> None:
        self.loaded_stat = self._stat()
        self.entries = self._read() if self.loaded_stat else {}

    def get(self, path: str, file_digest: str
            ) -> tuple[list[Finding], list[Site], list[str]] | None:
        """The cached result of `path` when its bytes still hash to `file_digest`."""
        entry = self.entries.get(path)
        if entry is None or entry[0] != file_digest:
            self.misses += 1
            return None
        try:
            result = decode(entry[2])
        except Exception:  # noqa: BLE001 - anything foreign in the entry is a miss
            self.entries.pop(path, None)
            self.misses += 1
            return None
        today = _today()
        if entry[1] != today:
            entry[1] = today
            self.dirty.add(path)
        self.hits += 1
        return result

    def put(self, path: str, file_digest: str, findings: list[Finding], sites: list[Site],
            notes: list[str]) -> None:
        try:
            raw = encode(findings, sites, notes)
        except (TypeError, ValueError):  # something that is not plain data: not cached
            return
        self.entries[path] = [file_digest, _today(), raw]
        self.dirty.add(path)

    def save(self) -> None:
        """Write the index when this run changed it (atomically; merged with what another
        run wrote since it was read), then prune old indexes. Never raises."""
        if not self.dirty:
            return
        try:
            entries = self.entries
            if self._stat() != self.loaded_stat:  # another run wrote it meanwhile
                entries = {**self._read(), **{p: self.entries[p] for p in self.dirty
                                              if p in self.entries}}
            entries = _pruned(entries)
            data = json.dumps({"format": FORMAT, "files": entries}, separators=(",", ":"))
            _atomic_write(self.file, data.encode("utf-8"))
            self.dirty.clear()
            self.loaded_stat = self._stat()
            _prune_indexes(self.file.parent, keep=self.file)
        except (OSError, ValueError, TypeError, RecursionError):
            return


def _prepare(folder: Path) -> None:
    """Make the folder (with its .gitignore and CACHEDIR.TAG) and check it can be written."""
    (folder / FORMAT).mkdir(parents=True, exist_ok=True)
    for name, content in ((".gitignore", "# Created by droplint automatically.\n*\n"),
                          ("CACHEDIR.TAG", _TAG)):
        path = folder / name
        if not path.exists():
            _atomic_write(path, content.encode())
    if not os.access(folder / FORMAT, os.W_OK | os.X_OK):
        raise PermissionError(str(folder))


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _pruned(entries: dict[str, list]) -> dict[str, list]:
    oldest = _today() - MAX_AGE_DAYS
    kept = {p: e for p, e in entries.items() if e[1] >= oldest}
    if len(kept) > MAX_ENTRIES:
        newest = sorted(kept.items(), key=lambda item: item[1][1], reverse=True)[:MAX_ENTRIES]
        kept = dict(newest)
    return kept


def _prune_indexes(folder: Path, keep: Path) -> None:
    """Delete index files unused for MAX_AGE_DAYS days, all but the newest MAX_INDEXES, and
    temporary files a killed run left behind (older than an hour)."""
    now = time.time()
    indexes = []
    for entry in os.scandir(folder):
        try:
            mtime = entry.stat().st_mtime
        except OSError:
            continue
        if entry.name.startswith(".tmp-"):
            if now - mtime > 3600:
                _unlink(entry.path)
        elif entry.name.endswith(".json") and entry.path != str(keep):
            if now - mtime > MAX_AGE_DAYS * 86400:
                _unlink(entry.path)
            else:
                indexes.append((mtime, entry.path))
    for _, path in sorted(indexes, reverse=True)[MAX_INDEXES - 1:]:
        _unlink(path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
