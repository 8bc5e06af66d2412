"""SARIF 2.1.0 and GitHub annotations, produced by the real command line and validated with
jsonschema against the OASIS schema."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from droplint import PROJECT_URL
from droplint.rules import ALL_RULES

REPO = Path(__file__).resolve().parents[1]
SCHEMA_NAME = "sarif-schema-2.1.0.json"
SCHEMA_COPY = Path(__file__).resolve().parent / "data" / SCHEMA_NAME
SCHEMA_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / SCHEMA_NAME

MODEL = """\
import keras
from keras import layers

inputs = keras.Input(shape=(30, 8))
x = layers.Dropout(0.3)(inputs)
x = layers.LSTM(10, dropout=1.5)(x)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)
"""


def droplint(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "droplint", *args], cwd=cwd, input=stdin,
                          capture_output=True, timeout=120, check=False)


def schemas() -> list[dict]:
    """The committed copy, and the shared original where this checkout has one."""
    assert SCHEMA_COPY.is_file(), "tests/data must hold the SARIF schema"
    paths = [SCHEMA_COPY] + ([SCHEMA_SHARED] if SCHEMA_SHARED.is_file() else [])
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def validate(doc: dict) -> None:
    for schema in schemas():
        jsonschema.Draft4Validator(schema).validate(doc)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git repository (the SARIF root) with the model in a subfolder."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text(MODEL, encoding="utf-8")
    return tmp_path


def sarif_and_json(project: Path, *extra: str) -> tuple[dict, dict]:
    out = project / "out.sarif"
    run = droplint("check", "--format", "sarif", "--output-file", str(out),
                   "--keras-version", "3.15", *extra, "pkg/model.py", cwd=project)
    assert run.returncode == 1, run.stderr.decode()
    as_json = droplint("check", "--format", "json", "--keras-version", "3.15", *extra,
                       "pkg/model.py", cwd=project)
    return json.loads(out.read_text(encoding="utf-8")), json.loads(as_json.stdout)


def test_sarif_file_is_valid_and_matches_the_findings(project: Path):
    sarif, report = sarif_and_json(project)
    validate(sarif)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "droplint"
    assert [r["id"] for r in driver["rules"]] == [r.code for r in ALL_RULES]
    for rule, entry in zip(ALL_RULES, driver["rules"]):
        assert entry["name"] == rule.name
        assert entry["shortDescription"]["text"] == rule.summary
        assert entry["fullDescription"]["text"]
        assert entry["help"]["text"] == rule.doc()
        assert entry["helpUri"].startswith(PROJECT_URL + "/blob/")
        assert (REPO / entry["helpUri"].split("/blob/main/", 1)[1]).is_file()

    findings = report["findings"]
    assert {f["code"] for f in findings} >= {"DL101", "DL304"}
    assert len(run["results"]) == len(findings)
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for result, finding in zip(run["results"], findings):
        assert result["ruleId"] == finding["code"]
        assert driver["rules"][result["ruleIndex"]]["id"] == finding["code"]
        assert result["level"] == levels[finding["severity"]]
        assert result["message"]["text"] == finding["message"]
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"] == {"uri": "pkg/model.py", "uriBaseId": "%SRCROOT%"}
        assert loc["region"] == {"startLine": finding["line"],
                                 "startColumn": finding["column"],
                                 "endLine": finding["end_line"],
                                 "endColumn": finding["end_column"]}
        assert result["partialFingerprints"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    assert run["columnKind"] == "unicodeCodePoints"


def test_sarif_fix_replacements_rewrite_the_file(project: Path):
    sarif, _ = sarif_and_json(project)
    [dl101] = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "DL101"]
    [fix] = dl101["fixes"]
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "pkg/model.py"
    lines = MODEL.splitlines(keepends=True)
    # apply the replacements from the last to the first, as a SARIF consumer would
    for rep in sorted(change["replacements"], key=lambda r: (r["deletedRegion"]["startLine"],
                                                             r["deletedRegion"]["startColumn"]),
                      reverse=True):
        region = rep["deletedRegion"]
        assert region["startLine"] == region["endLine"]
        line = lines[region["startLine"] - 1]
        lines[region["startLine"] - 1] = (line[:region["startColumn"] - 1]
                                          + rep["insertedContent"]["text"]
                                          + line[region["endColumn"] - 1:])
    fixed = "".join(lines)
    assert "layers.SpatialDropout1D(0.3)(inputs)" in fixed
    compile(fixed, "model.py", "exec")


def test_fingerprints_survive_moved_lines_and_tell_findings_apart(project: Path):
    before, _ = sarif_and_json(project)
    model = project / "pkg" / "model.py"
    model.write_text('"""A model."""\n\n# moved down by three lines\n' + MODEL, encoding="utf-8")
    after, _ = sarif_and_json(project)

    def prints(doc):
        return {r["ruleId"]: (r["partialFingerprints"],
                              r["locations"][0]["physicalLocation"]["region"]["startLine"])
                for r in doc["runs"][0]["results"]}

    b, a = prints(before), prints(after)
    assert b.keys() == a.keys()
    for code in b:
        assert b[code][0] == a[code][0]
        assert a[code][1] == b[code][1] + 3
    values = [json.dumps(v[0]) for v in b.values()]
    assert len(set(values)) == len(values)


def test_github_annotations(project: Path):
    run = droplint("check", "--format", "github", "--keras-version", "3.15", "pkg/model.py",
                   cwd=project)
    assert run.returncode == 1
    lines = run.stdout.decode().splitlines()
    report = json.loads(droplint("check", "--format", "json", "--keras-version", "3.15",
                                 "pkg/model.py", cwd=project).stdout)
    assert len(lines) == len(report["findings"])
    kind = {"error": "::error ", "warning": "::warning ", "info": "::notice "}
    for line, f in zip(lines, report["findings"]):
        assert line.startswith(kind[f["severity"]])
        props, message = line.split(" ", 1)[1].split("::", 1)
        assert props == (f"file=pkg/model.py,line={f['line']},col={f['column']},"
                         f"endLine={f['end_line']},endColumn={f['end_column']},"
                         f"title={f['code']} {f['name']}")
        assert message == f["message"].replace("%", "%25").replace("\n", "%0A")


@pytest.mark.keras
def test_built_model_sarif_uses_layer_names():
    import keras
    from keras import layers

    from droplint import analyze
    from droplint.render.sarif import render

    inputs = keras.Input(shape=(20, 6))
    x = layers.Dropout(0.25, name="input_dropout")(inputs)
    x = layers.GRU(4)(x)
    model = keras.Model(inputs, layers.Dense(1)(x))
    doc = json.loads(render(analyze(model)))
    validate(doc)
    [result] = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "DL101"]
    [location] = result["locations"]
    assert "physicalLocation" not in location  # an in-memory model is no file
    assert location["logicalLocations"] == [{"name": "input_dropout", "kind": "object"}]
    assert "fixes" not in result


def test_explain_exports_html_and_svg_with_the_mask_pictures(project: Path):
    run = droplint("explain", "--keras-version", "3.15", "--html", "explain.html", "--svg",
                   "explain.svg", "pkg/model.py", cwd=project)
    assert run.returncode == 0, run.stderr.decode()
    terminal = run.stdout.decode()
    html = (project / "explain.html").read_text(encoding="utf-8")
    svg = (project / "explain.svg").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "pkg/model.py:5:5" in html and "pkg/model.py:5:5" in terminal
    picture_row = next(line for line in terminal.splitlines() if line.strip().startswith("t0 "))
    html_text = re.sub(r"<[^>]+>", "", html)
    assert picture_row.split("│")[1] in html_text  # the same mask picture, in colour
    assert "color: #008000" in html  # kept entries are drawn green
    svg_text = svg.replace("&#160;", " ")
    assert svg.lstrip().startswith("<svg") and "droplint explain" in svg_text
    assert "pkg/model.py:5:5" in svg_text
