"""Writing fixes back: owner, group, mode and hard links kept, read-only files and files changed
since they were read left alone, encodings that do not round-trip refused; through the CLI's
--fix on real files (run as root here: the root cases are the dangerous ones)."""
from __future__ import annotations

import os
import subprocess
import sys
import stat
from pathlib import Path

import pytest

from droplint.safe_write import WriteRefused, codec_round_trips, replace_file

FIXABLE = (Path(__file__).parents[1] / "examples" / "question_forecaster.py").read_text(
    encoding="utf-8")


def test_atomic_replace_keeps_owner_group_and_mode(tmp_path):
    f = tmp_path / "m.py"
    f.write_bytes(b"old\n")
    os.chmod(f, 0o640)
    if os.geteuid() == 0:
        os.chown(f, 1234, 5678)
    before = f.stat()
    replace_file(str(f), b"new\n", b"old\n")
    after = f.stat()
    assert f.read_bytes() == b"new\n"
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == \
        (before.st_uid, before.st_gid, 0o640)
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]  # no temporary file left


def test_read_only_file_is_refused_even_as_root(tmp_path):
    f = tmp_path / "m.py"
    f.write_bytes(b"old\n")
    os.chmod(f, 0o444)
    with pytest.raises(WriteRefused, match="read-only"):
        replace_file(str(f), b"new\n", b"old\n")
    assert f.read_bytes() == b"old\n"


def test_hard_links_are_kept(tmp_path):
    f = tmp_path / "m.py"
    f.write_bytes(b"old\n")
    os.link(f, tmp_path / "link.py")
    replace_file(str(f), b"new\n", b"old\n")
    assert (tmp_path / "link.py").read_bytes() == b"new\n"
    assert f.stat().st_ino == (tmp_path / "link.py").stat().st_ino and f.stat().st_nlink == 2


def test_a_file_changed_since_it_was_read_is_skipped(tmp_path):
    f = tmp_path / "m.py"
    f.write_bytes(b"old\nappended by another writer\n")
    with pytest.raises(WriteRefused, match="changed on disk"):
        replace_file(str(f), b"new\n", b"old\n")
    assert f.read_bytes() == b"old\nappended by another writer\n"


@pytest.mark.parametrize("codec, ok", [("utf-8", True), ("utf-8-sig", True), ("latin-1", True), ("cp1252", True),
                                       ("unicode_escape", False),
                                       ("utf-16", False), ("rot13", False), ("hex", False)])
def test_codecs_that_do_not_round_trip(codec, ok):
    assert codec_round_trips(codec) is ok


def test_cli_fix_keeps_owner_links_and_skips_read_only_and_unicode_escape(cli, tmp_path):
    owned, linked, frozen, escaped = (tmp_path / n for n in ("owned.py", "linked.py",
                                                            "frozen.py", "escaped.py"))
    for f in (owned, linked, frozen):
        f.write_text(FIXABLE, encoding="utf-8")
    escaped.write_bytes(b"# -*- coding: unicode_escape -*-\n" + FIXABLE.encode())
    os.chmod(owned, 0o604)
    if os.geteuid() == 0:
        os.chown(owned, 4321, 8765)
    os.link(linked, tmp_path / "other_name.py")
    os.chmod(frozen, 0o444)
    proc = cli("check", "--fix", "--unsafe-fixes", "owned.py", "linked.py", "frozen.py",
               "escaped.py", cwd=tmp_path)
    assert "SpatialDropout1D" in owned.read_text() and "SpatialDropout1D" in linked.read_text()
    st = owned.stat()
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (4321, 8765)
    assert stat.S_IMODE(st.st_mode) == 0o604
    assert (tmp_path / "other_name.py").read_text() == linked.read_text()
    assert frozen.read_text() == FIXABLE and "frozen.py: not fixed: read-only" in proc.stderr
    assert escaped.read_bytes() == b"# -*- coding: unicode_escape -*-\n" + FIXABLE.encode()
    assert "Traceback" not in proc.stderr


def test_unicode_escape_file_is_not_rewritten(tmp_path):
    f = tmp_path / "m.py"
    data = b"# -*- coding: unicode_escape -*-\nx = 1\ny = 2\n"
    f.write_bytes(data)
    with pytest.raises(WriteRefused, match="unicode_escape"):
        replace_file(str(f), "x = 1\ny = 3\n".encode("unicode_escape"), data)
    assert f.read_bytes() == data


def test_unicode_escape_findings_are_not_advertised_as_fixable_and_say_why(cli, tmp_path):
    import json

    data = b"# -*- coding: unicode_escape -*-\n" + FIXABLE.encode()
    (tmp_path / "esc.py").write_bytes(data)
    report = cli("check", "--format", "json", "--keras-version", "3.15", "esc.py", cwd=tmp_path)
    findings = json.loads(report.stdout)["findings"]
    assert findings and all("fix" not in f or f["fix"] is None for f in findings)
    assert {f["fix_refused"] for f in findings} == \
        {"the file's encoding unicode_escape does not round-trip"}
    text = cli("check", "--keras-version", "3.15", "esc.py", cwd=tmp_path)
    assert "fixable" not in text.stdout
    assert "No automatic fix: the file's encoding unicode_escape does not round-trip" \
        in " ".join(text.stdout.split())
    fixed = cli("check", "--fix", "--unsafe-fixes", "--keras-version", "3.15", "esc.py",
                cwd=tmp_path)
    assert (tmp_path / "esc.py").read_bytes() == data
    assert "Fixed" not in fixed.stdout + fixed.stderr and fixed.returncode == text.returncode == 1
    stdin = subprocess.run([sys.executable, "-m", "droplint", "check", "-", "--fix",
                            "--stdin-filename", "esc.py", "--keras-version", "3.15"],
                           input=data, capture_output=True, cwd=tmp_path, check=False)
    assert stdin.stdout == data  # the file comes back unchanged, not re-encoded
