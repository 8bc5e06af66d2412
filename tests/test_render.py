"""Renderers: full/concise text, JSON, statistics and the explain pictures. Reports are built
from the real mask semantics (droplint.semantics.explain), not from hand-written masks."""
from __future__ import annotations

import json

import pytest

from droplint.graph import Layer, Origin
from droplint.keras_version import KerasVersion
from droplint.render import RenderOptions, render
from droplint.render import explain as ex
from droplint.render.sources import Sources
from droplint.render.text import render_concise, render_full, render_statistics
from droplint.report import Edit, Finding, Fix, Report, Severity, Site
from droplint.semantics import explain as mask_of

K3 = KerasVersion(3, 15, 1, source="config")
K2 = KerasVersion(2, 21, 0, source="config")

SOURCE = """\
from keras import layers

inputs = layers.Input(shape=(30, 8))
x = layers.Dropout(0.3)(inputs)
x = layers.LSTM(10)(x)
"""


def site_for(kind, args, input_shape, argument=None, keras=K3, sid=0, path="m.py", line=4):
    layer = Layer(kind, dict(args), Origin(path))
    mask = mask_of(layer, input_shape, keras, argument)
    rate = args.get(argument or "rate")
    if argument == "recurrent_dropout":
        input_shape = mask.mask_shape
    return Site(sid, path, line, 5, kind, argument, rate,
                None if input_shape is None else list(input_shape),
                None if mask.mask_shape is None else list(mask.mask_shape),
                mask.drops, mask.per_sample, mask.over_time, mask.masks,
                description=mask.description, keras=str(keras))


def finding(code="DL101", severity=Severity.INFO, path="m.py", line=4, column=5,
            end_column=23, fix=True, name="dropout-on-sequence-input", **kw):
    f = Fix("unsafe", "use SpatialDropout1D(0.3)",
            (Edit(line, column, line, end_column, "layers.SpatialDropout1D(0.3)"),)) \
        if fix else None
    return Finding(code, name, severity, path, line, column, line, end_column,
                   "Dropout(0.3) on (None, 30, 8) drops single entries.", layer="Dropout",
                   site=0, fix=f, **kw)


def report(findings=(), sites=(), files=1):
    r = Report("3.15.1", "config", list(findings), list(sites), [], files)
    return r


@pytest.fixture
def sources():
    return Sources({"m.py": SOURCE})


# ------------------------------------------------------------------------------ full / concise

def test_full_format_has_header_message_frame_caret_and_help(sources):
    out = render_full(report([finding()]), sources).plain.splitlines()
    assert out[0] == "m.py:4:5: DL101 [info] dropout-on-sequence-input"
    assert out[1].strip().startswith("Dropout(0.3) on (None, 30, 8)")
    code_row = next(i for i, line in enumerate(out) if line.startswith("4 |"))
    assert out[code_row] == "4 | x = layers.Dropout(0.3)(inputs)"
    caret = out[code_row + 1]
    start = caret.index("^")
    # the carets sit under `layers.Dropout(0.3)`: column 5 up to end column 23 (exclusive)
    assert caret[start:].split()[0] == "^" * (23 - 5)
    assert out[code_row][start:start + 18] == "layers.Dropout(0.3)"[:18]
    assert caret.rstrip().endswith("DL101")
    assert any(line.startswith("3 |") for line in out)  # context before
    assert any(line.startswith("5 |") for line in out)  # context after
    assert "  = help: use SpatialDropout1D(0.3) (unsafe fix)" in out
    assert out[-1] == "Found 1 finding (1 info) in 1 file; 1 fixable with --fix --unsafe-fixes."


def test_summary_counts_and_plurals(sources):
    fs = [finding(), finding("DL404", Severity.ERROR, name="dropout-rate-out-of-range",
                             fix=False),
          finding("DL405", Severity.WARNING, path="n.py", name="rate-looks-like-keep-prob",
                  fix=False)]
    fs[1].fix = Fix("safe", "x", ())
    last = render_full(report(fs, files=3), sources).plain.splitlines()[-1]
    assert last == ("Found 3 findings (1 error, 1 warning, 1 info) in 2 of 3 files; "
                    "1 fixable with --fix (1 more with --unsafe-fixes).")


def test_all_checks_passed_counts_files_and_sites():
    sites = [site_for("Dropout", {"rate": 0.3}, (None, 30, 8), sid=i) for i in range(2)]
    assert render_full(report([], sites, files=3)).plain == \
        "All checks passed! (3 files, 2 dropout sites)"


def test_built_model_finding_has_layer_name_and_no_frame(sources):
    f = finding(line=None, column=None, end_column=None, path="model.keras",
                layer_name="dropout_1", fix=False)
    f.end_line = None
    out = render_full(report([f]), sources).plain.splitlines()
    assert out[0] == "model.keras [dropout_1]: DL101 [info] dropout-on-sequence-input"
    assert not any(" | " in line or line.endswith(" |") for line in out)


def test_frame_missing_when_source_unreadable(tmp_path):
    f = finding(path=str(tmp_path / "gone.py"))
    out = render_full(report([f]), Sources()).plain
    assert "^" not in out and out.startswith(f"{tmp_path / 'gone.py'}:4:5: DL101")


def test_frame_reads_file_from_disk_once(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(SOURCE)
    src = Sources()
    out = render_full(report([finding(path=str(p)), finding(path=str(p), line=5, column=5,
                                                            end_column=19)]), src).plain
    assert "5 | x = layers.LSTM(10)(x)" in out
    p.unlink()  # cached: the second render still has the text
    assert "5 | x = layers.LSTM(10)(x)" in render_full(report([finding(path=str(p))]), src).plain


def test_concise_is_one_line_per_finding_plus_summary():
    f1 = finding()
    f1.message = "first line\nsecond line"
    out = render_concise(report([f1, finding(line=5)])).plain.splitlines()
    assert out[0] == "m.py:4:5: DL101 [info] first line second line"
    assert out[1].startswith("m.py:5:5: DL101 [info] Dropout(0.3)")
    assert out[2].startswith("Found 2 findings")
    assert len(out) == 3


def test_severity_colours():
    text = render_concise(report([finding("DL404", Severity.ERROR),
                                  finding("DL405", Severity.WARNING, line=5)]))
    styles = {text.plain[s.start:s.end]: str(s.style) for s in text.spans}
    assert "red" in styles["DL404"] and "yellow" in styles["DL405"]


# ------------------------------------------------------------------------------ json / stats

def test_json_is_the_report_contract():
    r = report([finding()], [site_for("Dropout", {"rate": 0.3}, (None, 30, 8))])
    data = json.loads(render(r, "json"))
    assert data == r.to_dict()
    assert {"droplint", "keras", "keras_source", "findings", "sites", "errors"} <= set(data)
    assert {"code", "name", "severity", "path", "line", "column", "end_line", "end_column",
            "layer", "site", "message", "fix"} <= set(data["findings"][0])
    assert {"id", "path", "line", "column", "layer", "argument", "rate", "input_shape",
            "mask_shape", "drops", "per_sample", "over_time", "masks"} <= set(data["sites"][0])


def test_statistics_text_and_json():
    fs = [finding(), finding(line=5), finding("DL404", Severity.ERROR, fix=False,
                                              name="dropout-rate-out-of-range")]
    opts = RenderOptions(statistics=True)
    rows = json.loads(render(report(fs), "json", opts))
    assert rows[0] == {"code": "DL101", "name": "dropout-on-sequence-input",
                       "severity": "info", "count": 2, "fixable": 0, "unsafe_fixable": 2}
    assert rows[1]["code"] == "DL404" and rows[1]["count"] == 1
    lines = render_statistics(report(fs)).plain.splitlines()
    assert lines[0].split() == ["2", "DL101", "[info]", "dropout-on-sequence-input", "(2",
                                "fixable", "with", "--unsafe-fixes)"]  # unsafe apart (issue 8)
    assert lines[1].split()[:2] == ["1", "DL404"]


# ------------------------------------------------------------------------------ explain pictures

def grid(site, seed=0):
    rows, _ = ex.mask_grid(site, seed)
    return [row[::2] for row in rows]  # one character per cell


def columns(rows):
    return ["".join(r[c] for r in rows) for c in range(len(rows[0]))]


def test_element_dropout_is_speckle():
    rows = grid(site_for("Dropout", {"rate": 0.5}, (None, 16, 8)))
    assert len(rows) == 16 and all(len(r) == 8 for r in rows)
    assert len(set(rows)) > 1  # rows differ: a new pattern at every step
    assert any(len(set(c)) > 1 for c in columns(rows))  # no column is constant everywhere


def test_spatial_dropout_is_vertical_stripes():
    rows = grid(site_for("SpatialDropout1D", {"rate": 0.5}, (None, 16, 8)))
    assert len(set(rows)) == 1  # every timestep the same
    assert ex.DROP in rows[0] and ex.KEEP in rows[0]  # seed 0 drops some, keeps some


def test_timestep_dropout_is_horizontal_rows():
    rows = grid(site_for("Dropout", {"rate": 0.5, "noise_shape": (None, 16, 1)}, (None, 16, 8)))
    assert all(len(set(r)) == 1 for r in rows)  # a whole step kept or dropped
    assert {r[0] for r in rows} == {ex.KEEP, ex.DROP}


def test_keras3_rnn_dropout_same_every_step_tf_keras2_fresh():
    k3 = grid(site_for("LSTM", {"units": 10, "dropout": 0.5}, (None, 16, 8), "dropout"))
    k2 = grid(site_for("LSTM", {"units": 10, "dropout": 0.5}, (None, 16, 8), "dropout",
                       keras=K2))
    assert len(set(k3)) == 1 and len(set(k2)) > 1


def test_rank2_units_is_a_single_row():
    site = site_for("Dropout", {"rate": 0.5}, (None, 10))
    rows = grid(site)
    assert len(rows) == 1 and len(rows[0]) == 10
    pic = ex.picture(site)
    assert "10 units" in pic[0]


def test_recurrent_dropout_single_row_of_state_units():
    site = site_for("LSTM", {"units": 12, "recurrent_dropout": 0.5}, (None, 16, 8),
                    "recurrent_dropout")
    rows = grid(site)
    assert len(rows) == 1 and len(rows[0]) == 12
    assert ex.DROP in rows[0] and ex.KEEP in rows[0]  # a draw that shows both is picked
    assert any("same mask each step" in line for line in ex.picture(site))
    assert any("one of 4 masks" in line for line in ex.picture(site))


def test_truncation_and_unknown_sizes_are_stated():
    big = ex.picture(site_for("Dropout", {"rate": 0.3}, (None, 100, 128)))
    assert any(line == "truncated: showing the first 20 of 100 timesteps and "
               "first 24 of 128 features" for line in big)
    assert sum(1 for line in big if "│" in line) == ex.MAX_ROWS
    unknown = ex.picture(site_for("Dropout", {"rate": 0.3}, (None, None, 8)))
    assert any("number of timesteps unknown statically" in line for line in unknown)
    assert sum(1 for line in unknown if "│" in line) == ex.DEFAULT_ROWS


def test_unknown_pattern_has_no_picture_and_noise_zeroes_nothing():
    from droplint.graph import UNKNOWN

    unknown = site_for("Dropout", {"rate": 0.3, "noise_shape": UNKNOWN}, (None, 10, 8))
    assert ex.picture(unknown)[0].startswith("(no picture")
    # an unknown rate changes how much is dropped, not the pattern: drawn at 0.5, said so
    rate = ex.picture(site_for("Dropout", {"rate": UNKNOWN}, (None, 10, 8)))
    assert "rate unknown, 0.5 shown" in rate[0]
    noise = ex.picture(site_for("GaussianNoise", {"stddev": 0.1}, (None, 6, 4)))
    assert "nothing zeroed" in noise[0] and not any(ex.DROP in line for line in noise[1:])


def test_pictures_are_deterministic_and_depend_on_the_seed():
    site = site_for("Dropout", {"rate": 0.5}, (None, 16, 8))
    assert ex.picture(site, 0) == ex.picture(site, 0)
    assert ex.picture(site, 0) != ex.picture(site, 1)


def test_render_explain_text_and_json():
    sites = [site_for("Dropout", {"rate": 0.3}, (None, 30, 8), sid=0),
             site_for("SpatialDropout1D", {"rate": 0.3}, (None, 30, 8), sid=1)]
    r = report([finding()], sites)
    text = ex.render_explain(r, width=80)
    plain = text.plain
    assert "m.py:4:5: line 4 · site 0 · Dropout(0.3)" in plain
    assert "input (None, 30, 8) -> mask (None, 1, 8)" in plain
    assert "findings: DL101" in plain
    assert plain.splitlines()[-1] == \
        "2 dropout sites in 1 file; explanations assume Keras 3.15.1 (config)."
    assert any("green" in str(s.style) for s in text.spans)
    data = json.loads(ex.render_explain_json(r))
    assert [s["id"] for s in data["sites"]] == [0, 1]
    assert data["sites"][0]["findings"] == ["DL101"] and data["sites"][1]["findings"] == []
    assert data["sites"][1]["picture"] == ex.picture(sites[1])
    assert data["sites"][1]["label"] == "line 4 · site 1 · SpatialDropout1D(0.3)"
    assert "findings" not in data


def test_explain_merges_the_codes_of_a_dropped_duplicate_site_into_the_one_shown():
    twin = [site_for("Dropout", {"rate": 0.3}, (None, 30, 8), sid=i) for i in (0, 1)]
    on_dropped = finding(code="DL102", name="dropout-other")
    on_dropped.site = 1
    r = report([finding(), on_dropped], twin)
    data = json.loads(ex.render_explain_json(r))
    assert [(s["id"], s["findings"]) for s in data["sites"]] == [(0, ["DL101", "DL102"])]
    assert "findings: DL101, DL102" in ex.render_explain(r, width=80).plain
    only_dropped = report([on_dropped], twin)
    assert json.loads(ex.render_explain_json(only_dropped))["sites"][0]["findings"] == ["DL102"]


def test_notebook_frame_uses_the_cell_among_all_cells(tmp_path):
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# title\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["from keras import layers\n", "x = layers.Dropout(0.3)(inputs)\n"]}]}
    p = tmp_path / "nb.ipynb"
    p.write_text(json.dumps(nb))
    f = finding(path=str(p), line=2, column=5, end_column=23, cell=2)
    out = render_full(report([f]), Sources()).plain.splitlines()
    assert out[0] == f"{p}:cell 2:2:5: DL101 [info] dropout-on-sequence-input"
    assert "2 | x = layers.Dropout(0.3)(inputs)" in out


def test_frame_styles_only_the_gutter_and_carets(sources):
    text = render_full(report([finding()]), sources)
    start = text.plain.index("x = layers.Dropout(0.3)(inputs)")
    end = start + len("x = layers.Dropout(0.3)(inputs)")
    assert not [s for s in text.spans if s.start < end and s.end > start]
    assert not text.style  # no base style leaking into the source or the messages


def test_gallery_puts_pictures_side_by_side_with_distinct_draws():
    sites = [
        site_for("Dropout", {"rate": 0.3}, (None, 30, 8), sid=0),
        site_for("SpatialDropout1D", {"rate": 0.3}, (None, 30, 8), sid=1),
        site_for("Dropout", {"rate": 0.3, "noise_shape": (None, 30, 1)}, (None, 30, 8), sid=2),
        site_for("LSTM", {"units": 10, "dropout": 0.3}, (None, 30, 8), "dropout", sid=3),
    ]
    lines = ex.gallery(sites, seed=0, width=200)
    assert lines[0].startswith("side by side")
    for i, title in enumerate(("Dropout(0.3)", "SpatialDropout1D(0.3)", "Dropout(0.3)",
                               "LSTM(dropout=0.3)")):
        assert f"line 4 · site {i}" in lines[1]  # the line and the site id tell them apart
        assert title in lines[2]
    rows = lines[3:3 + ex.GALLERY_ROWS]
    panels = [[cell for cell in row.strip().split("   ") if cell] for row in rows]
    assert all(len(p) == 4 for p in panels)  # four panels on every row
    columns = list(zip(*panels))
    # SpatialDropout1D and LSTM(dropout=) in Keras 3: every row of the panel identical
    assert len(set(columns[1])) == 1 and len(set(columns[3])) == 1
    # timestep dropout: each row is all kept or all dropped
    assert all(set(r.strip().strip("│")) <= {ex.KEEP} or set(r.strip().strip("│")) <= {ex.DROP}
               for r in columns[2])
    # element dropout: rows differ
    assert len(set(columns[0])) > 1
    # each site its own draw: the feature stripes of sites 1 and 3 differ with this seed
    assert columns[1][0] != columns[3][0]


def test_gallery_wraps_to_the_width_and_needs_two_pictures():
    one = [site_for("Dropout", {"rate": 0.3}, (None, 30, 8), sid=0)]
    assert ex.gallery(one) == []
    many = [site_for("Dropout", {"rate": 0.3}, (None, 30, 8), sid=i) for i in range(4)]
    lines = ex.gallery(many, width=60)
    assert all(len(line) <= 60 for line in lines)
    assert sum(1 for line in lines if line.lstrip().startswith("line 4 · site")) >= 2  # bands


def test_quiet_statistics_prints_the_rows_only_like_ruff(cli, tmp_path):
    (tmp_path / "m.py").write_text(SOURCE, encoding="utf-8")
    (tmp_path / "ok.py").write_text("x = 1\n", encoding="utf-8")
    loud = cli("check", "--no-cache", "--statistics", "m.py", cwd=tmp_path).stdout.splitlines()
    quiet = cli("check", "--no-cache", "-q", "--statistics", "m.py", cwd=tmp_path)
    assert loud[-1].startswith("Found 1 finding") and quiet.stdout.splitlines() == loud[:-1]
    assert quiet.stdout.split()[:3] == ["1", "DL101", "[info]"]
    clean = cli("check", "--no-cache", "-q", "--statistics", "ok.py", cwd=tmp_path)
    assert clean.stdout == "" and clean.returncode == 0
