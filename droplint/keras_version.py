"""Which Keras the explanations assume (RULES.md section 3), read from the installed
distributions' metadata (the answer of importlib.metadata.version, found without importing
importlib.metadata: see `_scan_version`): Keras itself is never imported on the source path."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
import sys
from functools import lru_cache

# The newest release of each major that droplint knows; a bare `2` or `3` means these.
LATEST = {2: (2, 21, 0), 3: (3, 15, 1)}


class KerasVersionError(ValueError):
    pass


@dataclass(frozen=True, order=True)
class KerasVersion:
    major: int
    minor: int = 0
    patch: int = 0
    source: str = field(default="default", compare=False)  # "config" | "installed" | "default"

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def is_keras3(self) -> bool:
        return self.major >= 3

    def between(self, low: tuple[int, int], high: tuple[int, int]) -> bool:
        """True when low <= (major, minor) <= high, inclusive on both ends."""
        return low <= (self.major, self.minor) <= high

    def at_least(self, major: int, minor: int = 0) -> bool:
        return (self.major, self.minor) >= (major, minor)


def newer_than_known(version: KerasVersion) -> str | None:
    """A note when `version` is newer than the newest release droplint knows of its major."""
    latest = LATEST[version.major]
    if (version.major, version.minor, version.patch) <= latest:
        return None
    known_s = ".".join(map(str, latest))
    return (f"Keras {version} is newer than the newest Keras {version.major} droplint knows "
            f"({known_s}): the explanations follow {known_s}")


def parse(text: str, source: str = "config") -> KerasVersion:
    """`2`, `3`, `3.8` or `3.8.1` -> KerasVersion. Raises KerasVersionError on anything else."""
    m = re.fullmatch(r"\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?[\w.+-]*\s*", str(text))
    if not m or int(m.group(1)) not in LATEST:
        raise KerasVersionError(
            f"invalid keras-version {text!r}: expected auto, 2, 3 or a version like 3.8 or 2.15.0")
    major = int(m.group(1))
    if m.group(2) is None:
        return KerasVersion(*LATEST[major], source=source)
    return KerasVersion(major, int(m.group(2)), int(m.group(3) or 0), source=source)


@lru_cache(maxsize=None)
def _installed(dist: str) -> str | None:
    found = _scan_version(dist)
    if found is not _UNSURE:
        return found
    from importlib import metadata  # ~20 ms of imports (email, socket, csv...)

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


_UNSURE = object()
_VERSION_LINE = re.compile(r"(?i)version:[ \t]*(.*?)\s*")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def _scan_version(dist: str):
    """importlib.metadata.version(dist) read the way it reads it, without its imports: the
    first `<name>-*.dist-info` / `.egg-info` folder (name compared PEP 503-normalized) of the
    first sys.path folder that has one, in listing order; its METADATA (else PKG-INFO) `Version`
    header. None: not installed. _UNSURE when that reading might differ from importlib's
    (a zip or .egg on sys.path, a distribution finder other than PathFinder, a header it does
    not parse plainly): the caller asks importlib.metadata."""
    from importlib.machinery import PathFinder

    if any(getattr(f, "find_distributions", None) is not None and f is not PathFinder
           for f in sys.meta_path):
        return _UNSURE
    want = _normalized(dist)
    for entry in sys.path:
        root = entry or "."
        if root.lower().endswith(".egg"):
            return _UNSURE
        try:
            children = os.listdir(root)
        except OSError:
            if os.path.isfile(root):  # a zip archive on sys.path
                return _UNSURE
            continue
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")) \
                    and _normalized(low.rpartition(".")[0].partition("-")[0]) == want:
                return _version_header(os.path.join(root, child))
    return None


def _version_header(info: str):
    """The Version header of a dist-info / egg-info folder's METADATA or PKG-INFO."""
    for name in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(info, name), encoding="utf-8") as f:
                text = f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
            continue
        except (OSError, UnicodeDecodeError):
            return _UNSURE
        if not text:
            continue
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if not line.strip():
                break  # the end of the headers
            m = _VERSION_LINE.fullmatch(line)
            if m:
                folded = i + 1 < len(lines) and lines[i + 1][:1] in (" ", "\t")
                return m.group(1) if m.group(1) and not folded else _UNSURE
        return _UNSURE
    return _UNSURE


def _from_dist(*dists: str) -> KerasVersion | None:
    for dist in dists:
        v = _installed(dist)
        if v:
            try:
                return parse(v, source="installed")
            except KerasVersionError:
                continue
    return None


def resolve(setting: str | None, api: str = "keras") -> KerasVersion:
    """The Keras version for code written against import root `api` ("keras", "tf.keras",
    "tf_keras"), given the `--keras-version` / config setting ("auto" or a version)."""
    if setting and setting != "auto":
        return parse(setting)
    if api == "tf_keras":
        return _from_dist("tf-keras", "tf_keras") or KerasVersion(*LATEST[2], source="default")
    if api == "tf.keras":
        tf = _installed("tensorflow") or _installed("tensorflow-cpu")
        if tf:
            tf_v = tuple(int(p) for p in re.findall(r"\d+", tf)[:2])
            if tf_v < (2, 16):
                return _from_dist("keras") or KerasVersion(*LATEST[2], source="default")
            if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes"):
                legacy = _from_dist("tf-keras", "tf_keras")
                if legacy:
                    return legacy
    return _from_dist("keras") or KerasVersion(*LATEST[3], source="default")
