"""DroplintCallback in fit() of real models: a tf_keras (tf.keras 2) model and a Keras 3 model,
each in a fresh process with and without TF_USE_LEGACY_KERAS (which decides the callback's
base class). Issue 11: a Keras 3 callback in tf_keras' fit raised
`AttributeError: _implements_train_batch_hooks`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.keras

REPO = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent('''
    import io, json, os, sys
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    if sys.argv[1] == "tf_keras":
        import tf_keras as K
    else:
        import keras as K
    from droplint.keras import DroplintCallback, DroplintError

    def model():
        inputs = K.Input((6, 3))
        x = K.layers.LSTM(4)(inputs)
        x = K.layers.Dense(1)(x)
        outputs = K.layers.Dropout(0.2)(x)  # DL401 (warning): dropout on the output
        m = K.Model(inputs, outputs)
        m.compile(optimizer="sgd", loss="mse")
        return m

    x, y = np.zeros((8, 6, 3), "float32"), np.zeros((8, 1), "float32")
    out = {"model": type(model()).__module__.split(".")[0]}
    stream = io.StringIO()
    cb = DroplintCallback(stream=stream)
    history = model().fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[cb])
    out["epochs"] = len(history.history["loss"])
    out["codes"] = sorted({f.code for f in cb.report.findings})
    out["printed"] = stream.getvalue()
    out["base"] = [c.__module__.split(".")[0] for c in type(cb).__mro__]
    try:
        model().fit(x, y, epochs=1, verbose=0,
                    callbacks=[DroplintCallback(raise_on="warning", verbose=False)])
        out["raised"] = False
    except DroplintError as exc:
        out["raised"] = True
        out["raised_codes"] = sorted({f.code for f in exc.report.findings})
    print("RESULT " + json.dumps(out))
''')


def run(kind: str, legacy: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    if legacy:
        env["TF_USE_LEGACY_KERAS"] = "1"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, kind], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [line] = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    return json.loads(line[len("RESULT "):])


@pytest.mark.parametrize("kind", ["tf_keras", "keras"])
@pytest.mark.parametrize("legacy", [False, True], ids=["keras3-base", "legacy-base"])
def test_callback_trains_and_reports_with_both_keras(kind: str, legacy: bool):
    out = run(kind, legacy)
    assert out["model"] == kind  # the model really is of that Keras
    assert out["base"][2] == ("tf_keras" if legacy else "keras")  # the base class chosen
    assert out["epochs"] == 2  # fit ran to the end with the callback in it
    assert "DL401" in out["codes"]
    assert "DL401" in out["printed"]
    assert out["raised"] is True and "DL401" in out["raised_codes"]
