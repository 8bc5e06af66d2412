"""Put the real-world corpus in a folder and check it against manifest.toml (sha256).

The corpus is other people's code: it is never committed. This script fetches nothing from the
network. It takes the files either from a folder of git mirrors (one per repository, laid out as
`<mirrors>/<owner>+<name>/repo` with a bare repository or a `.git` inside, as the search tool's
`fetch` leaves them) or from files already in place, and checks every file's sha256.

    python benchmarks/realworld/get.py --mirrors /work/.mirror --out /work/realworld/files
    python benchmarks/realworld/get.py --out /work/realworld/files          # verify only
    python benchmarks/realworld/get.py --record selection.txt --mirrors ... # (re)write the manifest

Exit status: 0 every manifest file present with the recorded sha256, 1 otherwise.
"""
from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.toml"


def local_name(repo: str, commit: str, path: str) -> str:
    """A flat, portable file name for `path` in `repo` at `commit` (keeps the extension)."""
    raw = repo.replace("/", "__") + "__" + commit[:7] + "__" + path.replace("/", "__")
    return re.sub(r"[^A-Za-z0-9._+-]", "_", raw)


def git_dir(mirrors: Path, repo: str) -> Path | None:
    base = mirrors / repo.replace("/", "+") / "repo"
    for candidate in (base / ".git", base):
        if (candidate / "HEAD").exists() or (candidate / "objects").is_dir():
            return candidate
    return None


def git(gdir: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(gdir), *args], check=True,
                          capture_output=True).stdout


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_manifest(path: Path = MANIFEST) -> list[dict]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)["file"]


def toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_manifest(entries: list[dict], path: Path = MANIFEST) -> None:
    keys = ("repo", "path", "commit", "style", "name", "sha256")
    lines = ["# Real-world corpus: public files with recurrent layers and dropout.",
             "# Not committed here; get.py materializes them from git mirrors and checks sha256.",
             ""]
    for entry in entries:
        lines.append("[[file]]")
        lines += [f"{key} = {toml_str(entry[key])}" for key in keys]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def record(selection: Path, mirrors: Path, out: Path) -> list[dict]:
    """Resolve `repo|rev|path|style` lines against the mirrors, copy the files, return entries."""
    entries = []
    for line in selection.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        repo, rev, path, style = (part.strip() for part in line.split("|"))
        gdir = git_dir(mirrors, repo)
        if gdir is None:
            print(f"no mirror for {repo}", file=sys.stderr)
            continue
        commit = git(gdir, "rev-parse", f"{rev}^{{commit}}").decode().strip()
        data = git(gdir, "show", f"{commit}:{path}")
        name = local_name(repo, commit, path)
        (out / name).write_bytes(data)
        entries.append(dict(repo=repo, path=path, commit=commit, style=style, name=name,
                            sha256=sha256(data)))
    return entries


def materialize(entries: list[dict], mirrors: Path | None, out: Path) -> int:
    """Copy missing files from the mirrors (if given), then verify all; returns problems."""
    problems = 0
    for entry in entries:
        target = out / entry["name"]
        if not target.exists() and mirrors is not None:
            gdir = git_dir(mirrors, entry["repo"])
            if gdir is not None:
                try:
                    target.write_bytes(git(gdir, "show", f"{entry['commit']}:{entry['path']}"))
                except subprocess.CalledProcessError:
                    pass
        if not target.exists():
            print(f"missing  {entry['name']}  ({entry['repo']} {entry['commit'][:10]} "
                  f"{entry['path']})")
            problems += 1
        elif sha256(target.read_bytes()) != entry["sha256"]:
            print(f"sha256   {entry['name']} differs from the manifest")
            problems += 1
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, help="folder of git mirrors (owner+name/repo)")
    parser.add_argument("--out", type=Path, default=Path("/work/realworld/files"))
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--record", type=Path, help="selection file: repo|rev|path|style lines")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.record:
        if args.mirrors is None:
            parser.error("--record needs --mirrors")
        write_manifest(record(args.record, args.mirrors, args.out), args.manifest)
    entries = load_manifest(args.manifest)
    problems = materialize(entries, args.mirrors, args.out)
    repos = len({entry["repo"] for entry in entries})
    print(f"{len(entries) - problems}/{len(entries)} files verified from {repos} repositories "
          f"in {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
