"""Speed at scale (issue 12): droplint against ruff --select ALL and flake8, same run.

    python benchmarks/bench_speed.py [--repeat 5] [--tree PATH] [--flake8-tree-repeat 1]

Cases, each tool a fresh process, the tools alternating inside every round, median of
--repeat rounds (one untimed warm-up round first, which also writes the bytecode caches a
normal install has):

- cold tree: the installed keras/src (or --tree). droplint with an empty cache folder (its
  writes are part of the cold cost; `--no-cache` when the droplint under test has no cache),
  ruff with --no-cache, flake8 -j2.
- warm tree: the same tree again, nothing changed: droplint and ruff on the cache folder the
  previous run filled.
- one file: examples/question_forecaster.py (droplint, flake8, ruff).
- peak memory: the largest single process (wait4's ru_maxrss, which covers the workers a
  process waited for) and the sums over the whole process tree (RSS, and PSS, which counts
  pages the workers share with the parent once) sampled from /proc every 20 ms in separate
  untimed runs.

Columns: wall time (median), CPU time (user+system of the process and its children, median),
peak RSS of the largest process (max over rounds), and the ratios the targets are about:
  keras/src cold <= 0.6x ruff's time; warm <= 0.1x droplint's own cold; one file <= 2x
  flake8's; peak memory < 150 MB.
On a shared machine wall times include waiting for a CPU: compare CPU ratios too.
Also counts the files of the tree that pass droplint's text pre-filter (in process).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_source import keras_src  # the script's own folder is first on sys.path

ROOT = Path(__file__).resolve().parents[1]
ONE_FILE = ROOT / "examples" / "question_forecaster.py"
PY = sys.executable


SNAPSHOT: Path | None = None  # a private copy of droplint/ and rules/ (see snapshot())


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["NO_COLOR"] = "1"
    return env


def snapshot(work: Path) -> Path:
    """Copy droplint/ and rules/ as they are now: the runs measure that copy, so that edits
    made to the working tree while the benchmark runs (droplint's cache key covers its own
    source) neither mix versions nor turn warm runs cold."""
    dest = work / "snapshot"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("droplint", "rules"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    # An editable install maps `droplint` to the working tree by a finder ahead of sys.path:
    # the launcher drops that finder, so that the copy (first on sys.path) is what runs.
    (dest / LAUNCHER).write_text(
        "import sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in "
        "(getattr(f, '__module__', '') or type(f).__module__)]\n"
        "from droplint.cli import main\n"
        "main()\n")
    return dest


LAUNCHER = "run_droplint.py"


def droplint_argv() -> list[str]:
    return [PY, str(SNAPSHOT / LAUNCHER)] if SNAPSHOT is not None else [PY, "-m", "droplint"]


@dataclass
class Sample:
    wall: float
    cpu: float
    maxrss_mb: float
    rc: int


def run_once(cmd: list[str], timeout: float = 900) -> Sample:
    """Wall time, CPU time and peak RSS of one fresh process (and the children it waited
    for), from wait4 on that process alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=SNAPSHOT or ROOT, env=_env())
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.002)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                  proc.returncode)


def _tree(root_pid: int) -> list[int]:
    """`root_pid` and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _rss_pss_kb(pid: int) -> tuple[int, int]:
    """Resident and proportional set size of one process (PSS counts a page shared by N
    processes as 1/N in each: the sum over a process tree is the memory it really uses)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            text = f.read()
        return (int(text.split("\nRss:")[1].split()[0]), int(text.split("\nPss:")[1].split()[0]))
    except (OSError, IndexError, ValueError):
        return 0, 0


def tree_peak_mb(cmd: list[str], timeout: float = 900) -> tuple[float, float]:
    """Peaks of the summed RSS and of the summed PSS of the whole process tree (the command
    and the workers it starts), sampled every 20 ms."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=SNAPSHOT or ROOT, env=_env())
    peak_rss = peak_pss = 0
    end = time.perf_counter() + timeout
    while proc.poll() is None and time.perf_counter() < end:
        sizes = [_rss_pss_kb(pid) for pid in _tree(proc.pid)]
        peak_rss = max(peak_rss, sum(r for r, _ in sizes))
        peak_pss = max(peak_pss, sum(p for _, p in sizes))
        time.sleep(0.02)
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    return peak_rss / 1024, peak_pss / 1024


@dataclass
class Tool:
    name: str
    cmd: list[str]
    before: object = None  # called before every timed run (e.g. empty the cache folder)
    samples: list[Sample] = field(default_factory=list)

    def run(self) -> None:
        if self.before:
            self.before()
        self.samples.append(run_once(self.cmd))

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss(self) -> float:
        return max(s.maxrss_mb for s in self.samples)


def droplint_has_cache() -> bool:
    out = subprocess.run([*droplint_argv(), "check", "--help"], capture_output=True,
                         text=True, cwd=SNAPSHOT or ROOT, env=_env()).stdout
    return "--no-cache" in out


def droplint_cmd(target: Path, cache: Path | None, has_cache: bool) -> list[str]:
    cmd = [*droplint_argv(), "check", "--exit-zero", "--format", "concise", "--no-color"]
    if has_cache:
        cmd += ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    return [*cmd, str(target)]


def ruff_cmd(target: Path, cache: Path | None) -> list[str]:
    cmd = [PY, "-m", "ruff", "check", "--select", "ALL", "--exit-zero", "--quiet",
           "--isolated"]
    cmd += ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    return [*cmd, str(target)]


def flake8_cmd(target: Path, jobs: int | None) -> list[str]:
    return [PY, "-m", "flake8", "--exit-zero", *(["-j", str(jobs)] if jobs else []),
            str(target)]


def rounds(tools: list[Tool], repeat: int, label: str) -> None:
    for t in tools:  # warm-up: bytecode caches, page cache
        if t.before:
            t.before()
        run_once(t.cmd)
    for i in range(repeat):
        order = tools if i % 2 == 0 else list(reversed(tools))
        for t in order:
            t.run()
        print(f"  [{label}] round {i + 1}/{repeat}: "
              + ", ".join(f"{t.name} {t.samples[-1].wall:.2f}s" for t in tools),
              file=sys.stderr, flush=True)


def table(title: str, tools: list[Tool], base: Tool, ratio_to: dict[str, Tool]) -> list[str]:
    rows = [f"\n### {title}", "",
            "| tool | wall (median) | CPU | peak RSS (largest process) | ratios: wall (CPU) |",
            "|---|---:|---:|---:|---|"]
    for t in tools:
        ratios = "; ".join(f"{t.wall / other.wall:.2f}x ({t.cpu / other.cpu:.2f}x) {name}"
                           for name, other in ratio_to.items() if other is not t)
        rows.append(f"| {t.name} | {t.wall:.3f} s | {t.cpu:.2f} s | {t.rss:.0f} MB | "
                    f"{ratios} |")
    return rows


def prefilter_counts(tree: Path) -> str:
    """How many of the tree's .py files pass the old and (when present) the new pre-filter."""
    files = sorted(tree.rglob("*.py"))
    datas = [f.read_bytes() for f in files]
    import re

    old = re.compile(rb"ropout|LSTM|GRU|SimpleRNN|CuDNN|GaussianNoise|ConvLSTM|RNN\(")
    line = (f"pre-filter on {tree.name}: {len(files)} files; the name regex alone keeps "
            f"{sum(bool(old.search(d)) for d in datas)}")
    try:
        from droplint.prefilter import relevant
    except ImportError:
        return line
    start = time.perf_counter()
    kept = sum(relevant(d, f.name) for d, f in zip(datas, files))
    took = time.perf_counter() - start
    return line + f"; droplint.prefilter keeps {kept} ({took * 1000:.0f} ms for all)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--tree", type=Path, default=None, help="default: the installed keras/src")
    ap.add_argument("--flake8-tree-repeat", type=int, default=1,
                    help="flake8 -j2 on the tree takes ~30 s a run: timed this many rounds "
                         "(0: left out)")
    ap.add_argument("--skip-tree", action="store_true")
    args = ap.parse_args()
    tree = args.tree or keras_src()
    global SNAPSHOT
    work = Path(tempfile.mkdtemp(prefix="bench_speed_"))
    SNAPSHOT = snapshot(work)
    has_cache = droplint_has_cache()
    load = os.getloadavg()[0]
    lines = [f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
             f"{load:.1f} at the start (other work on the machine inflates wall times; CPU "
             f"times are steadier); droplint cache: "
             f"{'yes' if has_cache else 'no (baseline: warm = the same run again)'}"]
    dl_cache, ruff_cache = work / "droplint_cache", work / "ruff_cache"

    def wipe(p: Path):
        return lambda: shutil.rmtree(p, ignore_errors=True)

    try:
        if tree is not None and not args.skip_tree:
            n = len(list(tree.rglob("*.py")))
            lines.append(f"tree: {tree} ({n} .py files)")
            lines.append(prefilter_counts(tree))
            cold = Tool("droplint", droplint_cmd(tree, dl_cache if has_cache else None,
                                                 has_cache), wipe(dl_cache))
            ruff_cold = Tool("ruff --select ALL --no-cache", ruff_cmd(tree, None))
            rounds([cold, ruff_cold], args.repeat, "cold tree")
            tools = [cold, ruff_cold]
            if args.flake8_tree_repeat:
                flake = Tool("flake8 -j2", flake8_cmd(tree, 2))
                for _ in range(args.flake8_tree_repeat):
                    flake.run()
                tools.append(flake)
            lines += table("keras/src, cold", tools, cold,
                           {"ruff": ruff_cold, "droplint": cold})
            # warm: the cache folders are filled once, then timed runs change nothing
            if has_cache:  # the last cold run filled it; fill again in case it failed
                run_once(cold.cmd)
            warm = Tool("droplint (warm)", droplint_cmd(tree, dl_cache if has_cache else None,
                                                        has_cache))
            ruff_warm = Tool("ruff --select ALL (warm cache)", ruff_cmd(tree, ruff_cache))
            run_once(ruff_warm.cmd)
            rounds([warm, ruff_warm], args.repeat, "warm tree")
            lines += table("keras/src, warm (second run, nothing changed)", [warm, ruff_warm],
                           warm, {"droplint cold": cold, "ruff warm": ruff_warm})
            peaks = [tree_peak_mb(droplint_cmd(tree, work / f"peak{i}" if has_cache else None,
                                               has_cache)) for i in range(3)]
            peak, peak_pss = max(r for r, _ in peaks), max(p for _, p in peaks)
            ruff_peak, ruff_pss = tree_peak_mb(ruff_cmd(tree, None))
            lines.append(f"\npeak memory on the tree, cold, whole process tree sampled every "
                         f"20 ms (max of 3 runs): droplint RSS sum {peak:.0f} MB, PSS sum "
                         f"{peak_pss:.0f} MB; ruff RSS {ruff_peak:.0f} MB, PSS {ruff_pss:.0f} "
                         f"MB; largest single droplint process {cold.rss:.0f} MB")
            lines.append(f"TARGET cold <= 0.6x ruff: {cold.wall / ruff_cold.wall:.2f}x "
                         f"{'MET' if cold.wall <= 0.6 * ruff_cold.wall else 'MISSED'}")
            lines.append(f"TARGET warm <= 0.1x droplint cold: {warm.wall / cold.wall:.3f}x "
                         f"{'MET' if warm.wall <= 0.1 * cold.wall else 'MISSED'}")
            lines.append(f"TARGET peak memory < 150 MB: RSS sum {peak:.0f} MB "
                         f"{'MET' if peak < 150 else 'MISSED'}; PSS sum {peak_pss:.0f} MB "
                         f"{'MET' if peak_pss < 150 else 'MISSED'}")
        one_cache = work / "one_cache"
        one = Tool("droplint", droplint_cmd(ONE_FILE, one_cache if has_cache else None,
                                            has_cache), wipe(one_cache))
        one_warm = Tool("droplint (warm)", droplint_cmd(ONE_FILE, one_cache if has_cache
                                                        else None, has_cache))
        flake1 = Tool("flake8", flake8_cmd(ONE_FILE, None))
        ruff1 = Tool("ruff --select ALL --no-cache", ruff_cmd(ONE_FILE, None))
        # The floor of a file that needs parsing: Python starting and importing libcst.
        floor = Tool("python -c 'import libcst' (floor)", [PY, "-c", "import libcst"])
        tools1 = [one, one_warm, flake1, ruff1, floor]
        rounds(tools1, args.repeat, "one file")
        lines += table(f"one file ({ONE_FILE.relative_to(ROOT)})", tools1,
                       one, {"flake8": flake1, "ruff": ruff1})
        lines.append(f"TARGET one file <= 2x flake8: {one.wall / flake1.wall:.2f}x cold, "
                     f"{one_warm.wall / flake1.wall:.2f}x warm "
                     f"{'MET' if one.wall <= 2 * flake1.wall else 'MISSED'} (the floor, "
                     f"Python + import libcst alone: {floor.wall / flake1.wall:.2f}x wall, "
                     f"{floor.cpu / flake1.cpu:.2f}x CPU)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
