"""Small reductions of patterns seen in the real-world corpus (benchmarks/realworld/manifest.toml).

Each reduction in this folder is a few lines written for droplint (never copied from the
corpus), with a header comment naming the pattern and the manifest entry it came from. These
tests assert what droplint says on them today where that is right. What it should say but does
not yet is listed, with the exact expected behaviour, in benchmarks/realworld/reductions_pending.md
(PENDING), not here: every assertion below passes.
"""
from __future__ import annotations

import ast
import json
import re
import shutil
import tomllib
from collections import Counter
from pathlib import Path

import pytest

import droplint

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MANIFEST = ROOT / "benchmarks" / "realworld" / "manifest.toml"
REDUCTIONS = sorted(p for p in HERE.iterdir()
                    if p.suffix in (".py", ".ipynb") and not p.name.startswith(("test_", "__")))
KERAS = "3"
# Reductions whose --fix --unsafe-fixes result is not yet valid (see reductions_pending.md).
FIX_PENDING: set[str] = set()
# Reductions that still give two findings with one code at one position (reductions_pending.md).
DUPLICATE_PENDING: set[str] = set()
PYFLAKES_WATCHED = ("UndefinedName", "UndefinedLocal", "RedefinedWhileUnused", "UnusedImport",
                    "ImportShadowedByLoopVar")


def analyze(name: str):
    return droplint.analyze(str(HERE / name), keras_version=KERAS)


def python_text(path: Path) -> str:
    """The file's Python: for a notebook its code cells, IPython lines and indentation removed
    as IPython does (a cell's common leading indent)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return text
    cells = []
    for cell in json.loads(text)["cells"]:
        if cell["cell_type"] == "code":
            src = "".join(cell["source"])
            lines = ["pass" if re.match(r"\s*[%!]", line) else line for line in src.splitlines()]
            indent = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)
            cells.append("\n".join(l[indent:] for l in lines))
    return "\n\n".join(cells) + "\n"


def pyflakes_names(text: str) -> Counter:
    from pyflakes import checker

    found = checker.Checker(ast.parse(text), filename="x.py").messages
    return Counter((type(m).__name__, tuple(map(str, m.message_args))) for m in found
                   if type(m).__name__ in PYFLAKES_WATCHED)


def errors(report) -> Counter:
    return Counter(f.code for f in report.findings if f.severity.value == "error")


def run_fix(cli, *paths: Path) -> None:
    """--fix --unsafe-fixes on files of one folder, in one run (each file is fixed on its own)."""
    proc = cli("check", "--fix", "--unsafe-fixes", "--keras-version", KERAS, "--no-color",
               "--exit-zero", *map(str, paths), cwd=paths[0].parent)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def fix_copies(cli, names, folder: Path) -> dict[str, Path]:
    """The named reductions copied into `folder` and fixed there: {name: the fixed copy}."""
    copies = {name: Path(shutil.copyfile(HERE / name, folder / name)) for name in names}
    run_fix(cli, *copies.values())
    return copies


@pytest.fixture(scope="module")
def fixed(cli, tmp_path_factory) -> dict[str, Path]:
    """Every reduction, copied and fixed once with --fix --unsafe-fixes."""
    return fix_copies(cli, [path.name for path in REDUCTIONS], tmp_path_factory.mktemp("fixed"))


def site_rows(report) -> list[tuple]:
    return [(s.line, s.column, s.argument, s.layer, tuple(s.input_shape or ()), s.drops,
             s.per_sample, s.over_time) for s in report.sites]


# --- every reduction -------------------------------------------------------------------------

def test_every_reduction_names_its_pattern_and_a_manifest_entry():
    repos = {entry["repo"] for entry in tomllib.loads(MANIFEST.read_text())["file"]}
    assert len(REDUCTIONS) >= 10
    for path in REDUCTIONS:
        head = path.read_text(encoding="utf-8")[:1200]
        assert "Pattern:" in head, path.name
        named = [repo for repo in repos if repo in head]
        assert named, f"{path.name} names no manifest repository"


@pytest.mark.parametrize("path", [p for p in REDUCTIONS if p.name not in DUPLICATE_PENDING],
                         ids=lambda p: p.name)
def test_no_two_findings_with_one_code_at_one_position(path):
    report = analyze(path.name)
    keys = Counter((f.cell, f.line, f.column, f.code) for f in report.findings)
    assert [k for k, n in keys.items() if n > 1] == []


@pytest.mark.parametrize("path", [p for p in REDUCTIONS if p.name not in FIX_PENDING],
                         ids=lambda p: p.name)
def test_fix_keeps_the_file_valid(path, fixed):
    before = analyze(path.name)
    before_text, after_text = python_text(HERE / path.name), python_text(fixed[path.name])
    ast.parse(after_text)
    assert pyflakes_names(after_text) - pyflakes_names(before_text) == Counter()
    after = droplint.analyze(str(fixed[path.name]), keras_version=KERAS)
    assert errors(after) - errors(before) == Counter()


def test_fix_is_idempotent_on_the_reductions(cli, fixed, tmp_path):
    for name, path in fixed.items():
        shutil.copyfile(path, tmp_path / name)
    run_fix(cli, *(tmp_path / name for name in fixed))
    for name, path in fixed.items():
        assert (tmp_path / name).read_bytes() == path.read_bytes(), name


# --- one pattern each ------------------------------------------------------------------------

def test_builder_called_four_times_is_one_site_and_one_finding():
    report = analyze("builder_called_twice.py")
    assert [(s.line, s.layer, s.input_shape, s.drops) for s in report.sites] == [
        (11, "Dropout", [None, 8], "units")]
    assert [(f.code, f.line) for f in report.findings] == [("DL405", 11)]


def test_loop_over_known_sizes_reports_recurrent_dropout_once():
    report = analyze("loop_same_layer_twice.py")
    assert Counter(f.code for f in report.findings) == Counter({"DL301": 1})
    # the two input-dropout applications differ (32 then 200 input features): two sites
    inputs = sorted(tuple(s.input_shape) for s in report.sites if s.argument == "dropout")
    assert inputs == [(None, 50, 32), (None, 50, 200)]


def test_identical_layers_built_in_a_loop_are_one_site():
    report = analyze("loop_same_layer_twice.py")
    assert sorted((s.argument, tuple(s.input_shape)) for s in report.sites) == [
        ("dropout", (None, 50, 32)), ("dropout", (None, 50, 200)),
        ("recurrent_dropout", (None, 100))]
    # the two state dropouts ((None, 100) both times) are one site that says it runs twice
    assert [s.argument for s in report.sites if "2 identical copies" in s.description] == [
        "recurrent_dropout"]


def test_builder_called_in_a_range_loop_is_one_site():
    report = analyze("builder_in_loop.py")
    assert [(s.line, s.column, s.layer, s.input_shape, s.drops) for s in report.sites] == [
        (15, 9, "SpatialDropout1D", [None, None, 300], "features")]
    assert "one site for 2 identical copies" in report.sites[0].description


def test_keras1_helper_called_by_a_never_called_builder_is_read_with_its_arguments():
    report = analyze("keras1_rnn_builder.py")
    assert [(s.line, s.column, s.argument, s.rate, s.input_shape, s.drops)
            for s in report.sites] == [
        (19, 16, "dropout", 0.2, [None, None, 100], "features"),
        (19, 16, "recurrent_dropout", 0.2, [None, 150], "units"),
        (19, 16, "dropout", 0.2, [None, None, 150], "features")]
    assert "2 identical copies" in report.sites[2].description  # layers 2 and 3
    found = [(f.code, f.line, f.column) for f in report.findings]
    assert found == [("DL309", 18, 24), ("DL301", 18, 43), ("DL309", 18, 43)]
    assert [f.message.split(")")[0] for f in report.findings if f.code == "DL309"] == [
        "LSTM(dropout_W=0.2", "LSTM(dropout_U=0.2"]


def test_unknown_rate_with_known_shape_states_what_is_dropped():
    report = analyze("unknown_rate_known_rank.py")
    assert [(s.line, s.column, s.argument, s.rate, s.mask_shape, s.drops, s.per_sample,
             s.over_time) for s in report.sites] == [
        (11, 9, None, None, [None, 40, 32], "elements", True, "fresh-each-step"),
        (12, 18, "dropout", None, [None, 1, 32], "features", True, "same-every-step")]
    keras2 = droplint.analyze(str(HERE / "unknown_rate_known_rank.py"), keras_version="2")
    assert [(s.drops, s.over_time) for s in keras2.sites] == [
        ("elements", "fresh-each-step"), ("elements", "fresh-each-step")]
    unknown_shape = droplint.analyze_source(
        "from keras.layers import Dropout\ndef f(r, x):\n    return Dropout(r)(x)\n", "r.py",
        keras_version=KERAS)
    assert [(s.drops, s.per_sample) for s in unknown_shape.sites] == [("unknown", True)]


def test_embedding_with_an_unpacked_shape_is_no_keras1_dropout():
    report = analyze("embedding_starred_shape.py")
    assert [f.code for f in report.findings if f.code == "DL309"] == []
    assert site_rows(report) == [
        (11, 9, None, "SpatialDropout1D", (None, None, None), "features", True,
         "same-every-step")]


def test_conv1d_after_partial_input_shape_is_known():
    report = analyze("conv1d_partial_shape.py")
    assert site_rows(report) == [
        (12, 15, None, "Dropout", (None, None, 48), "elements", True, "fresh-each-step"),
        (14, 15, None, "Dropout", (None, None, 128), "elements", True, "fresh-each-step")]
    assert [(f.code, f.line) for f in report.findings] == [("DL101", 12), ("DL102", 14)]


def test_embedding_without_input_length_first_in_sequential_is_known():
    report = analyze("embedding_no_length_sequential.py")
    assert site_rows(report) == [
        (9, 5, None, "Dropout", (None, None, 64), "elements", True, "fresh-each-step")]
    assert [f.code for f in report.findings] == ["DL103"]


def test_concatenate_with_a_2d_input_gives_rank_2():
    report = analyze("concatenate_rank.py")
    rows = [(s.line, len(s.input_shape), s.drops, s.per_sample) for s in report.sites]
    assert rows == [(15, 2, "units", True), (17, 2, "units", True)]
    assert report.sites[1].input_shape == [None, 200]


def test_cudnn_through_module_attribute_in_a_loop_is_dl303_once():
    report = analyze("cudnn_attribute_in_loop.py")
    assert [(f.code, f.line) for f in report.findings if f.code == "DL303"] == [("DL303", 14)]


def test_cudnn_fix_through_module_attribute_renames_the_call(fixed):
    text = fixed["cudnn_attribute_in_loop.py"].read_text()
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not any("CuDNNLSTM" in line for line in code)
    assert "keras.layers.LSTM(n, return_sequences=" in text


def test_cudnn_inside_bidirectional_is_dl303_at_each_construction():
    report = analyze("cudnn_in_bidirectional.py")
    assert [(f.line, f.column) for f in report.findings if f.code == "DL303"] == [(11, 23), (13, 23)]


def test_cudnn_inside_bidirectional_fix_renames_every_use_and_the_import(fixed):
    text = fixed["cudnn_in_bidirectional.py"].read_text()
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not any("CuDNNGRU" in line for line in code)
    assert "from keras.layers import Bidirectional, GRU, " in text
    assert text.count("Bidirectional(GRU(units") == 2


def test_keras1_dropout_arguments_are_findings_and_sites():
    report = analyze("keras1_dropout_args.py")
    assert [(f.code, f.line, f.column, f.fix is not None) for f in report.findings
            if f.code == "DL309"] == [("DL309", 8, 50, False), ("DL309", 9, 21, True),
                                      ("DL309", 9, 36, True)]
    assert [(s.argument, s.drops, s.over_time) for s in report.sites] == [
        ("dropout", "features", "same-every-step"), ("recurrent_dropout", "units", "same-every-step")]


def test_keras1_dropout_arguments_fix_renames_them(cli, tmp_path):
    copy = tmp_path / "keras1_dropout_args.py"
    shutil.copyfile(HERE / copy.name, copy)
    proc = cli("check", "--fix", "--keras-version", KERAS, "--no-color", "--exit-zero", str(copy),
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr  # as check=True did
    text = copy.read_text()
    assert "model.add(LSTM(128, dropout=0.2, recurrent_dropout=0.2))" in text
    assert "dropout=0.2))" in text.splitlines()[7]  # Embedding(dropout=) has no automatic fix


def test_dropout_object_applied_to_3d_and_2d_is_two_sites():
    """The loader knows both shapes: the precondition a rank-changing fix must check."""
    report = analyze("dropout_applied_twice_fix.py")
    shapes = sorted(len(s.input_shape) for s in report.sites)
    assert shapes == [2, 3]
    assert len({(s.line, s.column) for s in report.sites}) == 1


def test_isinstance_branch_keeps_the_reachable_recurrent_dropout():
    report = analyze("isinstance_branch.py")
    assert ("DL301", 13) in [(f.code, f.line) for f in report.findings]


def test_isinstance_branch_excluded_by_a_known_tuple_reports_nothing():
    report = analyze("isinstance_branch.py")
    assert [f.code for f in report.findings if f.code == "DL105"] == []
    assert sorted((s.line, s.argument) for s in report.sites) == [
        (12, "dropout"), (12, "recurrent_dropout")]


def test_rank_changing_fix_refused_for_a_dropout_applied_to_3d_and_2d(fixed):
    assert fixed["dropout_applied_twice_fix.py"].read_bytes() == (
        HERE / "dropout_applied_twice_fix.py").read_bytes()
    report = analyze("dropout_applied_twice_fix.py")
    assert [(f.code, f.line, f.column) for f in report.findings] == [("DL102", 13, 21)]


def test_timedistributed_unwrap_keeps_the_name(fixed):
    text = fixed["timedistributed_dropout_name.py"].read_text()
    assert 'x = Dropout(0.5, name="shared_dropout")(x)' in text


def test_fix_imports_from_the_public_path_not_tensorflow_python(fixed):
    text = fixed["private_import_path.py"].read_text()
    assert "from tensorflow.keras.layers import SpatialDropout1D" in text
    private = [line for line in text.splitlines() if "tensorflow.python.keras.layers" in line]
    assert private and not any("SpatialDropout1D" in line or "Dropout," in line
                               for line in private)


def test_unused_cudnn_import_fix_leaves_one_lstm(fixed):
    text = fixed["cudnn_unused_import.py"].read_text()
    imports = [line for line in text.splitlines() if line.startswith("from tensorflow.keras.layers")]
    assert len(imports) == 1
    names = [n.strip() for n in imports[0].split("import", 1)[1].split(",")]
    assert names.count("LSTM") == 1 and "CuDNNLSTM" not in names


def test_builder_method_reached_twice_is_each_site_once():
    report = analyze("method_builder_called_by_fit.py")
    assert [(s.line, s.column, s.argument) for s in report.sites] == [
        (18, 24, None), (19, 39, "dropout"), (19, 52, "recurrent_dropout")]
    assert Counter(f.code for f in report.findings) == Counter({"DL301": 1, "DL305": 1})


def test_notebook_reduction_still_reports_the_model_cell():
    report = analyze("notebook_leading_indent.ipynb")
    assert [(f.code, f.cell) for f in report.findings if f.code == "DL102"] == [("DL102", 2)]


def test_notebook_cell_with_a_leading_indent_is_no_syntax_error(fixed):
    report = analyze("notebook_leading_indent.ipynb")
    assert [f.code for f in report.findings] == ["DL102"]
    before = json.loads((HERE / "notebook_leading_indent.ipynb").read_text())["cells"][2]
    after = json.loads(fixed["notebook_leading_indent.ipynb"].read_text())["cells"][2]
    assert after["source"] == before["source"] == [" history = model.fit(None, None, epochs=1)"]


def test_sequential_encoder_used_as_a_layer_is_not_the_model_output():
    report = analyze("sequential_encoder_as_layer.py")
    assert [(s.line, s.input_shape, s.drops) for s in report.sites] == [(7, [None, 32], "units")]
    assert [f.code for f in report.findings if f.code == "DL401"] == []


def test_keras1_merge_branch_dropout_is_known():
    report = analyze("keras1_merge_branches.py")
    assert [(s.line, s.input_shape, s.drops) for s in report.sites] == [
        (11, [None, 68, 50], "elements"), (21, [None, 50], "units")]
    assert ("DL103", 11) in [(f.code, f.line) for f in report.findings]


def test_keras1_branch_merged_with_merge_is_not_the_model_output():
    report = analyze("keras1_merge_branches.py")
    assert sorted((f.code, f.line, f.column) for f in report.findings) == [("DL103", 11, 13)]


def test_no_cudnn_activation_advice_where_recurrent_dropout_rules_cudnn_out():
    report = analyze("relu_gru_with_recurrent_dropout.py")
    codes = [(f.code, f.line) for f in report.findings]
    assert ("DL301", 9) in codes
    assert [c for c in codes if c[0] == "DL302"] == []


# --- claims checked against real Keras -------------------------------------------------------

def _dropout_inputs(model) -> list[tuple]:
    import keras

    return [tuple(layer.input.shape) for layer in model.layers
            if isinstance(layer, keras.layers.Dropout)]


@pytest.mark.keras
def test_partial_shapes_match_real_keras():
    """The input shapes droplint states for the partial-shape reductions are Keras 3's."""
    import numpy as np

    ns: dict = {}
    exec(compile((HERE / "conv1d_partial_shape.py").read_text(), "conv1d", "exec"), ns)
    model = ns["build"](np.zeros((2, 9, 3)))
    claimed = [tuple(s.input_shape) for s in analyze("conv1d_partial_shape.py").sites]
    assert _dropout_inputs(model) == claimed

    ns = {}
    exec(compile((HERE / "embedding_no_length_sequential.py").read_text(), "emb", "exec"), ns)
    ns["model"].build((None, None))
    claimed = [tuple(s.input_shape) for s in analyze("embedding_no_length_sequential.py").sites]
    assert _dropout_inputs(ns["model"]) == claimed
