"""Run droplint on a folder of real-world files and print what it knows, finds and fixes.

Fetches nothing (get.py puts the corpus in place). For each .py/.ipynb file in FOLDER:
droplint.analyze (time, crash), every dropout site (how many with `drops` / `per_sample` /
`over_time` unknown), findings per code, duplicate sites and findings, CuDNNLSTM/CuDNNGRU
constructions found by a plain regex against DL303 findings, message lengths per code, the
line count of the text output, and fix safety: a copy of each file is fixed with
`droplint check --fix --unsafe-fixes`, then must still parse, have no new pyflakes
undefined/duplicate/unused name and no new error-severity droplint finding.

    python benchmarks/realworld/measure.py /work/realworld/files [--no-fix] [--json out.json]
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import droplint

CUDNN = re.compile(r"\bCuDNN(?:LSTM|GRU)\s*\(")
# pyflakes message classes that a fix must not add (names undefined, redefined or unused).
PYFLAKES_WATCHED = ("UndefinedName", "UndefinedExport", "UndefinedLocal", "RedefinedWhileUnused",
                    "UnusedImport", "ImportShadowedByLoopVar", "ImportStarUsed")
MAGIC = re.compile(r"^\s*[%!?]")


def corpus(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".py", ".ipynb") and p.is_file())


def code_text(path: Path) -> str | None:
    """The Python text of a file; for a notebook its code cells joined (IPython lines blanked).
    None when a notebook is not valid JSON."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix != ".ipynb":
        return raw
    try:
        cells = json.loads(raw).get("cells", [])
    except (ValueError, AttributeError):
        return None
    parts = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        if src.lstrip().startswith("%%"):
            continue
        lines = ["pass" if MAGIC.match(line) else line for line in src.splitlines()]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def code_lines(text: str) -> list[str]:
    """Lines that are not comments (a plain regex count, as a reader would grep)."""
    return [line for line in text.splitlines() if not line.lstrip().startswith("#")]


def parses(text: str | None) -> bool:
    if text is None:
        return False
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def pyflakes_names(text: str | None) -> Counter:
    """pyflakes messages of the watched kinds, as (kind, args) ignoring line numbers."""
    from pyflakes import checker

    if text is None:
        return Counter()
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return Counter()
    found = checker.Checker(tree, filename="x.py").messages
    return Counter((type(m).__name__, tuple(str(a) for a in m.message_args)) for m in found
                   if type(m).__name__ in PYFLAKES_WATCHED)


def analyze_file(path: Path) -> dict:
    started = time.perf_counter()
    try:
        report = droplint.analyze(str(path))
        crash = None
    except Exception:  # noqa: BLE001 - a crash is what we measure
        report, crash = None, traceback.format_exc().strip().splitlines()[-1]
    elapsed = time.perf_counter() - started
    out = {"file": path.name, "seconds": elapsed, "crash": crash, "sites": [], "findings": []}
    if report is not None:
        out["sites"] = [s.to_dict() for s in report.sites]
        out["findings"] = [f.to_dict() for f in report.findings]
    text = code_text(path) or ""
    out["cudnn_regex"] = sum(len(CUDNN.findall(line)) for line in code_lines(text))
    return out


def errors_of(path: Path) -> Counter:
    try:
        report = droplint.analyze(str(path))
    except Exception:  # noqa: BLE001
        return Counter({"<crash>": 1})
    return Counter(f.code for f in report.findings if f.severity.value == "error")


def no_cache() -> list[str]:
    """`--no-cache` where this droplint has a result cache (timings and fixes stay honest)."""
    proc = subprocess.run([sys.executable, "-m", "droplint", "check", "--help"],
                          capture_output=True, text=True)
    return ["--no-cache"] if "--no-cache" in proc.stdout else []


NO_CACHE: list[str] = []


def fix_file(path: Path, before_errors: Counter) -> dict:
    """Fix a copy; report whether it changed and how it broke (if it did)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        proc = subprocess.run([sys.executable, "-m", "droplint", "check", "--fix", "--unsafe-fixes",
                               "--no-color", "--exit-zero", *NO_CACHE, str(copy)],
                              capture_output=True, text=True, timeout=300)
        after_raw = copy.read_bytes()
        changed = after_raw != path.read_bytes()
        result = {"file": path.name, "changed": changed, "problems": [],
                  "rc": proc.returncode,
                  "traceback": "Traceback" in proc.stderr or "Traceback" in proc.stdout}
        if not changed:
            return result
        before_text, after_text = code_text(path), code_text(copy)
        if parses(before_text) and not parses(after_text):
            result["problems"].append("does not parse")
        new_names = pyflakes_names(after_text) - pyflakes_names(before_text)
        for (kind, args), n in sorted(new_names.items()):
            result["problems"].append(f"pyflakes {kind} {' '.join(args)}" + (f" x{n}" if n > 1 else ""))
        new_errors = errors_of(copy) - before_errors
        for code, n in sorted(new_errors.items()):
            result["problems"].append(f"new droplint error {code}" + (f" x{n}" if n > 1 else ""))
        return result


def text_output_lines(folder: Path) -> tuple[int, int, str]:
    proc = subprocess.run([sys.executable, "-m", "droplint", "check", "--no-color", "--exit-zero",
                           *NO_CACHE, str(folder)], capture_output=True, text=True, timeout=1800)
    tail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    return len(proc.stdout.splitlines()), proc.returncode, tail


def over_time_expected(site: dict) -> bool:
    """A time axis exists or may exist (a (batch, steps, features) tensor, or the shape is not
    known): over_time should be stated. Rank 4/5 (images, TimeDistributed convolutions) are left
    out: which axis is time is not decidable there."""
    shape = site.get("input_shape")
    return site["drops"] == "unknown" or shape is None or len(shape) == 3


def duplicate_lines(title: str, counts: Counter) -> list[str]:
    """A blank line, `title`, then each (path, cell, line, column, what) key counted more than
    once: `name [cell N ]line:column what xN`; nothing when no key repeats."""
    dups = [k for k, c in counts.items() if c > 1]
    return ["", title] + [
        f"  {Path(k[0]).name} {'cell ' + str(k[1]) + ' ' if k[1] else ''}{k[2]}:{k[3]} "
        f"{k[4] or '-'} x{counts[k]}" for k in dups] if dups else []


def summarize(results: list[dict], fixes: list[dict], text_lines: tuple | None) -> list[str]:
    out: list[str] = []
    sites = [s for r in results for s in r["sites"]]
    findings = [f for r in results for f in r["findings"]]
    n = len(sites) or 1
    crashes = [r for r in results if r["crash"]]
    parse_errors = [f for f in findings if f["code"] in ("DL900", "DL901")]
    out.append(f"files: {len(results)}  crashes: {len(crashes)}  DL900/DL901: {len(parse_errors)}")
    secs = [r["seconds"] for r in results]
    slow = ", ".join("%s %.2fs" % (r["file"], r["seconds"])
                     for r in sorted(results, key=lambda r: -r["seconds"])[:3])
    out.append(f"time per file: mean {statistics.mean(secs):.3f}s  median "
               f"{statistics.median(secs):.3f}s  max {max(secs):.3f}s  total {sum(secs):.1f}s  "
               f"(slowest: {slow})")
    unknown = sum(s["drops"] == "unknown" for s in sites)
    ps_unknown = sum(s["per_sample"] is None for s in sites)
    ot_expected = [s for s in sites if over_time_expected(s)]
    ot_unknown = sum(s["over_time"] is None for s in ot_expected)
    out.append(f"dropout sites: {len(sites)}  drops unknown: {unknown} ({100 * unknown / n:.1f}%)  "
               f"per_sample unknown: {ps_unknown} ({100 * ps_unknown / n:.1f}%)  "
               f"over_time unknown: {ot_unknown} of {len(ot_expected)} sites with a possible "
               f"time axis (rank 3 or unknown) ({100 * ot_unknown / (len(ot_expected) or 1):.1f}%)")
    by_layer = Counter((s["layer"], s["argument"] or "-") for s in sites if s["drops"] == "unknown")
    out.append("  unknown by layer/argument: " +
               ", ".join(f"{layer}{'' if arg == '-' else '(' + arg + ')'} {c}"
                         for (layer, arg), c in by_layer.most_common()))
    site_keys = Counter((s["path"], s.get("cell"), s["line"], s["column"], s["argument"])
                        for s in sites)
    dup_sites = sum(c - 1 for c in site_keys.values() if c > 1)
    identical = Counter(json.dumps({k: v for k, v in s.items() if k != "id"}, sort_keys=True)
                        for s in sites)
    dup_identical = sum(c - 1 for c in identical.values() if c > 1)
    f_keys = Counter((f["path"], f.get("cell"), f["line"], f["column"], f["code"]) for f in findings)
    dup_findings = sum(c - 1 for c in f_keys.values() if c > 1)
    out.append(f"duplicate sites (same path/line/column/argument): {dup_sites} (identical in "
               f"every field but id: {dup_identical})  duplicate findings (same code and "
               f"position): {dup_findings}")
    codes = Counter(f["code"] for f in findings)
    sev = Counter(f["severity"] for f in findings)
    out.append(f"findings: {len(findings)} ({', '.join(f'{k} {v}' for k, v in sorted(sev.items()))})")
    out.append("  per code: " + ", ".join(f"{c} {k}" for c, k in sorted(codes.items())))
    lengths = defaultdict(list)
    for f in findings:
        lengths[f["code"]].append(len(f["message"]))
    out.append("  message length mean/max: " + ", ".join(
        f"{c} {statistics.mean(v):.0f}/{max(v)}" for c, v in sorted(lengths.items())))
    regex = sum(r["cudnn_regex"] for r in results)
    dl303 = sum(1 for f in findings if f["code"] == "DL303")
    missed = [(r["file"], r["cudnn_regex"], sum(f["code"] == "DL303" for f in r["findings"]))
              for r in results if r["cudnn_regex"] > sum(f["code"] == "DL303" for f in r["findings"])]
    out.append(f"CuDNNLSTM/CuDNNGRU constructions (regex, code lines): {regex}  DL303 findings: "
               f"{dl303}  files with fewer DL303 than constructions: {len(missed)}")
    if text_lines is not None:
        out.append(f"text output: {text_lines[0]} lines (exit {text_lines[1]})"
                   + (f"; stderr: {text_lines[2]}" if text_lines[2] else ""))
    if fixes:
        changed = [x for x in fixes if x["changed"]]
        broken = [x for x in changed if x["problems"]]
        tb = [x for x in fixes if x["traceback"] or x["rc"] == 2]
        out.append(f"fix --unsafe-fixes: {len(changed)} files changed, {len(broken)} broken, "
                   f"{len(tb)} with traceback/exit 2")
    out.append("")
    out.append("per file: sites unknown/total, findings, seconds, cudnn regex/DL303")
    for r in results:
        unk = sum(s["drops"] == "unknown" for s in r["sites"])
        cud = sum(f["code"] == "DL303" for f in r["findings"])
        out.append(f"  {r['file']}: {unk}/{len(r['sites'])}, {len(r['findings'])}, "
                   f"{r['seconds']:.2f}s, {r['cudnn_regex']}/{cud}"
                   + (f"  CRASH {r['crash']}" if r["crash"] else ""))
    if missed:
        out.append("")
        out.append("CuDNN constructions without DL303 (file: regex/DL303):")
        out += [f"  {name}: {a}/{b}" for name, a, b in missed]
    out += duplicate_lines("duplicate sites (file line:column argument x copies):", site_keys)
    out += duplicate_lines("duplicate findings (file line:column code x copies):", f_keys)
    if fixes and any(x["problems"] for x in fixes):
        out.append("")
        out.append("fixes that broke a file:")
        out += [f"  {x['file']}: {'; '.join(x['problems'])}" for x in fixes if x["problems"]]
    if crashes:
        out.append("")
        out.append("crashes:")
        out += [f"  {r['file']}: {r['crash']}" for r in crashes]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--no-fix", action="store_true", help="skip the fix-safety pass")
    parser.add_argument("--jobs", type=int, default=8, help="parallel fix runs")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--from-json", type=Path,
                        help="re-print the summary of an earlier --json run (analyzes nothing)")
    args = parser.parse_args(argv)
    if args.from_json:
        old = json.loads(args.from_json.read_text())
        print("\n".join(summarize(old["results"], old["fixes"], old.get("text_lines"))))
        return 0
    files = corpus(args.folder)
    if not files:
        print(f"no .py/.ipynb files in {args.folder}", file=sys.stderr)
        return 2
    NO_CACHE[:] = no_cache()
    results = [analyze_file(p) for p in files]
    fixes: list[dict] = []
    if not args.no_fix:
        before = {p.name: Counter(f["code"] for f in r["findings"] if f["severity"] == "error")
                  for p, r in zip(files, results)}
        with ThreadPoolExecutor(args.jobs) as pool:
            fixes = list(pool.map(lambda p: fix_file(p, before[p.name]), files))
    text_lines = text_output_lines(args.folder)
    head = subprocess.run(["git", "-C", str(Path(droplint.__file__).parent), "log", "-1",
                           "--format=%h %cI"], capture_output=True, text=True).stdout.strip()
    print(f"droplint {getattr(droplint, '__version__', '?')} (commit {head or '?'}, run "
          f"{time.strftime('%Y-%m-%d %H:%M')}) on {args.folder}")
    print("\n".join(summarize(results, fixes, text_lines)))
    if args.json:
        args.json.write_text(json.dumps({"results": results, "fixes": fixes,
                                         "text_lines": text_lines}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
