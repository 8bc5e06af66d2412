"""Measures tf.keras 2 dropout masks with droplint.probe and prints them as one JSON object.

Run in a subprocess with TF_USE_LEGACY_KERAS=1 (tests/test_semantics_keras.py does):

    TF_USE_LEGACY_KERAS=1 python tests/tfkeras_probe_script.py

CASES is plain data (importing this module imports no TensorFlow): the test builds droplint's
own Layer from the same spec and compares `semantics.explain(..., keras 2)` with what is
printed here. Keys of the output: "tf_keras" (its version), "cases" (name -> Measured as a dict,
or {"error": ...}), "construct" (name -> what building a layer did) and "config" (name ->
values read back from a built layer's config).
"""
from __future__ import annotations

import json
import os
import sys

SEQ = (None, 6, 5)  # (B, T, F)

# name: (kind, args, inner (kind, args) or None, input shape, argument, batch, expected facts)
# Expected facts are RULES.md section 1 for tf.keras 2, as corrected by measurement.
CASES = {
    "dropout": ("Dropout", {"rate": 0.5}, None, SEQ, None, 4,
                {"mask": (None, 6, 5), "drops": "elements", "per_sample": True,
                 "over_time": "fresh-each-step", "masks": 1}),
    "noise_shape_features": ("Dropout", {"rate": 0.5, "noise_shape": (None, 1, 5)}, None, SEQ,
                             None, 4, {"mask": (None, 1, 5), "drops": "features",
                                       "per_sample": True, "over_time": "same-every-step"}),
    "noise_shape_timesteps": ("Dropout", {"rate": 0.5, "noise_shape": (None, 6, 1)}, None, SEQ,
                              None, 4, {"mask": (None, 6, 1), "drops": "timesteps",
                                        "per_sample": True, "over_time": "fresh-each-step"}),
    "noise_shape_batch_1": ("Dropout", {"rate": 0.5, "noise_shape": (1, 6, 1)}, None, SEQ, None,
                            4, {"mask": (1, 6, 1), "drops": "timesteps", "per_sample": False}),
    "noise_shape_short": ("Dropout", {"rate": 0.5, "noise_shape": (5,)}, None, SEQ, None, 4,
                          {"mask": (1, 1, 5), "drops": "features", "per_sample": False,
                           "over_time": "same-every-step"}),
    "spatial1d": ("SpatialDropout1D", {"rate": 0.5}, None, SEQ, None, 4,
                  {"mask": (None, 1, 5), "drops": "features", "over_time": "same-every-step"}),
    # tf.keras 2 takes noise_shape= through **kwargs and ignores it
    "spatial1d_noise_shape": ("SpatialDropout1D", {"rate": 0.5, "noise_shape": (None, 6, 1)},
                              None, SEQ, None, 4, {"mask": (None, 1, 5), "drops": "features"}),
    "time_distributed": ("TimeDistributed", {}, ("Dropout", {"rate": 0.5}), SEQ, None, 4,
                         {"mask": (None, 6, 5), "drops": "elements",
                          "over_time": "fresh-each-step"}),
    # time folded into the batch: a 1 in the inner batch axis shares across batch AND time
    "time_distributed_noise_shape": ("TimeDistributed", {},
                                     ("Dropout", {"rate": 0.5, "noise_shape": (1, 5)}), SEQ,
                                     None, 4, {"mask": (1, 1, 5), "drops": "features",
                                               "per_sample": False,
                                               "over_time": "same-every-step"}),
    # default cuDNN-eligible path: a (B, T, F) mask, fresh at every step
    "lstm_default": ("LSTM", {"units": 8, "dropout": 0.5}, None, SEQ, "dropout", 4,
                     {"mask": (None, 6, 5), "drops": "elements", "over_time": "fresh-each-step",
                      "masks": 1}),
    "gru_default": ("GRU", {"units": 8, "dropout": 0.5}, None, SEQ, "dropout", 4,
                    {"mask": (None, 6, 5), "drops": "elements", "over_time": "fresh-each-step",
                     "masks": 1}),
    # cell path: the cell caches its masks per call, but in graph mode (fit) the cache is
    # filled inside the while loop: a fresh mask at every step
    "lstm_recurrent_dropout_input": ("LSTM", {"units": 8, "dropout": 0.5,
                                              "recurrent_dropout": 0.5}, None, SEQ, "dropout", 4,
                                     {"mask": (None, 6, 5), "drops": "elements",
                                      "over_time": "fresh-each-step", "masks": 4}),
    "lstm_relu": ("LSTM", {"units": 8, "dropout": 0.5, "activation": "relu"}, None, SEQ,
                  "dropout", 4, {"mask": (None, 6, 5), "drops": "elements",
                                 "over_time": "fresh-each-step", "masks": 1}),
    "lstm_relu_implementation_1": ("LSTM", {"units": 8, "dropout": 0.5, "activation": "relu",
                                            "implementation": 1}, None, SEQ, "dropout", 4,
                                   {"mask": (None, 6, 5), "over_time": "fresh-each-step",
                                    "masks": 4}),
    "gru_reset_after_false": ("GRU", {"units": 8, "dropout": 0.5, "reset_after": False}, None,
                              SEQ, "dropout", 4, {"mask": (None, 6, 5), "drops": "elements",
                                                  "over_time": "fresh-each-step", "masks": 1}),
    "simple_rnn": ("SimpleRNN", {"units": 8, "dropout": 0.5}, None, SEQ, "dropout", 4,
                   {"mask": (None, 6, 5), "over_time": "fresh-each-step", "masks": 1}),
    # unroll=True: no while loop, one mask for every step
    "lstm_unroll": ("LSTM", {"units": 8, "dropout": 0.5, "unroll": True}, None, SEQ, "dropout",
                    4, {"mask": (None, 1, 5), "drops": "features",
                        "over_time": "same-every-step", "masks": 1}),
    "lstm_recurrent_dropout": ("LSTM", {"units": 8, "recurrent_dropout": 0.5}, None, SEQ,
                               "recurrent_dropout", 4,
                               {"mask": (None, 8), "drops": "units",
                                "over_time": "fresh-each-step", "masks": 4}),
    "gru_recurrent_dropout": ("GRU", {"units": 8, "recurrent_dropout": 0.5}, None, SEQ,
                              "recurrent_dropout", 4,
                              {"mask": (None, 8), "drops": "units", "masks": 3}),
    "conv_lstm1d": ("ConvLSTM1D", {"filters": 2, "kernel_size": 3, "padding": "same",
                                   "dropout": 0.5}, None, (None, 5, 6, 3), "dropout", 4,
                    {"mask": (None, 5, 6, 3), "drops": "elements",
                     "over_time": "fresh-each-step", "masks": 4}),
    # rate 1 fails in training: "`rate` must be ... in the range [0, 1)"
    "simple_rnn_dropout_1": ("SimpleRNN", {"units": 8, "dropout": 1.0}, None, SEQ, "dropout", 4,
                             {"raises": "rate"}),
    "dropout_rate_1": ("Dropout", {"rate": 1.0}, None, SEQ, None, 4, {"raises": "rate"}),
}

# the same cases run eagerly (as with run_eagerly=True): the cell path reuses one mask
EAGER = {
    "simple_rnn": {"over_time": "same-every-step"},
    "gru_reset_after_false": {"over_time": "same-every-step"},
    "lstm_recurrent_dropout": {"over_time": "same-every-step"},
}
EAGER_DRAWS = 8

# name: (kind, args) built once; records whether construction raised
CONSTRUCT = {
    "dropout_rate_1.5": ("Dropout", {"rate": 1.5}),
    "dropout_rate_-0.1": ("Dropout", {"rate": -0.1}),
}

# name: (kind, args, config keys read back)
CONFIG = {
    "lstm_dropout_1.5": ("LSTM", {"units": 4, "dropout": 1.5, "recurrent_dropout": -0.5},
                         ("dropout", "recurrent_dropout")),
    "lstm_recurrent_dropout_implementation": ("LSTM", {"units": 4, "recurrent_dropout": 0.2},
                                              ("implementation",)),
}


def build(layers, kind, args, inner=None):
    if inner is not None:
        return getattr(layers, kind)(build(layers, *inner), **args)
    return getattr(layers, kind)(**args)


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tf_keras

    from droplint import probe

    layers = tf_keras.layers
    out = {"tf_keras": tf_keras.__version__, "cases": {}, "eager": {}, "construct": {},
           "config": {}}

    def run(name, **options):
        kind, args, inner, shape, argument, batch, _ = CASES[name]
        try:
            layer = build(layers, kind, args, inner)
            return probe.measure(layer, shape, argument=argument, batch=batch,
                                 **options).to_dict()
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            return {"error": f"{type(exc).__name__}: {exc}"}

    for name in CASES:
        out["cases"][name] = run(name)
    for name in EAGER:
        out["eager"][name] = run(name, eager=True, draws=EAGER_DRAWS)
    for name, (kind, args) in CONSTRUCT.items():
        try:
            build(layers, kind, args)
            out["construct"][name] = {"raised": None}
        except Exception as exc:  # noqa: BLE001 - what Keras raises is the measurement
            out["construct"][name] = {"raised": type(exc).__name__}
    for name, (kind, args, keys) in CONFIG.items():
        layer = build(layers, kind, args)
        layer.build((None, 6, 5))
        config = {**layer.get_config(), "implementation": layer.cell.implementation}
        out["config"][name] = {key: config[key] for key in keys}
    json.dump(out, sys.stdout, default=list)
    return 0


if __name__ == "__main__":
    sys.exit(main())
