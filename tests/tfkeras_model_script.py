"""Builds tf.keras 2 models and prints droplint's reports as one JSON object.

Run in a subprocess with TF_USE_LEGACY_KERAS=1 (tests/test_model_loader.py does), so that
`tf.keras` is tf_keras, as a user of TensorFlow >= 2.16 with legacy Keras would have it:

    TF_USE_LEGACY_KERAS=1 python tests/tfkeras_model_script.py OUT_DIR

Keys: "tf_keras" (its version), one report per live model, one per saved file (h5 and a
SavedModel directory, written to OUT_DIR), and "callback" (what DroplintCallback raised).
"""
from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

import droplint  # noqa: E402
from droplint.api import check_paths  # noqa: E402
from droplint.config import Settings  # noqa: E402

keras = tf.keras
layers = keras.layers


def functional():
    inputs = keras.Input((30, 8), name="series")
    x = layers.Dropout(0.3, name="drop_in")(inputs, training=True)
    x = layers.LSTM(16, dropout=0.2, return_sequences=True, name="lstm_a")(x)
    x = layers.Bidirectional(layers.GRU(4, dropout=0.1), name="bi")(x)
    outputs = layers.Dense(1, name="head")(x)
    return keras.Model(inputs, outputs, name="functional_tf2")


def sequential():
    return keras.Sequential([
        layers.Input((20, 4)),
        layers.LSTM(8, return_sequences=True, recurrent_dropout=0.2, name="lstm_rd"),
        layers.TimeDistributed(layers.Dropout(0.2, noise_shape=(1, 8)), name="td"),
        layers.LSTM(8, name="lstm_b"),
        layers.Dropout(0.5, name="drop_out"),
    ], name="sequential_tf2")


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="subclassed_tf2")
        self.drop = layers.Dropout(0.2, name="inner_drop")
        self.rnn = layers.LSTM(4, dropout=0.1, name="inner_lstm")

    def call(self, x, training=None):
        return self.rnn(self.drop(x, training=training), training=training)


def callback_result(model) -> dict:
    from droplint.keras import DroplintCallback, DroplintError

    model.compile(optimizer="sgd", loss="mse")
    x = tf.zeros((4, 20, 4))
    y = tf.zeros((4, 1))
    callback = DroplintCallback(raise_on="warning", verbose=False)
    # the Keras Callback class it derives from (droplint's own mixins come first in the MRO)
    base = next(c.__module__ for c in type(callback).__mro__
                if c.__module__.split(".")[0] in ("keras", "tf_keras"))
    try:
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    except DroplintError as exc:
        return {"raised": True, "codes": sorted({f.code for f in exc.report.findings}),
                "base": base}
    return {"raised": False, "base": base}


def main(out_dir: str) -> None:
    import tf_keras

    result = {"tf_keras": tf_keras.__version__,
              "model_module": keras.Model.__module__.split(".")[0]}
    f = functional()
    s = sequential()
    sub = Subclassed()
    sub(tf.zeros((2, 10, 3)))
    for name, model in (("functional", f), ("sequential", s), ("subclassed", sub)):
        result[name] = droplint.analyze(model).to_dict()
    h5 = os.path.join(out_dir, "functional_tf2.h5")
    f.save(h5)
    savedmodel = os.path.join(out_dir, "sequential_tf2_savedmodel")
    s.save(savedmodel, save_format="tf")
    result["h5_path"] = h5
    dense = keras.Sequential([layers.Input((6,)), layers.Dense(4), layers.Dropout(0.9, name="d")])
    result["dense_h5_path"] = os.path.join(out_dir, "dense_tf2.h5")
    dense.save(result["dense_h5_path"])
    result["h5"] = check_paths([h5], Settings()).to_dict()
    result["savedmodel"] = check_paths([savedmodel], Settings()).to_dict()
    result["callback"] = callback_result(s)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
