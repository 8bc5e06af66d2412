"""Source-path speed: droplint against flake8, ruff and pylint on the same inputs.

    python benchmarks/bench_source.py [--repeat 3] [--no-pylint-tree]

Cases: one file (examples/question_forecaster.py, a typical model script) and the installed
`keras/src` tree (~770 files, ~300k lines). Every tool runs as a fresh subprocess, the way a
user or pre-commit runs it, timed wall-clock (best of --repeat); ratios are against droplint.
Targets on the 2-core reference machine: one file < 0.4 s, the keras/src tree < 6 s.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_FILE = ROOT / "examples" / "question_forecaster.py"


def keras_src() -> Path | None:
    """The installed keras/src folder, found without importing keras (which takes seconds)."""
    from importlib.util import find_spec

    spec = find_spec("keras")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "src"
    return path if path.is_dir() else None


def count_lines(path: Path) -> tuple[int, int]:
    files = [path] if path.is_file() else list(path.rglob("*.py"))
    return len(files), sum(f.read_bytes().count(b"\n") for f in files)


def timed(cmd: list[str], repeat: int, timeout: float) -> float | None:
    """Best wall time of `repeat` runs after one warm-up run (which also writes the
    bytecode caches a normal install has: PYTHONDONTWRITEBYTECODE is unset for every tool)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    best = None
    for i in range(repeat + 1):
        start = time.perf_counter()
        try:
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=timeout, check=False, cwd=ROOT, env=env)
        except subprocess.TimeoutExpired:
            return None
        elapsed = time.perf_counter() - start
        if i == 0 and repeat > 1:
            continue
        best = elapsed if best is None else min(best, elapsed)
    return best


def tools(target: Path, tree: bool, pylint_tree: bool) -> dict[str, list[str]]:
    py = sys.executable
    # --no-cache: every timed run does the whole work (benchmarks/bench_speed.py measures the
    # cache, warm and cold, against ruff and flake8)
    out = {"droplint": [py, "-m", "droplint", "check", "--exit-zero", "--format", "concise",
                        "--no-color", "--no-cache", str(target)]}
    if shutil.which("ruff") or _has("ruff"):
        out["ruff --select ALL"] = [py, "-m", "ruff", "check", "--select", "ALL", "--no-cache",
                                    "--exit-zero", "--quiet", "--isolated", str(target)]
    if _has("flake8"):
        out["flake8 -j2" if tree else "flake8"] = [py, "-m", "flake8", "--exit-zero",
                                                   *(["-j", "2"] if tree else []), str(target)]
    if _has("pylint") and (not tree or pylint_tree):
        out["pylint"] = [py, "-m", "pylint", "--exit-zero", "-j", "2" if tree else "1",
                         str(target)]
    return out


def _has(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


def run_case(name: str, target: Path, repeat: int, tree: bool, pylint_tree: bool,
             target_s: float) -> None:
    n_files, n_lines = count_lines(target)
    print(f"\n== {name}: {target} ({n_files} files, {n_lines:,} lines); target < {target_s} s")
    results = {}
    for tool, cmd in tools(target, tree, pylint_tree).items():
        results[tool] = timed(cmd, repeat if tool != "pylint" else 1, timeout=600)
    base = results["droplint"]
    for tool, t in results.items():
        if t is None:
            print(f"  {tool:<20} timed out")
            continue
        ratio = f"{t / base:6.2f}x droplint's time" if base else ""
        print(f"  {tool:<20} {t:8.3f} s   {ratio}")
    status = "MET" if base is not None and base < target_s else "MISSED"
    print(f"  droplint target < {target_s} s: {status}")


def loader_throughput(repeat: int) -> None:
    """In-process lines/s of the source loader against libcst's own parse of the same text
    (the floor: the loader parses with libcst, then one pass builds the graph), on the
    installed Keras RNN and regularization layer sources."""
    src = keras_src()
    if src is None:
        return
    import libcst

    from droplint.loaders.source import load

    files = sorted((src / "layers" / "rnn").glob("*.py")) + \
        sorted((src / "layers" / "regularization").glob("*.py"))
    texts = [f.read_text(encoding="utf-8") for f in files]
    lines = sum(t.count("\n") for t in texts)

    def best(fn) -> float:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            for t in texts:
                fn(t)
            times.append(time.perf_counter() - start)
        return min(times)

    parse = best(libcst.parse_module)
    full = best(lambda t: load(t, "x.py"))
    print(f"\n== source loader, in process: {len(files)} files, {lines:,} lines")
    print(f"  libcst.parse_module    {lines / parse:10,.0f} lines/s")
    print(f"  droplint load          {lines / full:10,.0f} lines/s   "
          f"{full / parse:.2f}x libcst's parse time")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pylint-tree", action="store_true",
                    help="also run pylint on the keras/src tree (takes minutes)")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    run_case("one file", ONE_FILE, args.repeat, False, True, 0.4)
    src = keras_src()
    if src is None:
        print("keras is not installed: skipping the keras/src tree case")
    else:
        run_case("keras/src tree", src, args.repeat, True, args.pylint_tree, 6.0)
    loader_throughput(max(args.repeat, 3))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
