"""SARIF 2.1.0 and GitHub annotations, produced by the real command line and validated with
jsonschema against the OASIS schema."""
from __future__ import annotations

import json
import re
import subprocess
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


def sarif_and_json(cli, project: Path, *extra: str) -> tuple[dict, dict]:
    out = project / "out.sarif"
    run = cli("check", "--format", "sarif", "--output-file", str(out),
              "--keras-version", "3.15", *extra, "pkg/model.py", cwd=project)
    assert run.returncode == 1, run.stderr
    as_json = cli("check", "--format", "json", "--keras-version", "3.15", *extra,
                  "pkg/model.py", cwd=project)
    return json.loads(out.read_text(encoding="utf-8")), json.loads(as_json.stdout)


def test_sarif_file_is_valid_and_matches_the_findings(cli, project: Path):
    sarif, report = sarif_and_json(cli, project)
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
        assert ("helpUri" in entry) == bool(PROJECT_URL)  # no link to a nonexistent page

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


def test_sarif_fix_replacements_rewrite_the_file(cli, project: Path):
    sarif, _ = sarif_and_json(cli, project)
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


def test_fingerprints_survive_moved_lines_and_tell_findings_apart(cli, project: Path):
    before, _ = sarif_and_json(cli, project)
    model = project / "pkg" / "model.py"
    model.write_text('"""A model."""\n\n# moved down by three lines\n' + MODEL, encoding="utf-8")
    after, _ = sarif_and_json(cli, project)

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


def test_github_annotations(cli, project: Path):
    run = cli("check", "--format", "github", "--keras-version", "3.15", "pkg/model.py",
              cwd=project)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    report = json.loads(cli("check", "--format", "json", "--keras-version", "3.15",
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


def test_explain_exports_html_and_svg_figures(cli, project: Path):
    """--html / --svg are figures, not a terminal dump: per site a grid of kept/dropped cells
    (the same draws as the terminal picture), axis labels, a legend and a title; the SVG is
    valid XML, the HTML page embeds the same SVG figures; no text line is cut off."""
    import xml.etree.ElementTree as ET

    from droplint.render.figures import text_width

    run = cli("explain", "--keras-version", "3.15", "--html", "explain.html", "--svg",
              "explain.svg", "pkg/model.py", cwd=project, env={"COLUMNS": None})  # 80 wide
    assert run.returncode == 0, run.stderr
    terminal = run.stdout
    ns = {"s": "http://www.w3.org/2000/svg"}
    svg = ET.parse(project / "explain.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.find("s:title", ns).text == "droplint explain"
    figures = svg.findall("s:g[@class='site']/s:svg", ns)
    assert len(figures) == 2  # Dropout(0.3) and LSTM(dropout=1.5)'s site
    first = figures[0]
    texts = [t.text for t in first.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[0] == "pkg/model.py · line 5 · site 0 · Dropout(0.3)"  # the title
    assert "features →" in texts and "timesteps ↓ (20 of 30)" in texts  # axis labels
    assert "kept" in texts and "dropped (rate 0.3)" in texts  # the legend
    cells = first.findall("s:g[@class='grid']/s:rect", ns)
    assert len(cells) == 20 * 8  # first 20 of 30 timesteps x 8 features
    assert {c.get("class") for c in cells} == {"kept", "dropped"}
    # the terminal picture's first row, cell by cell
    row0 = next(line for line in terminal.splitlines() if line.strip().startswith("t0 "))
    cells_t0 = row0.split("│")[1][::2]
    drawn = ["kept" if ch == "█" else "dropped" for ch in cells_t0]
    assert [c.get("class") for c in cells[:8]] == drawn
    # nothing cut off: every text of every figure ends inside the figure
    for fig in figures:
        width = float(fig.get("width"))
        for t in fig.iter("{http://www.w3.org/2000/svg}text"):
            if t.get("transform"):  # the rotated axis label runs along the grid's height
                continue
            x = float(t.get("x"))
            extent = {"middle": text_width(t.text) / 2, "end": 0}.get(t.get("text-anchor"),
                                                                      text_width(t.text))
            assert x + extent <= width, (t.text, x, width)
    html = (project / "explain.html").read_text(encoding="utf-8")
    assert html.lower().startswith("<!doctype html>")
    page = ET.fromstring(html.split("\n", 1)[1])  # well-formed: parsed as XML
    assert page.find("head/title").text == "droplint explain"
    rows = page.findall(".//table/tbody/tr")
    assert [r.findall("td")[1].text for r in rows] == ["DL101", "DL304"]
    html_figs = page.findall(".//figure/{http://www.w3.org/2000/svg}svg")
    assert len(html_figs) == 2
    assert [c.get("class") for c in html_figs[0].findall("s:g[@class='grid']/s:rect", ns)
            ][:8] == drawn


def test_sarif_help_uri_only_with_a_real_project_url(monkeypatch):
    """No link to a repository that does not exist: without a configured PROJECT_URL the rules
    carry their whole doc and no helpUri; with one, helpUri points at the rule's module."""
    from droplint.render import sarif
    from droplint.report import Report

    doc = sarif.to_sarif(Report("3.15.1", "config"), root=REPO)
    validate(doc)
    driver = doc["runs"][0]["tool"]["driver"]
    assert "informationUri" not in driver
    for rule, entry in zip(ALL_RULES, driver["rules"]):
        assert "helpUri" not in entry
        assert entry["help"]["markdown"] == rule.doc()
        assert Path(sarif.rule_doc_uri(rule).removeprefix("file://")).is_file()
    monkeypatch.setattr(sarif, "PROJECT_URL", "https://example.org/droplint")
    doc = sarif.to_sarif(Report("3.15.1", "config"), root=REPO)
    validate(doc)
    for entry in doc["runs"][0]["tool"]["driver"]["rules"]:
        assert (REPO / entry["helpUri"].split("/blob/main/", 1)[1]).is_file()
