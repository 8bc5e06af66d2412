"""RULES.md section 1 against real Keras.

Every observable row is built as a real layer, run in training mode on ones by droplint.probe
(which reads which entries the output no longer depends on), and compared with
`semantics.explain` for a droplint Layer built from the same arguments. Keras 3 runs in this
process; tf.keras 2 runs once in a subprocess (TF_USE_LEGACY_KERAS=1,
tests/tfkeras_probe_script.py), started with the first test that needs Keras so that it runs
alongside the Keras 3 tests.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from droplint import probe
from droplint.graph import Layer, Origin
from droplint.keras_version import parse
from droplint.semantics import explain

pytestmark = [pytest.mark.keras, pytest.mark.xdist_group(name="keras")]

SCRIPT = Path(__file__).with_name("tfkeras_probe_script.py")


def _load_script():
    spec = importlib.util.spec_from_file_location("tfkeras_probe_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TF2 = _load_script()  # plain data and builders; imports no TensorFlow
KERAS2 = parse("2")
SEQ = (None, 6, 5)
R = 0.5  # rates high enough that a few draws show every pattern
# Counting k masks of rate R reads the fraction dropped (R**k): cases expecting 4 masks on a
# (B, 1, F) mask run with batch 8, for enough distinct entries to tell 4 from 3 or 5.

# name: (kind, args, inner (kind, args) or None, input shape, argument, batch, expected)
# Expected: RULES.md section 1 for Keras 3 (as corrected by measurement); "mask" uses None
# for the batch axis.
KERAS3_CASES = {
    "dropout": ("Dropout", {"rate": R}, None, SEQ, None, 4,
                {"mask": (None, 6, 5), "drops": "elements", "per_sample": True,
                 "over_time": "fresh-each-step", "masks": 1}),
    "dropout_after_last_state": ("Dropout", {"rate": R}, None, (None, 8), None, 4,
                                 {"mask": (None, 8), "drops": "units", "per_sample": True,
                                  "over_time": None}),
    "dropout_one_feature": ("Dropout", {"rate": R}, None, (None, 6, 1), None, 4,
                            {"mask": (None, 6, 1), "drops": "timesteps",
                             "over_time": "fresh-each-step"}),
    "noise_shape_features": ("Dropout", {"rate": R, "noise_shape": (None, 1, 5)}, None, SEQ,
                             None, 4, {"mask": (None, 1, 5), "drops": "features",
                                       "per_sample": True, "over_time": "same-every-step"}),
    "noise_shape_timesteps": ("Dropout", {"rate": R, "noise_shape": (None, 6, 1)}, None, SEQ,
                              None, 4, {"mask": (None, 6, 1), "drops": "timesteps",
                                        "per_sample": True, "over_time": "fresh-each-step"}),
    "noise_shape_samples": ("Dropout", {"rate": R, "noise_shape": (None, 1, 1)}, None, SEQ,
                            None, 4, {"mask": (None, 1, 1), "drops": "samples",
                                      "per_sample": True}),
    "noise_shape_batch_1": ("Dropout", {"rate": R, "noise_shape": (1, 6, 1)}, None, SEQ, None,
                            4, {"mask": (1, 6, 1), "drops": "timesteps", "per_sample": False,
                                "over_time": "fresh-each-step"}),
    "noise_shape_int_batch": ("Dropout", {"rate": R, "noise_shape": (4, 6, 5)}, None, SEQ,
                              None, 4, {"mask": (4, 6, 5), "drops": "elements",
                                        "per_sample": True}),
    "noise_shape_short": ("Dropout", {"rate": R, "noise_shape": (5,)}, None, SEQ, None, 4,
                          {"mask": (1, 1, 5), "drops": "features", "per_sample": False,
                           "over_time": "same-every-step"}),
    "spatial1d": ("SpatialDropout1D", {"rate": R}, None, SEQ, None, 4,
                  {"mask": (None, 1, 5), "drops": "features", "per_sample": True,
                   "over_time": "same-every-step"}),
    "spatial1d_one_feature": ("SpatialDropout1D", {"rate": R}, None, (None, 6, 1), None, 4,
                              {"mask": (None, 1, 1), "drops": "samples"}),
    "spatial2d": ("SpatialDropout2D", {"rate": R}, None, (None, 4, 5, 3), None, 4,
                  {"mask": (None, 1, 1, 3), "drops": "channels", "over_time": None}),
    "spatial2d_channels_first": ("SpatialDropout2D",
                                 {"rate": R, "data_format": "channels_first"}, None,
                                 (None, 3, 4, 5), None, 4,
                                 {"mask": (None, 3, 1, 1), "drops": "channels"}),
    "spatial3d": ("SpatialDropout3D", {"rate": R}, None, (None, 3, 4, 5, 2), None, 4,
                  {"mask": (None, 1, 1, 1, 2), "drops": "channels"}),
    "time_distributed": ("TimeDistributed", {}, ("Dropout", {"rate": R}), SEQ, None, 4,
                         {"mask": (None, 6, 5), "drops": "elements", "per_sample": True,
                          "over_time": "fresh-each-step"}),
    # Keras 3 calls the inner layer once per step: shared across the batch, fresh per step
    "time_distributed_noise_shape": ("TimeDistributed", {},
                                     ("Dropout", {"rate": R, "noise_shape": (1, 5)}), SEQ,
                                     None, 4, {"mask": (1, 6, 5), "drops": "elements",
                                               "per_sample": False,
                                               "over_time": "fresh-each-step"}),
    "lstm": ("LSTM", {"units": 8, "dropout": R}, None, SEQ, "dropout", 4,
             {"mask": (None, 1, 5), "drops": "features", "per_sample": True,
              "over_time": "same-every-step", "masks": 1}),
    "gru": ("GRU", {"units": 8, "dropout": R}, None, SEQ, "dropout", 4,
            {"mask": (None, 1, 5), "drops": "features", "over_time": "same-every-step",
             "masks": 1}),
    "simple_rnn": ("SimpleRNN", {"units": 8, "dropout": R}, None, SEQ, "dropout", 4,
                   {"mask": (None, 1, 5), "drops": "features", "over_time": "same-every-step",
                    "masks": 1}),
    "lstm_one_feature": ("LSTM", {"units": 8, "dropout": R}, None, (None, 6, 1), "dropout", 4,
                         {"mask": (None, 1, 1), "drops": "samples"}),
    # recurrent_dropout > 0 forces implementation=1: one input mask per gate
    "lstm_with_recurrent_dropout": ("LSTM", {"units": 8, "dropout": R, "recurrent_dropout": R},
                                    None, SEQ, "dropout", 8,
                                    {"mask": (None, 1, 5), "over_time": "same-every-step",
                                     "masks": 4}),
    "gru_with_recurrent_dropout": ("GRU", {"units": 8, "dropout": R, "recurrent_dropout": R},
                                   None, SEQ, "dropout", 4,
                                   {"mask": (None, 1, 5), "over_time": "same-every-step",
                                    "masks": 3}),
    "lstm_implementation_1": ("LSTM", {"units": 8, "dropout": R, "implementation": 1,
                                       "use_cudnn": False}, None, SEQ, "dropout", 8,
                              {"mask": (None, 1, 5), "masks": 4}),
    "lstm_recurrent_dropout": ("LSTM", {"units": 8, "recurrent_dropout": R}, None, SEQ,
                               "recurrent_dropout", 4,
                               {"mask": (None, 8), "drops": "units", "per_sample": True,
                                "over_time": "same-every-step", "masks": 4}),
    "gru_recurrent_dropout": ("GRU", {"units": 8, "recurrent_dropout": R}, None, SEQ,
                              "recurrent_dropout", 4,
                              {"mask": (None, 8), "drops": "units",
                               "over_time": "same-every-step", "masks": 3}),
    "simple_rnn_recurrent_dropout": ("SimpleRNN", {"units": 8, "recurrent_dropout": R}, None,
                                     SEQ, "recurrent_dropout", 4,
                                     {"mask": (None, 8), "drops": "units",
                                      "over_time": "same-every-step", "masks": 1}),
    "conv_lstm1d": ("ConvLSTM1D", {"filters": 2, "kernel_size": 3, "padding": "same",
                                   "dropout": R}, None, (None, 5, 6, 3), "dropout", 4,
                    {"mask": (None, 1, 6, 3), "drops": "elements", "per_sample": True,
                     "over_time": "same-every-step", "masks": 4}),
    "bidirectional": ("Bidirectional", {}, ("LSTM", {"units": 4, "dropout": R}), SEQ,
                      "dropout", 4, {"mask": (None, 1, 5), "drops": "features",
                                     "over_time": "same-every-step", "masks": 1}),
    "gaussian_dropout": ("GaussianDropout", {"rate": R}, None, SEQ, None, 4, {"drops": "noise"}),
    "gaussian_noise": ("GaussianNoise", {"stddev": 0.3}, None, SEQ, None, 4, {"drops": "noise"}),
    "alpha_dropout": ("AlphaDropout", {"rate": R}, None, SEQ, None, 4,
                      {"mask": (None, 6, 5), "drops": "elements", "per_sample": True,
                       "over_time": "fresh-each-step", "masks": 1}),
    "dropout_rate_0": ("Dropout", {"rate": 0.0}, None, SEQ, None, 4,
                       {"drops": "none", "masks": 0}),
    "lstm_dropout_0": ("LSTM", {"units": 8, "dropout": 0.0}, None, SEQ, "dropout", 4,
                       {"drops": "none", "masks": 0}),
    # LSTM/GRU apply dropout only when 0 < rate < 1; rates are clipped to [0, 1]
    "lstm_dropout_1": ("LSTM", {"units": 8, "dropout": 1.0}, None, SEQ, "dropout", 4,
                       {"drops": "none"}),
    "lstm_dropout_clipped": ("LSTM", {"units": 8, "dropout": 1.5}, None, SEQ, "dropout", 4,
                             {"drops": "none"}),
    # SimpleRNN applies any rate > 0: with 1 (1.5 clipped) it zeros every input
    "simple_rnn_dropout_clipped": ("SimpleRNN", {"units": 8, "dropout": 1.5}, None, SEQ,
                                   "dropout", 4, {"measured": "all", "drops": "features"}),
    "dropout_rate_1": ("Dropout", {"rate": 1.0}, None, SEQ, None, 4,
                       {"measured": "all", "drops": "elements"}),
}


# ------------------------------------------------------------------------------------------
# Helpers


def ours(kind, args, inner=None) -> Layer:
    """droplint's Layer for the same constructor call."""
    return Layer(kind, dict(args), Origin("<test>"), inner=ours(*inner) if inner else None)


def from_dict(d: dict) -> probe.Measured:
    """A Measured read back from the subprocess' JSON (lists back to tuples)."""
    shape = d["mask_shape"]
    return probe.Measured(**{**d, "input_shape": tuple(d["input_shape"]),
                             "mask_shape": None if shape is None else tuple(shape)})


def check(expect: dict, claimed, measured: probe.Measured) -> None:
    """Semantics agrees with the measurement, and both with the expected facts."""
    assert probe.compare(claimed, measured) == [], (claimed, measured)
    if "measured" in expect:
        assert measured.drops == expect["measured"]
    if "mask" in expect:
        assert claimed.mask_shape == expect["mask"]
        run = tuple(n if e is None else e for e, n in zip(expect["mask"], measured.input_shape))
        assert measured.mask_shape == run
    for key in ("drops", "per_sample", "over_time", "masks"):
        if key in expect:
            assert getattr(claimed, key) == expect[key], key
            if "measured" not in expect:  # a measurement that dropped all shows no pattern
                assert getattr(measured, key) == expect[key], key


# ------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def tf2_process():
    """The tf.keras 2 measurements, started early so that they run alongside Keras 3."""
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen([sys.executable, str(SCRIPT)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            cwd=str(SCRIPT.parent.parent))
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


@pytest.fixture(scope="module")
def tf2(tf2_process) -> dict:
    out, err = tf2_process.communicate(timeout=600)
    assert tf2_process.returncode == 0, err[-3000:]
    return json.loads(out)


@pytest.fixture(scope="module")
def keras(tf2_process):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


@pytest.fixture(scope="module")
def keras3(keras):
    """The installed Keras 3 version, the one explain() is asked about."""
    version = parse(keras.__version__, source="installed")
    assert version.is_keras3
    return version


def run(keras, name, **options) -> tuple:
    kind, args, inner, shape, argument, batch, expect = KERAS3_CASES[name]
    real = TF2.build(keras.layers, kind, args, inner)
    measured = probe.measure(real, shape, argument=argument, batch=batch, **options)
    return real, measured, expect


# ------------------------------------------------------------------------------------------
# Keras 3, in this process


@pytest.mark.parametrize("name", list(KERAS3_CASES))
def test_keras3_agrees_with_semantics(name, keras, keras3):
    kind, args, inner, shape, argument, _, expect = KERAS3_CASES[name]
    _, measured, _ = run(keras, name)
    check(expect, explain(ours(kind, args, inner), shape, keras3, argument), measured)


def test_keras3_int_batch_in_noise_shape_fails_on_other_batches(keras):
    layer = keras.layers.Dropout(R, noise_shape=(4, 6, 5))
    assert probe.measure(layer, SEQ, batch=4).per_sample is True
    for batch in (3, 8):
        with pytest.raises(probe.ProbeError, match="fails in training"):
            probe.measure(keras.layers.Dropout(R, noise_shape=(4, 6, 5)), SEQ, batch=batch)


def test_keras3_longer_noise_shape(keras, keras3):
    """RULES says a noise_shape longer than the rank silently raises the output's rank. That
    holds for eager calls only; in graph mode (fit) Keras 3 raises ValueError."""
    import numpy as np

    layer = keras.layers.Dropout(R, noise_shape=(None, 1, 1, 1))
    eager = layer(np.ones((4, 6, 5), "float32"), training=True)
    assert tuple(eager.shape) == (4, 4, 6, 5)
    with pytest.raises(probe.ProbeError, match="equal rank"):
        probe.measure(layer, SEQ)
    claimed = explain(ours("Dropout", {"rate": R, "noise_shape": (None, 1, 1, 1)}), SEQ, keras3)
    assert claimed.drops == "unknown" and claimed.mask_shape is None


@pytest.mark.parametrize("rate", [1.5, -0.1])
def test_keras3_dropout_rate_out_of_range_fails_at_construction(rate, keras, keras3):
    with pytest.raises(ValueError):
        keras.layers.Dropout(rate)
    assert explain(ours("Dropout", {"rate": rate}), SEQ, keras3).drops == "unknown"


@pytest.mark.parametrize("args", [{"noise_shape": (None, 1, 5)}, {"data_format": "channels_last"}])
def test_keras3_spatial_dropout_1d_refuses_noise_shape(args, keras, keras3):
    with pytest.raises(TypeError):
        keras.layers.SpatialDropout1D(R, **args)
    assert explain(ours("SpatialDropout1D", {"rate": R, **args}), SEQ, keras3).drops == "unknown"


def test_keras3_rnn_rates_are_clipped(keras):
    layer = keras.layers.LSTM(4, dropout=1.5, recurrent_dropout=-0.5)
    config = layer.get_config()
    assert (config["dropout"], config["recurrent_dropout"]) == (1.0, 0.0)


def test_keras3_implementation_1_with_dropout_fails_in_training(keras, keras3):
    """DL307: LSTM(dropout>0, recurrent_dropout=0, implementation=1), default use_cudnn."""
    layer = keras.layers.LSTM(8, dropout=R, implementation=1)
    with pytest.raises(probe.ProbeError, match="(?i)rank of input|at most rank 3"):
        probe.measure(layer, SEQ)
    assert keras3.at_least(3, 8)


@pytest.mark.parametrize("kind", ["Dropout", "LSTM"])
def test_keras3_same_int_seed_draws_identical_masks(kind, keras, keras3):
    def make(seed):
        if kind == "Dropout":
            return keras.layers.Dropout(R, seed=seed)
        return keras.layers.LSTM(8, dropout=R, seed=seed)

    argument = None if kind == "Dropout" else "dropout"
    seeded = [probe.measure(make(seed), SEQ, argument=argument).fingerprint
              for seed in (7, 7, 8)]
    assert seeded[0] == seeded[1] != seeded[2]
    args = {"rate": R, "seed": 7} if kind == "Dropout" else {"units": 8, "dropout": R, "seed": 7}
    masks = {explain(ours(kind, args), SEQ, keras3, argument).mask_shape for _ in range(2)}
    assert len(masks) == 1  # the same mask shape: DL409's condition


@pytest.mark.parametrize("inner, argument, identical", [
    (("LSTM", {"units": 4, "dropout": R, "seed": 3}), "dropout", True),
    (("LSTM", {"units": 4, "recurrent_dropout": R, "seed": 3}), "recurrent_dropout", True),
    (("LSTM", {"units": 4, "dropout": R}), "dropout", False),
    # SimpleRNN's config does not keep its seed: the backward copy is unseeded
    (("SimpleRNN", {"units": 4, "dropout": R, "seed": 3}), "dropout", False),
])
def test_keras3_bidirectional_seeded_directions(inner, argument, identical, keras):
    layer = keras.layers.Bidirectional(TF2.build(keras.layers, *inner))
    measured = probe.measure(layer, SEQ, argument=argument)
    assert measured.directions_identical is identical


def test_probe_reports_layers_it_cannot_run(keras):
    with pytest.raises(probe.ProbeError, match="SpatialDropout1D"):
        probe.measure(keras.layers.SpatialDropout1D(R), (None, 8))  # DL104: rank 2
    with pytest.raises(probe.ProbeError, match="no 'dropout' argument"):
        probe.measure(keras.layers.Dropout(R), SEQ, argument="dropout")
    with pytest.raises(probe.ProbeError, match="not a Keras layer"):
        probe.measure(object(), SEQ)


def test_probe_unknown_sizes_and_picture(keras):
    measured = probe.measure(keras.layers.Dropout(R, noise_shape=(None, 1, None)),
                             (None, None, 5), batch=3)
    assert measured.input_shape == (3, probe.DEFAULT_SIZE, 5)
    assert measured.mask_shape == (3, 1, 5)
    assert any("unknown statically" in note for note in measured.notes)
    picture = measured.picture
    assert len(picture) == probe.DEFAULT_SIZE and all(row == picture[0] for row in picture)
    assert {cell for row in picture for cell in row} <= {0, 1}
    json.dumps(measured.to_dict())  # plain data, for the JSON report


def test_compare_words_disagreements(keras, keras3):
    """compare() says in plain words where a claim and a measurement differ."""
    measured = run(keras, "lstm")[1]
    tf2_claim = explain(ours("LSTM", {"units": 8, "dropout": R}), SEQ, KERAS2, "dropout")
    problems = probe.compare(tf2_claim, measured)
    assert any("time axis" in p for p in problems)
    assert any("over time" in p for p in problems)
    none = explain(ours("Dropout", {"rate": 0.0}), SEQ, keras3)
    dropout = run(keras, "dropout")[1]
    said = ("droplint says the mask drops none; running it, Keras drops elements "
            f"({dropout.dropped_fraction:.0%} of entries) "
            "(impossible if droplint were right)")
    assert probe.compare(none, dropout) == [said]


# ------------------------------------------------------------------------------------------
# tf.keras 2, in one subprocess


def test_tf_keras_is_version_2(tf2):
    assert tf2["tf_keras"].startswith("2.")
    assert KERAS2.major == 2


@pytest.mark.parametrize("name", list(TF2.CASES))
def test_tf_keras_agrees_with_semantics(name, tf2):
    kind, args, inner, shape, argument, _, expect = TF2.CASES[name]
    measured = tf2["cases"][name]
    claimed = explain(ours(kind, args, inner), shape, KERAS2, argument)
    if "raises" in expect:
        assert "error" in measured and expect["raises"] in measured["error"]
        assert claimed.drops == "unknown"
        return
    assert "error" not in measured, measured
    check(expect, claimed, from_dict(measured))


@pytest.mark.parametrize("name", list(TF2.EAGER))
def test_tf_keras_cell_path_reuses_its_mask_only_when_eager(name, tf2):
    """RULES says the tf.keras 2 cell path uses the same mask at every step: true for eager
    calls (run_eagerly=True), not in graph mode, which is how `fit` runs."""
    eager, graph = tf2["eager"][name], tf2["cases"][name]
    assert "error" not in eager, eager
    assert eager["over_time"] == TF2.EAGER[name]["over_time"] == "same-every-step"
    assert graph["over_time"] == "fresh-each-step"


def test_tf_keras_construction_and_config(tf2):
    assert tf2["construct"] == {"dropout_rate_1.5": {"raised": "ValueError"},
                                "dropout_rate_-0.1": {"raised": "ValueError"}}
    assert tf2["config"]["lstm_dropout_1.5"] == {"dropout": 1.0, "recurrent_dropout": 0.0}
    # recurrent_dropout > 0 forces implementation=1, so every gate gets its own masks
    assert tf2["config"]["lstm_recurrent_dropout_implementation"] == {"implementation": 1}


def test_probe_puts_python_and_numpy_generators_back(keras):
    """A probe inside fit (DroplintCallback(probe=True)) must not reseed the user's shuffling."""
    import random

    import numpy as np

    layer = keras.layers.Dropout(0.3)  # built first: an unseeded layer draws its seed here
    random.seed(1234)
    np.random.seed(1234)
    expected = (random.random(), np.random.random())
    random.seed(1234)
    np.random.seed(1234)
    probe.measure(layer, (None, 5, 4), seed=7, draws=4)
    assert (random.random(), np.random.random()) == expected


# A fully known noise_shape on an input of unknown shape (issue 7): droplint takes the input's
# rank from the noise_shape; the real layer, run in training on ones, shows the same pattern.
NOISE_SHAPES = [(1, 5, 1), (None, 1, 3), (None, 5, None), (1, 1, 3), (None, 5, 1)]
HIDDEN_INPUT_SOURCE = (
    "from keras.layers import Input, Dropout, Dense\n"
    "x = Input(shape=X.shape[1:])\n"
    + "".join(f"d{i} = Dropout(0.3, noise_shape={ns!r})(x)\n"
              for i, ns in enumerate(NOISE_SHAPES)))


def _zeros_pattern(noise_shape, shape=(4, 5, 3), draws=8) -> tuple:
    """(drops, per_sample, over_time) read from the zeros of a real Keras 3 Dropout."""
    import keras
    import numpy as np
    keras.utils.set_random_seed(0)
    layer = keras.layers.Dropout(0.5, noise_shape=noise_shape)
    zeros = np.stack([keras.ops.convert_to_numpy(layer(np.ones(shape, "float32"),
                                                       training=True)) == 0
                      for _ in range(draws)])
    varies = [bool((zeros != zeros.take([0], axis=1 + a)).any()) for a in range(3)]
    batch, time, feature = varies
    drops = {(True, True): "elements", (False, True): "features",
             (True, False): "timesteps", (False, False): "samples"}[(time, feature)]
    return drops, batch, "fresh-each-step" if time else "same-every-step"


def test_known_noise_shape_on_unknown_input_matches_keras3():
    import droplint
    report = droplint.analyze_source(HIDDEN_INPUT_SOURCE, "m.py", keras_version="3").to_dict()
    sites = report["sites"]
    assert len(sites) == len(NOISE_SHAPES)
    for site, noise_shape in zip(sites, NOISE_SHAPES):
        assert site["input_shape"] == [None, None, None]
        assert "rank 3 from its noise_shape" in site["description"]
        claimed = (site["drops"], site["per_sample"], site["over_time"])
        assert claimed == _zeros_pattern(noise_shape), noise_shape
