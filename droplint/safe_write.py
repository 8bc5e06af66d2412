"""Writing a fixed file back without losing data (`--fix`, `--add-noqa`).

`replace_file(path, data, expected)` is the one way droplint rewrites a user's file:

- only a regular file is written, through a symlink to its target;
- a file its owner could not write (no owner write bit: 0444) is refused, even as root, and so
  is a file this process may not write;
- lost update: when `expected` (the bytes that were read and fixed) is given, the file must
  still hold exactly those bytes, else it is skipped; the inode, size and modification time
  are checked once more right before the new content goes in;
- a file whose encoding does not round-trip (a PEP 263 `coding:` that is not an ASCII-compatible
  text encoding, e.g. unicode_escape, rot13, hex, utf-16) is refused: its lines would not
  survive re-encoding;
- owner, group, mode and hard links are kept: a file with several links (st_nlink > 1), or
  owned by someone else when not root, is written in place (same inode: the links and owner
  stay; not atomic); any other file is written to a temporary file in the same folder, given
  the file's owner, group and mode, flushed to disk and renamed over the file (atomic).

A refusal raises WriteRefused (an OSError) with a one-line reason; nothing was written.
"""
from __future__ import annotations

import codecs
import io
import os
import stat
import tempfile
import tokenize

# Characters Python source needs unchanged: an encoding must write each as its ASCII byte.
_SOURCE_PROBE = "\n\r\t #=()[]{}:,.'\"\\abcxyzABCXYZ0189_"


class WriteRefused(OSError):
    """The file was not written: the message says why."""


def codec_round_trips(encoding: str) -> bool:
    """Whether re-encoding a Python source with `encoding` keeps its lines and ASCII bytes."""
    try:
        info = codecs.lookup(encoding)
        encoded = _SOURCE_PROBE.encode(encoding)
    except (LookupError, UnicodeError, TypeError, ValueError):
        return False
    if info.name == "utf-8-sig":
        encoded = encoded.removeprefix(codecs.BOM_UTF8)
    return bool(getattr(info, "_is_text_encoding", True)) and \
        encoded == _SOURCE_PROBE.encode("ascii")


def source_encoding(data: bytes) -> str | None:
    """The PEP 263 encoding of Python source bytes, or None when it cannot be told."""
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except (SyntaxError, LookupError):
        return None


def _identity(st: os.stat_result) -> tuple:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _check_writable(target: str, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise WriteRefused("not a regular file")
    if not st.st_mode & stat.S_IWUSR:
        raise WriteRefused(f"read-only (mode {stat.S_IMODE(st.st_mode):04o}): its owner "
                           "could not write it either")
    if not os.access(target, os.W_OK):
        raise WriteRefused("permission denied")


def _read(target: str) -> tuple[bytes, os.stat_result]:
    with open(target, "rb") as f:
        return f.read(), os.fstat(f.fileno())


def _write_in_place(target: str, data: bytes, identity: tuple) -> None:
    with open(target, "r+b") as f:
        if _identity(os.fstat(f.fileno())) != identity:
            raise WriteRefused("changed on disk while droplint worked: not written")
        f.write(data)
        f.truncate()
        f.flush()
        os.fsync(f.fileno())


def _write_atomic(target: str, data: bytes, st: os.stat_result) -> None:
    folder = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(target) + ".",
                               suffix=".droplint")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if (st.st_uid, st.st_gid) != (os.fstat(fh.fileno()).st_uid,
                                          os.fstat(fh.fileno()).st_gid):
                os.fchown(fh.fileno(), st.st_uid, st.st_gid)
            os.fchmod(fh.fileno(), stat.S_IMODE(st.st_mode))
            os.fsync(fh.fileno())
        if _identity(os.stat(target)) != _identity(st):
            raise WriteRefused("changed on disk while droplint worked: not written")
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def replace_file(path: str, data: bytes, expected: bytes | None = None) -> None:
    """Replace a file's content with `data` (see the module doc). Raises WriteRefused."""
    target = os.path.realpath(path)
    try:
        current, st = _read(target)
    except OSError as exc:
        raise WriteRefused(f"cannot read it back: {exc.strerror or exc}") from None
    _check_writable(target, st)
    if expected is not None and current != expected:
        raise WriteRefused("changed on disk since droplint read it: not written; run again")
    if not target.endswith(".ipynb"):
        encoding = source_encoding(current)
        if encoding is not None and not codec_round_trips(encoding):
            raise WriteRefused(f"its encoding '{encoding}' does not keep lines when "
                               "re-encoded: not rewritten")
    links = st.st_nlink > 1
    foreign = os.geteuid() != 0 and os.geteuid() != st.st_uid
    if links or foreign:
        _write_in_place(target, data, _identity(st))
    else:
        _write_atomic(target, data, st)
