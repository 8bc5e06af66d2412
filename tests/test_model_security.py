"""Hostile model files: nothing from a file runs without --unsafe-load, and a broken file is a
DL901 finding for that path, never an internal error.

The attack from issue 10: a file that is a zip at offset 0 (a harmless Keras 3 config.json) and
an HDF5 file after a user block (a tf.keras 2 model whose Lambda writes a marker file), named
evil.h5. tf_keras' legacy HDF5 loader ignores safe_mode, so under TF_USE_LEGACY_KERAS=1 the
Lambda's bytecode runs if the file reaches it. Every file here is generated with real Keras 3,
tf_keras (in a subprocess) and h5py."""
from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.keras

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from droplint.api import check_paths  # noqa: E402
from droplint.config import Settings  # noqa: E402
from droplint.loaders import model_file  # noqa: E402

MARKER_VAR = "DROPLINT_TEST_MARKER"

# Runs under TF_USE_LEGACY_KERAS=1: tf.keras is tf_keras. Writes, into argv[1]:
# lambda_ub{512,1024,4096}.h5: a Lambda model in an HDF5 file with that user block (zeros);
# lambda.h5: the same without a user block; nested.h5: the Lambda inside an inner model;
# savedmodel/: a harmless tf_keras SavedModel.
GENERATOR = r'''
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import h5py
import tensorflow as tf
keras = tf.keras
out = sys.argv[1]
def lam():
    return keras.layers.Lambda(
        lambda t: (open(__import__("os").environ["DROPLINT_TEST_MARKER"], "w").close(), t)[1],
        name="lam")
inp = keras.Input((4, 2))
model = keras.Model(inp, keras.layers.Dropout(0.1, name="after")(lam()(inp)))
for ub in (512, 1024, 4096):
    with h5py.File(os.path.join(out, f"lambda_ub{ub}.h5"), "w", userblock_size=ub) as f:
        model.save(f)
model.save(os.path.join(out, "lambda.h5"))
inner_in = keras.Input((4, 2))
inner = keras.Model(inner_in, lam()(inner_in), name="inner")
outer_in = keras.Input((4, 2))
keras.Model(outer_in, keras.layers.Dropout(0.2)(inner(outer_in))).save(
    os.path.join(out, "nested.h5"))
plain_in = keras.Input((4, 2))
plain = keras.Model(plain_in, keras.layers.Dropout(0.3, name="drop")(plain_in))
plain.save(os.path.join(out, "savedmodel"), save_format="tf")
'''


def _env(legacy: bool, marker: Path) -> dict:
    """What changes in os.environ (for `cli(env=)`: None removes the variable)."""
    return {"TF_CPP_MIN_LOG_LEVEL": "2", MARKER_VAR: str(marker),
            "TF_USE_LEGACY_KERAS": "1" if legacy else None}


def harmless_keras_zip() -> bytes:
    """A real Keras 3 config.json (a Dropout model) in a zip, small enough for a user block."""
    import keras

    model = keras.Sequential([keras.Input((4, 2)), keras.layers.Dropout(0.1, name="harmless")])
    config = json.dumps(keras.saving.serialize_keras_object(model))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("config.json", config)
        archive.writestr("metadata.json", json.dumps({"keras_version": keras.__version__}))
    return buf.getvalue()


def polyglot(zip_bytes: bytes, h5_bytes: bytes, userblock: int) -> bytes:
    """The zip's entries in the HDF5 user block (offset 0), its central directory after the
    HDF5 data, the end record pointing at it: a valid zip and a valid HDF5 file at once."""
    end = zip_bytes.rindex(b"PK\x05\x06")
    (cd_offset,) = struct.unpack("<I", zip_bytes[end + 16:end + 20])
    entries, directory = zip_bytes[:cd_offset], bytearray(zip_bytes[cd_offset:])
    assert len(entries) <= userblock and h5_bytes[:userblock] == bytes(userblock)
    body = entries + bytes(userblock - len(entries)) + h5_bytes[userblock:]
    tail = len(directory) - 22
    directory[tail + 16:tail + 20] = struct.pack("<I", len(body))
    return body + bytes(directory)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    marker = folder / "lambda_ran.txt"
    proc = subprocess.run([sys.executable, "-c", GENERATOR, str(folder)], capture_output=True,
                          text=True, env={**os.environ, **_env(True, marker)}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    marker.unlink()  # building and saving ran the Lambda; nothing after this may
    zip_bytes = harmless_keras_zip()
    for ub in (512, 1024, 4096):
        h5 = (folder / f"lambda_ub{ub}.h5").read_bytes()
        (folder / f"evil_ub{ub}.h5").write_bytes(polyglot(zip_bytes, h5, ub))
    (folder / "evil.keras").write_bytes(polyglot(zip_bytes, (folder / "lambda_ub1024.h5")
                                                 .read_bytes(), 1024))
    # HDF5 at offset 0, a zip appended after it (zip readers find the end record).
    appended = folder / "appended.h5"
    appended.write_bytes((folder / "lambda.h5").read_bytes())
    with zipfile.ZipFile(appended, "a") as archive:
        archive.writestr("config.json",
                         zipfile.ZipFile(io.BytesIO(zip_bytes)).read("config.json"))
    (folder / "h5_named.keras").write_bytes((folder / "lambda.h5").read_bytes())
    (folder / "zip_named.h5").write_bytes(zip_bytes)
    return {"folder": folder, "marker": marker}


def test_the_payload_is_live(cli, files):
    """Control: loaded with --unsafe-load under tf_keras, the Lambda really writes the marker,
    so the marker's absence in the other tests means the refusal kept it from running."""
    marker = files["marker"]
    try:
        proc = cli("check", "--unsafe-load", "lambda_ub1024.h5", cwd=files["folder"],
                   env=_env(True, marker))
        assert "DL901" not in proc.stdout, proc.stdout + proc.stderr
        assert marker.exists()
    finally:
        marker.unlink(missing_ok=True)


@pytest.mark.parametrize("command", ["check", "explain", "probe"])
@pytest.mark.parametrize("legacy", [True, False])
def test_polyglot_is_refused_and_its_lambda_never_runs(cli, files, command, legacy):
    names = ["evil_ub512.h5", "evil_ub1024.h5", "evil_ub4096.h5", "evil.keras", "appended.h5"]
    proc = cli(command, *names, cwd=files["folder"], env=_env(legacy, files["marker"]))
    assert not files["marker"].exists()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr  # explain reports files it cannot read on stderr
    assert out.count("refusing an ambiguous file") == len(names), out
    assert "Traceback" not in out


@pytest.mark.parametrize("legacy", [True, False])
def test_name_and_content_must_agree(cli, files, legacy):
    proc = cli("check", "--format", "json", "h5_named.keras", "zip_named.h5",
               cwd=files["folder"], env=_env(legacy, files["marker"]))
    assert not files["marker"].exists()
    messages = {f["path"]: f["message"] for f in json.loads(proc.stdout)["findings"]}
    assert "named .keras but it is an HDF5 file" in messages["h5_named.keras"]
    assert "named .h5 but it is a .keras archive" in messages["zip_named.h5"]


@pytest.mark.parametrize("command", ["check", "explain", "probe"])
def test_hdf5_lambdas_are_refused_before_the_legacy_loader_under_tf_keras(cli, files, command):
    proc = cli(command, "lambda.h5", "nested.h5", cwd=files["folder"],
               env=_env(True, files["marker"]))
    assert not files["marker"].exists()
    out = proc.stdout + proc.stderr
    assert out.count("refusing to load: the model contains code (Lambda layer 'lam'; a serialized Python lambda)") == 2, out


def test_the_loaded_model_is_the_inspected_copy(files, monkeypatch):
    """The file on disk is swapped for the Lambda model after inspection: what loads is the
    private copy that was inspected (the harmless model), and the Lambda does not run."""
    import shutil

    folder = files["folder"]
    target = folder / "swapped.h5"
    harmless = folder / "harmless.h5"
    import keras

    keras.Sequential([keras.Input((4, 2)), keras.layers.Dropout(0.4, name="kept")]).save(harmless)
    shutil.copy(harmless, target)
    real_read = model_file.read_config

    def read_then_swap(path, kind):
        config = real_read(path, kind)
        shutil.copy(folder / "lambda.h5", target)  # an attacker rewrites the file now
        return config

    monkeypatch.setattr(model_file, "read_config", read_then_swap)
    monkeypatch.setenv(MARKER_VAR, str(files["marker"]))
    report = check_paths([str(target)], Settings())
    assert [s.layer_name for s in report.sites] == ["kept"]
    assert not files["marker"].exists()


# ------------------------------------------------------------------------------------------
# The config walk


def test_unsafe_objects_reads_every_code_carrier():
    import keras

    @keras.saving.register_keras_serializable(package="evil")
    class Mine(keras.layers.Layer):
        pass

    model = keras.Sequential([keras.Input((4,)), Mine(name="mine"),
                              keras.layers.Dense(2, activation="relu", name="dense")])
    config = keras.saving.serialize_keras_object(model)
    assert model_file.unsafe_objects(config) == [f"an object from module {Mine.__module__}"]
    (mine,) = [entry for entry in config["config"]["layers"] if entry["class_name"] == "Mine"]
    mine["module"] = "keras.layers"  # a Keras module, a class registered outside Keras
    assert model_file.unsafe_objects(config) == ["custom object evil>Mine"]
    plain = keras.saving.serialize_keras_object(
        keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="dense")]))
    assert model_file.unsafe_objects(plain) == []
    dense = plain["config"]["layers"][-1]
    dense["config"]["activation"] = {"module": "builtins", "class_name": "function",
                                     "config": "exec", "registered_name": None}
    assert model_file.unsafe_objects(plain) == ["an object from module builtins"]
    dense["config"]["activation"] = {"module": "keras.src.utils.file_utils",
                                     "class_name": "function", "config": "get_file",
                                     "registered_name": None}
    assert model_file.unsafe_objects(plain) == [
        "a function reference keras.src.utils.file_utils.get_file"]
    dense["config"]["activation"] = {"class_name": "TFOpLambda",
                                     "config": {"function": "io.write_file"}}
    assert model_file.unsafe_objects(plain) == ["TFOpLambda calling tf.io.write_file"]
    dense["config"]["activation"] = {"module": "keras.layers", "class_name": "TFSMLayer",
                                     "config": {"name": "sm", "filepath": "/elsewhere"}}
    assert model_file.unsafe_objects(plain) == ["TFSMLayer layer 'sm'"]


# ------------------------------------------------------------------------------------------
# Broken files: a DL901 finding each, short messages


def _write_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    import h5py
    import keras
    import numpy as np

    folder = tmp_path_factory.mktemp("broken")
    model = keras.Sequential([keras.Input((4, 2)), keras.layers.Dropout(0.1)])
    model.save(folder / "good.keras")
    model.save(folder / "good.h5")
    with zipfile.ZipFile(folder / "bomb.keras", "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("config.json", "w", force_zip64=True) as member:
            member.write(b'{"x": "')
            chunk = b" " * 2**20
            for _ in range(512):
                member.write(chunk)
            member.write(b'"}')
    good = zipfile.ZipFile(folder / "good.keras")
    members = {n: good.read(n) for n in good.namelist()}
    buf = io.BytesIO()
    _write_zip(buf, members)  # type: ignore[arg-type]
    data = bytearray(buf.getvalue())
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):  # mark every member encrypted (bit 0)
        start = 0
        while (i := data.find(sig, start)) >= 0:
            flag_at = i + (6 if sig == b"PK\x03\x04" else 8)
            data[flag_at] |= 1
            start = i + 4
    (folder / "encrypted.keras").write_bytes(bytes(data))
    _write_zip(folder / "deep.keras", {"config.json": b"[" * 5000 + b"]" * 5000})
    _write_zip(folder / "twice.keras", {"config.json": members["config.json"]})
    with zipfile.ZipFile(folder / "twice.keras", "a") as archive:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            archive.writestr("config.json", b"{}")
    for name, value in [("int", 5), ("array", np.array([b"{}", b"{}"])),
                        ("deep", "[" * 5000 + "]" * 5000)]:
        path = folder / f"config_{name}.h5"
        with h5py.File(path, "w") as f:
            f.attrs["model_config"] = value
    (folder / "x.keras").mkdir()
    return folder


@pytest.mark.parametrize("name, words", [
    ("bomb.keras", "refusing a possible zip bomb: 'config.json' inflates from"),
    ("encrypted.keras", "encrypted member"),
    ("deep.keras", "nested"),
    ("twice.keras", "two members named 'config.json'"),
    ("config_int.h5", "model_config is a int64, not a JSON text"),
    ("config_array.h5", "model_config is an array of shape (2,), not a JSON text"),
    ("config_deep.h5", "nested"),
    ("x.keras", "a folder without saved_model.pb"),
])
def test_broken_model_files_are_short_dl901_findings(broken, name, words):
    report = check_paths([str(broken / name)], Settings())
    (finding,) = report.findings
    assert finding.code == "DL901" and words in finding.message, finding.message
    assert len(finding.message) < 600 and report.errors == []


def test_garbage_keras_metadata_is_a_finding(files, tmp_path):
    import shutil

    folder = tmp_path / "savedmodel"
    shutil.copytree(files["folder"] / "savedmodel", folder)
    (folder / "keras_metadata.pb").write_bytes(b"\xff\xfe garbage \x00" * 100)
    report = check_paths([str(folder)], Settings())
    (finding,) = report.findings
    assert finding.code == "DL901" and "corrupt keras_metadata.pb" in finding.message


def test_good_files_still_load(broken):
    report = check_paths([str(broken / "good.keras"), str(broken / "good.h5")], Settings())
    assert "DL901" not in report.codes() and len(report.sites) == 2
