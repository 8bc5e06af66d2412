"""Issue 11's output work, through the real command line (subprocesses, so COLUMNS and the
terminal checks are the user's): explain at 80 columns, in line order, from stdin; str(report)
and Report._repr_html_; gitlab and junit formats (parsed); -q/-qq, --output-format, --color;
--show-settings/--verbose/--version with a config's keras-version; `droplint rules` width."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(str(p.relative_to(REPO)) for p in (REPO / "examples").glob("*.py"))
SVG = "{http://www.w3.org/2000/svg}"

MODEL = """\
from keras import layers

inputs = layers.Input(shape=(30, 8))
x = layers.Dropout(0.3)(inputs)
y = layers.Dropout(1.5)(inputs)
z = layers.LSTM(4)(x)
"""


def droplint(*args: str, cwd: Path = REPO, stdin: str | None = None, columns: int = 80,
             **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ.update(COLUMNS=str(columns), **env)
    return subprocess.run([sys.executable, "-m", "droplint", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False, env=environ)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "pyproject.toml").write_text('[tool.droplint]\nkeras-version = "3.15"\n',
                                             encoding="utf-8")
    (tmp_path / "m.py").write_text(MODEL, encoding="utf-8")
    return tmp_path


# ------------------------------------------------------------------------------------ explain

@pytest.mark.parametrize("columns", [80, 100])
def test_explain_on_the_examples_fits_the_terminal(columns: int):
    run = droplint("explain", *EXAMPLES, columns=columns)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) > 100
    too_long = [line for line in lines if len(line) > columns]
    assert not too_long, too_long[:3]
    # the side-by-side block is there (per file), and loses no panel to the width
    assert sum(line.endswith("side by side (one sample each, first 12 rows; ██ kept, ·· "
                             "dropped):") or "side by side" in line for line in lines) >= 3


def test_explain_sites_in_line_order_each_once_with_distinct_labels():
    run = droplint("explain", "--format", "json", *EXAMPLES)
    data = json.loads(run.stdout)
    keys = [(s["path"], s["line"], s["column"]) for s in data["sites"]]
    assert keys == sorted(keys)
    labels = [(s["path"], s["label"]) for s in data["sites"]]
    assert len(set(labels)) == len(labels)  # two Dropout(0.3) in one file: told apart
    text = droplint("explain", "examples/mask_gallery.py").stdout
    headings = [line for line in text.splitlines() if line.startswith("examples/")]
    assert headings[:2] == ["examples/mask_gallery.py:7:5: line 7 · site 0 · Dropout(0.3)",
                            "examples/mask_gallery.py:8:5: line 8 · site 1 · "
                            "SpatialDropout1D(0.3)"]
    assert "line 9 · site 2" in text and "line 11 · site 4" in text


def test_explain_reads_stdin_like_check():
    source = (REPO / "examples" / "mask_gallery.py").read_text(encoding="utf-8")
    from_file = droplint("explain", "examples/mask_gallery.py")
    from_stdin = droplint("explain", "-", "--stdin-filename", "examples/mask_gallery.py",
                          stdin=source)
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert from_stdin.stdout == from_file.stdout
    unnamed = droplint("explain", "-", stdin=source)
    assert unnamed.stdout.startswith("-:7:5: line 7 · site 0 · Dropout(0.3)")
    both = droplint("explain", "-", "examples/mask_gallery.py", stdin=source)
    assert both.returncode == 2 and both.stderr.startswith("droplint: error: ")


# ----------------------------------------------------------------------- str(report), Jupyter

def test_str_report_is_the_concise_text_and_html_shows_table_and_figures():
    import droplint as dl

    report = dl.analyze(EXAMPLES)
    concise = droplint("check", "--format", "concise", "--no-color", *EXAMPLES).stdout
    assert str(report) == concise.rstrip("\n")
    assert len(str(report).splitlines()) == len(report.findings) + len(report.notes) + 1
    page = ET.fromstring(report._repr_html_())
    rows = page.findall(".//table/tbody/tr")
    assert [r.findall("td")[1].text for r in rows] == report.codes()
    figures = page.findall(f".//figure/{SVG}svg")
    assert len(figures) == len(report.sites)
    for fig in figures:
        assert fig.findall(f"{SVG}g[@class='legend']")
        cells = fig.findall(f"{SVG}g[@class='grid']/{SVG}rect")
        assert cells and {c.get("class") for c in cells} <= {"kept", "dropped", "noise"}


# -------------------------------------------------------------------------- gitlab and junit

def test_gitlab_code_quality(project: Path):
    run = droplint("check", "--format", "gitlab", "m.py", cwd=project)
    assert run.returncode == 1
    issues = json.loads(run.stdout)
    report = json.loads(droplint("check", "--format", "json", "m.py", cwd=project).stdout)
    assert [i["check_name"] for i in issues] == [f["code"] for f in report["findings"]]
    for issue, finding in zip(issues, report["findings"]):
        assert set(issue) == {"description", "check_name", "fingerprint", "severity",
                              "location"}
        assert issue["description"].startswith(finding["code"] + " ")
        assert finding["message"] in issue["description"]
        assert issue["location"] == {"path": "m.py", "lines": {"begin": finding["line"]}}
        assert issue["severity"] == {"error": "major", "warning": "minor",
                                     "info": "info"}[finding["severity"]]
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_junit_xml(project: Path):
    run = droplint("check", "--format", "junit", "m.py", cwd=project)
    assert run.returncode == 1
    root = ET.fromstring(run.stdout.split("\n", 1)[1])
    assert root.tag == "testsuites" and root.get("failures") == "2"
    [suite] = root.findall("testsuite")
    assert suite.get("name") == "m.py" and suite.get("tests") == "2"
    cases = suite.findall("testcase")
    assert [c.find("failure").get("type") for c in cases] == ["DL101", "DL404"]
    assert cases[1].get("line") == "5" and "m.py:5:5: DL404 [error]" in cases[1].find(
        "failure").text
    clean = droplint("check", "--format", "junit", "--select", "DL303", "m.py", cwd=project)
    empty = ET.fromstring(clean.stdout.split("\n", 1)[1])
    assert clean.returncode == 0 and empty.get("failures") == "0"
    assert empty.find("testsuite/testcase").find("failure") is None


# ---------------------------------------------------------------- ruff habits: -q, --color ...

def test_quiet_silent_output_format_alias(project: Path):
    full = droplint("check", "--format", "concise", "m.py", cwd=project)
    alias = droplint("check", "--output-format", "concise", "m.py", cwd=project)
    assert alias.stdout == full.stdout and alias.returncode == full.returncode == 1
    quiet = droplint("check", "-q", "--output-format", "concise", "m.py", cwd=project)
    assert quiet.stdout.splitlines() == full.stdout.splitlines()[:-1]  # no summary
    assert quiet.returncode == 1
    quiet_text = droplint("check", "--quiet", "m.py", cwd=project)
    assert "DL404" in quiet_text.stdout and "Found" not in quiet_text.stdout
    for flags in (["-qq"], ["--silent"]):
        silent = droplint("check", *flags, "m.py", cwd=project)
        assert silent.stdout == "" and silent.returncode == 1
    clean = droplint("check", "-q", "--select", "DL303", "m.py", cwd=project)
    assert clean.stdout == "" and clean.returncode == 0
    as_json = droplint("check", "-q", "--format", "json", "m.py", cwd=project)
    assert json.loads(as_json.stdout)["findings"]  # -q leaves machine formats whole


def test_color_auto_always_never(project: Path):
    ansi = re.compile(r"\x1b\[")
    assert not ansi.search(droplint("check", "m.py", cwd=project).stdout)  # a pipe: auto
    assert ansi.search(droplint("check", "--color", "always", "m.py", cwd=project).stdout)
    assert ansi.search(droplint("check", "--color", "always", "m.py", cwd=project,
                                NO_COLOR="1").stdout)  # the explicit flag wins
    for flags in (["--color", "never"], ["--no-color", "--color", "always"]):
        assert not ansi.search(droplint("check", *flags, "m.py", cwd=project).stdout)
    assert ansi.search(droplint("rules", "--color", "always").stdout)


def test_show_settings_verbose_and_version_follow_the_config(project: Path):
    (project / "legacy.py").write_text("import tf_keras\nx = tf_keras.layers.Dropout(0.2)\n",
                                       encoding="utf-8")
    shown = droplint("check", "--show-settings", ".", cwd=project)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"config: {project.resolve() / 'pyproject.toml'}"
    assert "keras-version = '3.15'" in lines
    pyproject = project.resolve() / "pyproject.toml"
    assert f"  m.py: Keras 3.15.0 (keras-version = '3.15' ({pyproject}))" in lines
    flag = droplint("check", "--show-settings", "--keras-version", "2", "m.py", cwd=project)
    assert "  m.py: Keras 2.21.0 (keras-version = '2' (--keras-version))" in \
        flag.stdout.splitlines()
    (project / "pyproject.toml").write_text('[tool.droplint]\nselect = ["DL4"]\n',
                                            encoding="utf-8")
    auto = droplint("check", "--show-settings", ".", cwd=project).stdout
    assert re.search(r"  legacy\.py: Keras 2\.\d+\.\d+ \(imports tf_keras", auto)
    assert re.search(r"  m\.py: Keras 3\.\d+\.\d+ \(imports keras", auto)
    verbose = droplint("check", "--verbose", "m.py", cwd=project)
    assert verbose.returncode == 1 and "DL404" in verbose.stdout
    assert verbose.stderr.splitlines()[0] == f"droplint: config: {pyproject}"
    assert re.search(r"^droplint: m\.py: Keras 3\.", verbose.stderr, re.M)
    (project / "pyproject.toml").write_text('[tool.droplint]\nkeras-version = "2.15"\n',
                                            encoding="utf-8")
    version = droplint("--version", cwd=project)
    assert "assumes Keras 2.15.0 (keras-version = '2.15' in" in version.stdout


def test_rules_fit_80_columns():
    run = droplint("rules", columns=80)
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[1].split()[:3] == ["DL101", "dropout-on-sequence-input", "info"]
    assert lines[2].startswith("       ") and lines[2].strip()  # the summary, indented
