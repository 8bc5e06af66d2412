"""Model files from the shell: .keras and .h5 round trips, Lambda refused without running it,
--unsafe-load, corrupt files, and model files mixed with .py files in one run."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import droplint  # noqa: E402
from droplint.api import check_paths  # noqa: E402
from droplint.config import Settings  # noqa: E402

pytestmark = pytest.mark.keras  # needs TensorFlow/Keras (in-process or a subprocess)

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
ENV.pop("TF_USE_LEGACY_KERAS", None)
CLI_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_USE_LEGACY_KERAS": None}  # ENV, for cli(env=)
MARKER_VAR = "DROPLINT_TEST_MARKER"


def keyed(report) -> list[tuple]:
    return [(f.code, f.severity.value, f.layer_name) for f in report.findings]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One model saved as .keras and .h5, a Lambda model whose function writes a marker file,
    and broken files."""
    import keras
    from keras import layers

    folder = tmp_path_factory.mktemp("models")
    inputs = keras.Input((30, 8))
    x = layers.Dropout(0.3, name="drop_in")(inputs)
    x = layers.LSTM(16, dropout=0.2, return_sequences=True, name="lstm_a")(x)
    x = layers.Dropout(0.2, noise_shape=(1, 30, 1), name="drop_steps")(x)
    x = layers.LSTM(8, name="lstm_b")(x)
    outputs = layers.Dropout(0.85, name="drop_out")(x)
    model = keras.Model(inputs, outputs, name="forecaster")
    model.save(folder / "model.keras")
    model.save(folder / "model.h5")

    marker = folder / "lambda_ran.txt"
    os.environ[MARKER_VAR] = ENV[MARKER_VAR] = str(marker)  # where the Lambda writes, when run
    lam_in = keras.Input((4, 2))
    lam = layers.Lambda(
        lambda t: (open(__import__("os").environ["DROPLINT_TEST_MARKER"], "w").close(), t)[1],
        name="lam")(lam_in)
    lam_model = keras.Model(lam_in, layers.Dropout(0.1, name="after_lambda")(lam))
    lam_model.save(folder / "lambda.keras")
    lam_model.save(folder / "lambda.h5")
    marker.unlink()  # building and saving ran the function; loading must not

    data = (folder / "model.keras").read_bytes()
    (folder / "truncated.keras").write_bytes(data[: len(data) // 2])
    h5 = (folder / "model.h5").read_bytes()
    (folder / "truncated.h5").write_bytes(h5[: len(h5) // 3])
    (folder / "notes.keras").write_text("this is not a model\n")
    (folder / "empty.h5").write_bytes(b"")
    return {"folder": folder, "model": model, "marker": marker}


def test_keras_and_h5_round_trips_match_the_live_model(files):
    live = droplint.analyze(files["model"])
    assert {"DL101", "DL201", "DL405"} <= set(live.codes())
    for name in ("model.keras", "model.h5"):
        path = str(files["folder"] / name)
        report = check_paths([path], Settings())
        assert keyed(report) == keyed(live), name
        assert [s.to_dict()["mask_shape"] for s in report.sites] == \
            [s.to_dict()["mask_shape"] for s in live.sites]
        assert {f.path for f in report.findings} == {path}
        assert report.keras == live.keras and report.keras_source == "installed"


def test_analyze_accepts_a_model_path(files):
    report = droplint.analyze(files["folder"] / "model.keras")
    assert keyed(report) == keyed(droplint.analyze(files["model"]))


@pytest.mark.parametrize("name", ["lambda.keras", "lambda.h5"])
def test_lambda_model_is_refused_without_running_it(files, name):
    report = check_paths([str(files["folder"] / name)], Settings())
    (finding,) = report.findings
    assert finding.code == "DL901" and finding.severity.value == "error"
    assert "Lambda" in finding.message and "--unsafe-load" in finding.message
    assert not files["marker"].exists()


@pytest.mark.parametrize("name", ["lambda.keras", "lambda.h5"])
def test_unsafe_load_loads_and_runs_the_lambda(files, name):
    try:
        report = check_paths([str(files["folder"] / name)], Settings(), unsafe_load=True)
        assert "DL901" not in report.codes()
        assert [s.layer_name for s in report.sites] == ["after_lambda"]
        assert files["marker"].exists()  # proof that the refusal above is what kept it from running
    finally:
        files["marker"].unlink(missing_ok=True)


@pytest.mark.parametrize("name, words", [
    ("truncated.keras", "corrupt .keras file"),
    ("truncated.h5", "corrupt or unreadable h5 file"),
    ("notes.keras", "not a Keras model file"),
    ("empty.h5", "not a Keras model file"),
])
def test_broken_files_are_dl901_findings(files, name, words):
    report = check_paths([str(files["folder"] / name)], Settings())
    (finding,) = report.findings
    assert finding.code == "DL901" and words in finding.message
    assert report.errors == []


def test_cli_mixes_python_and_model_files_and_never_imports_tensorflow_for_refusals(cli, files):
    folder = files["folder"]
    (folder / "train.py").write_text(
        "from keras import layers\nlayer = layers.Dropout(1.0)\n", encoding="utf-8")
    proc = cli("--format", "json", "train.py", "model.keras", "truncated.h5", cwd=folder,
               env=CLI_ENV)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    by_path = {}
    for f in data["findings"]:
        by_path.setdefault(f["path"], set()).add(f["code"])
    assert by_path["train.py"] == {"DL404"}
    assert "DL101" in by_path["model.keras"] and by_path["truncated.h5"] == {"DL901"}
    assert "Traceback" not in proc.stderr

    # A refused or broken file is answered before TensorFlow is imported.
    probe = ("import sys; from droplint.api import check_paths; "
             "r = check_paths(['lambda.keras', 'truncated.keras', 'notes.keras']); "
             "print(sorted(set(r.codes())), 'tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=folder, env=ENV, timeout=120)
    assert out.stdout.split() == ["['DL901']", "False", "False"], out.stderr


def test_cli_unsafe_load_flag(cli, files):
    try:
        proc = cli("--format", "json", "--unsafe-load", "lambda.keras",
                   cwd=files["folder"], env=CLI_ENV)
        data = json.loads(proc.stdout)
        assert "DL901" not in {f["code"] for f in data["findings"]}
        assert [s["layer_name"] for s in data["sites"]] == ["after_lambda"]
    finally:
        files["marker"].unlink(missing_ok=True)


def test_cli_probe(cli, files):
    proc = cli("probe", "model.keras", cwd=files["folder"], env=CLI_ENV)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.count("claimed:") == out.count("measured:") == 4
    assert out.count("agrees") == 4 and "DL902" not in out
    assert "4 of 4 dropout sites probed, 0 disagree" in out
    bad = cli("probe", "train.py", cwd=files["folder"], env=CLI_ENV)
    assert bad.returncode == 2 and "probe takes model files" in bad.stderr
    refused = cli("probe", "lambda.keras", cwd=files["folder"], env=CLI_ENV)
    assert refused.returncode == 1 and "--unsafe-load" in refused.stdout
