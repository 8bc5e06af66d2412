"""The built-model side on every Keras 3 backend installed here: analyze(model), probe, a
saved .keras file and DroplintCallback under KERAS_BACKEND=jax (and torch when installed) give
the findings and sites they give under TensorFlow.

Each backend runs this file as a script in its own process (a backend is chosen once per
process). JAX and PyTorch run with TensorFlow and tf_keras made unimportable, as on a machine
with only that backend: droplint must not need TensorFlow there. Where a measurement exists on
TensorFlow only (an RNN's masks, read from gradients), the report must say so in a note."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib.util import find_spec
from pathlib import Path

import pytest

pytestmark = pytest.mark.keras
ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ["jax"] + (["torch"] if find_spec("torch") is not None else [])
DROPOUT_LAYERS = {"Dropout", "SpatialDropout1D"}


# --- the script: one backend, one process ---------------------------------------------------

def _block_tensorflow() -> None:
    """Make TensorFlow and tf_keras unimportable in this process (`import` raises
    ModuleNotFoundError, `importlib.util.find_spec` says None), as where they are not
    installed."""
    for name in ("tensorflow", "tf_keras"):
        sys.modules[name] = None


def _build(keras):
    from keras import layers

    inp = keras.Input((12, 5))
    x = layers.Dropout(0.3)(inp)
    x = layers.SpatialDropout1D(0.2)(x)
    x = layers.LSTM(6, dropout=0.2, recurrent_dropout=0.3)(x)
    return keras.Model(inp, layers.Dense(1)(x))


def _plain(report) -> dict:
    d = report.to_dict()
    for item in d["findings"] + d["sites"]:
        item.pop("probe", None)
        item["path"] = os.path.basename(item["path"])  # each process saves in its own folder
    return {"findings": d["findings"], "sites": d["sites"]}


def script(workdir: str) -> dict:
    import tempfile

    import keras
    import numpy as np

    import droplint
    from droplint.keras import DroplintCallback

    keras.utils.set_random_seed(0)
    model = _build(keras)
    out = {"backend": keras.backend.backend(), "analyze": _plain(droplint.analyze(model))}
    probed = droplint.analyze(model, probe=True)
    out["probe"] = {"codes": probed.codes(), "notes": probed.notes,
                    "sites": [s.probe and {k: s.probe[k] for k in
                                           ("mask_shape", "drops", "per_sample", "over_time")}
                              for s in probed.sites]}
    path = os.path.join(tempfile.mkdtemp(dir=workdir), "model.keras")
    model.save(path)
    out["file"] = _plain(droplint.analyze(path))
    callback = DroplintCallback(verbose=False)
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(np.ones((4, 12, 5), "float32"), np.ones((4, 1), "float32"), epochs=1,
                        batch_size=4, verbose=0, callbacks=[callback])
    out["fit_steps"] = len(history.history["loss"])
    out["callback"] = _plain(callback.report)
    out["modules"] = sorted(m for m in ("tensorflow", "tf_keras", "jax", "torch")
                            if sys.modules.get(m) is not None)  # None: blocked
    return out


# --- the tests ------------------------------------------------------------------------------

def _run(backend: str, tmp: Path) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
           "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
    env.pop("TF_USE_LEGACY_KERAS", None)
    proc = subprocess.run([sys.executable, __file__, str(tmp)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("backends")
    names = ["tensorflow", *BACKENDS]
    with ThreadPoolExecutor(len(names)) as pool:
        return dict(zip(names, pool.map(lambda b: _run(b, tmp), names)))


def test_reference_runs_on_tensorflow(results):
    ref = results["tensorflow"]
    assert ref["backend"] == "tensorflow"
    codes = [f["code"] for f in ref["analyze"]["findings"]]
    assert "DL101" in codes and "DL301" in codes
    assert [(s["layer"], s["argument"]) for s in ref["analyze"]["sites"]] == [
        ("Dropout", None), ("SpatialDropout1D", None), ("LSTM", "dropout"),
        ("LSTM", "recurrent_dropout")]
    assert "DL902" not in ref["probe"]["codes"]
    assert all(p is not None for p in ref["probe"]["sites"])  # every site measured


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_gives_the_same_findings_and_sites(results, backend):
    ref, got = results["tensorflow"], results[backend]
    assert got["backend"] == backend
    assert "tensorflow" not in got["modules"] and backend in got["modules"]
    for part in ("analyze", "file", "callback"):
        assert got[part] == ref[part], part
    assert got["fit_steps"] == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_probe_measures_dropout_layers_and_says_what_it_cannot(results, backend):
    ref, got = results["tensorflow"], results[backend]
    assert got["probe"]["codes"] == ref["probe"]["codes"]  # no DL902 either
    sites = got["analyze"]["sites"]
    for site, measured, expected in zip(sites, got["probe"]["sites"], ref["probe"]["sites"]):
        if site["layer"] in DROPOUT_LAYERS:
            assert measured == expected, site
        else:  # an RNN's masks need gradients: not measured, and the report says why
            assert measured is None
            assert any(f"layer '{site['layer_name']}'" in n and f"on the {backend} backend" in n
                       and "KERAS_BACKEND=tensorflow" in n for n in got["probe"]["notes"])


if __name__ == "__main__":
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        _block_tensorflow()
    print(json.dumps(script(sys.argv[1])))
