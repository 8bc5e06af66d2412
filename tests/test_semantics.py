"""semantics.explain / describe without Keras: the rows of RULES.md section 1 (as measured in
tests/test_semantics_keras.py) plus what no CPU run can show: other Keras versions, unknown
values, and the tf.keras 2 cuDNN decision."""
from __future__ import annotations

import pytest

from droplint.graph import UNKNOWN, Layer, Origin
from droplint.keras_version import parse
from droplint.semantics import (Mask, cudnn_ineligible_reasons, describe, explain,
                                rnn_dropout_arguments)

K3 = parse("3")  # the newest Keras 3 droplint knows
K2 = parse("2")  # the newest tf.keras 2 droplint knows
SEQ = (None, 30, 8)


def layer(kind, inner=None, **args) -> Layer:
    return Layer(kind, args, Origin("<test>"), inner=inner)


def fields(mask: Mask) -> tuple:
    return (mask.mask_shape, mask.drops, mask.per_sample, mask.over_time, mask.masks)


# ------------------------------------------------------------------------------------------
# Dropout layers


@pytest.mark.parametrize("args, shape, expected", [
    ({}, SEQ, ((None, 30, 8), "elements", True, "fresh-each-step", 1)),
    ({}, (None, 16), ((None, 16), "units", True, None, 1)),
    ({"noise_shape": (None, 1, 8)}, SEQ, ((None, 1, 8), "features", True, "same-every-step", 1)),
    ({"noise_shape": (None, 30, 1)}, SEQ, ((None, 30, 1), "timesteps", True,
                                           "fresh-each-step", 1)),
    ({"noise_shape": (None, 1, 1)}, SEQ, ((None, 1, 1), "samples", True, "same-every-step", 1)),
    ({"noise_shape": (1, 30, 1)}, SEQ, ((1, 30, 1), "timesteps", False, "fresh-each-step", 1)),
    ({"noise_shape": (32, 30, 8)}, SEQ, ((32, 30, 8), "elements", True, "fresh-each-step", 1)),
    # shorter: right-aligned, the same features for every sample and step
    ({"noise_shape": (8,)}, SEQ, ((1, 1, 8), "features", False, "same-every-step", 1)),
    # a None in a shorter noise_shape takes the batch size but broadcasts against time
    ({"noise_shape": (None, 8)}, (8, 8, 8), ((1, 8, 8), "elements", False, "fresh-each-step",
                                             1)),
    ({"noise_shape": (None, 1, 1, 4)}, (None, 5, 6, 4), ((None, 1, 1, 4), "channels", True,
                                                         None, 1)),
    ({"noise_shape": (None, 5, 1, 1)}, (None, 5, 6, 4), ((None, 5, 1, 1), "elements", True,
                                                         None, 1)),
])
def test_dropout_masks(args, shape, expected):
    assert fields(explain(layer("Dropout", rate=0.3, **args), shape, K3)) == expected


@pytest.mark.parametrize("noise_shape, shape", [
    ((None, 8), SEQ),  # the None takes the batch size (unknown) and meets the time axis
    ((None, 8), (2, 8, 8)),  # the batch size 2 meets a time axis of 8: fails
    ((None, 3, 8), SEQ),  # 3 is neither 1 nor 30: fails in training
    ((None, 1, 1, 1), SEQ),  # longer than the rank: adds an axis (eager) or fails (graph)
    (UNKNOWN, SEQ),
    ((None, UNKNOWN, 8), SEQ),
])
def test_noise_shape_unknown_or_incompatible(noise_shape, shape):
    mask = explain(layer("Dropout", rate=0.3, noise_shape=noise_shape), shape, K3)
    assert fields(mask) == (None, "unknown", None, None, None)


@pytest.mark.parametrize("kind, args, shape, expected", [
    ("SpatialDropout1D", {}, SEQ, ((None, 1, 8), "features", True, "same-every-step", 1)),
    ("SpatialDropout2D", {}, (None, 5, 6, 4), ((None, 1, 1, 4), "channels", True, None, 1)),
    ("SpatialDropout2D", {"data_format": "channels_first"}, (None, 4, 5, 6),
     ((None, 4, 1, 1), "channels", True, None, 1)),
    ("SpatialDropout3D", {}, (None, 3, 4, 5, 2), ((None, 1, 1, 1, 2), "channels", True, None,
                                                  1)),
    ("SpatialDropout3D", {"data_format": "channels_first"}, (None, 2, 3, 4, 5),
     ((None, 2, 1, 1, 1), "channels", True, None, 1)),
])
def test_spatial_dropout(kind, args, shape, expected):
    assert fields(explain(layer(kind, rate=0.2, **args), shape, K3)) == expected


@pytest.mark.parametrize("kind, shape", [("SpatialDropout1D", (None, 8)),
                                         ("SpatialDropout2D", SEQ),
                                         ("SpatialDropout3D", (None, 4, 5, 6))])
def test_spatial_dropout_wrong_rank_is_unknown(kind, shape):
    assert explain(layer(kind, rate=0.2), shape, K3).drops == "unknown"


def test_spatial_dropout_1d_noise_shape_fails_in_keras3_ignored_in_keras2():
    with_noise = layer("SpatialDropout1D", rate=0.2, noise_shape=(None, 30, 1))
    assert explain(with_noise, SEQ, K3).drops == "unknown"  # TypeError at construction
    assert fields(explain(with_noise, SEQ, K2)) == ((None, 1, 8), "features", True,
                                                    "same-every-step", 1)
    with_format = layer("SpatialDropout1D", rate=0.2, data_format="channels_last")
    assert explain(with_format, SEQ, K3).drops == "unknown"
    assert explain(layer("SpatialDropout2D", rate=0.2, noise_shape=(None, 1, 1, 4)),
                   (None, 5, 6, 4), K3).drops == "unknown"


@pytest.mark.parametrize("kind, key, value, drops", [
    ("GaussianDropout", "rate", 0.3, "noise"),
    ("GaussianNoise", "stddev", 0.1, "noise"),
    ("GaussianNoise", "stddev", 0.0, "none"),
    ("GaussianDropout", "rate", 0.0, "none"),
    ("AlphaDropout", "rate", 0.3, "elements"),
    ("Dropout", "rate", 0.0, "none"),
    ("SpatialDropout1D", "rate", 0.0, "none"),
])
def test_noise_layers_and_rate_zero(kind, key, value, drops):
    mask = explain(layer(kind, **{key: value}), SEQ, K3)
    assert mask.drops == drops
    assert mask.masks == (0 if drops == "none" else 1)


def test_gaussian_layer_without_shape_is_still_noise():
    assert explain(layer("GaussianNoise", stddev=0.1), None, K3).drops == "noise"


@pytest.mark.parametrize("kind, rate, shape, keras", [
    ("Dropout", None, SEQ, K3),
    ("Dropout", 1.5, SEQ, K3),  # ValueError at construction
    ("Dropout", -0.1, SEQ, K3),
    ("Dropout", 1.5, SEQ, K2),  # tf_keras 2.21 raises at construction too
    ("Dropout", 1.0, SEQ, K2),  # tf.keras 2: ValueError in training
])
def test_unknown_or_failing_rates(kind, rate, shape, keras):
    mask = explain(layer(kind, rate=rate), shape, keras)
    assert fields(mask) == (None, "unknown", None, None, None)


@pytest.mark.parametrize("kind, shape, keras, expected", [
    ("Dropout", SEQ, K3, (SEQ, "elements", True, "fresh-each-step", 1)),
    ("Dropout", SEQ, K2, (SEQ, "elements", True, "fresh-each-step", 1)),
    ("SpatialDropout1D", SEQ, K3, ((None, 1, 8), "features", True, "same-every-step", 1)),
    ("Dropout", (None, 16), K3, ((None, 16), "units", True, None, 1)),
])
def test_unknown_rate_states_what_any_rate_drops(kind, shape, keras, expected):
    """What is dropped does not depend on the rate (issue 7 §3): stated, with a note."""
    mask = explain(layer(kind, rate=UNKNOWN), shape, keras)
    assert fields(mask) == expected
    assert mask.description.endswith("this is what any rate between 0 and 1 drops")


def test_unknown_rate_and_unknown_shape_keeps_per_sample():
    mask = explain(layer("Dropout", rate=UNKNOWN), None, K3)
    assert (mask.drops, mask.per_sample, mask.mask_shape) == ("unknown", True, None)


def test_rnn_unknown_rate_states_the_pattern_by_keras_version():
    lstm = layer("LSTM", units=4, dropout=UNKNOWN, recurrent_dropout=UNKNOWN)
    assert fields(explain(lstm, SEQ, K3, "dropout"))[:4] == (
        (None, 1, 8), "features", True, "same-every-step")
    assert fields(explain(lstm, SEQ, K2, "dropout"))[:4] == (
        SEQ, "elements", True, "fresh-each-step")
    assert explain(lstm, SEQ, K3, "recurrent_dropout").drops == "units"


def test_rate_one_keras3_zeros_everything_with_the_full_mask():
    assert explain(layer("Dropout", rate=1.0), SEQ, K3).drops == "elements"


# ------------------------------------------------------------------------------------------
# One feature, one unit, one step: an axis of size 1 holds one entry, nothing varies along it


@pytest.mark.parametrize("lay, shape, argument, keras, drops, over_time", [
    (layer("Dropout", rate=0.3), (None, 30, 1), None, K3, "timesteps", "fresh-each-step"),
    (layer("SpatialDropout1D", rate=0.3), (None, 30, 1), None, K3, "samples",
     "same-every-step"),
    (layer("Dropout", rate=0.3, noise_shape=(None, 30, 1)), (None, 30, 1), None, K3,
     "timesteps", "fresh-each-step"),
    (layer("Dropout", rate=0.3), (None, 1), None, K3, "samples", None),
    (layer("Dropout", rate=0.3), (None, 1, 8), None, K3, "features", "same-every-step"),
    (layer("LSTM", units=4, dropout=0.3), (None, 30, 1), "dropout", K3, "samples",
     "same-every-step"),
    (layer("LSTM", units=4, dropout=0.3), (None, 30, 1), "dropout", K2, "timesteps",
     "fresh-each-step"),
])
def test_size_one_axes(lay, shape, argument, keras, drops, over_time):
    mask = explain(lay, shape, keras, argument)
    assert (mask.drops, mask.over_time) == (drops, over_time)


# ------------------------------------------------------------------------------------------
# TimeDistributed


@pytest.mark.parametrize("inner_args, keras, expected", [
    ({}, K3, ((None, 30, 8), "elements", True, "fresh-each-step", 1)),
    ({}, K2, ((None, 30, 8), "elements", True, "fresh-each-step", 1)),
    # Keras 3: one call per step, so (1, F) is shared across the batch but drawn every step
    ({"noise_shape": (1, 8)}, K3, ((1, 30, 8), "elements", False, "fresh-each-step", 1)),
    # tf.keras 2 folds time into the batch: (1, F) is shared across batch and time
    ({"noise_shape": (1, 8)}, K2, ((1, 1, 8), "features", False, "same-every-step", 1)),
    ({"noise_shape": (None, 1)}, K3, ((None, 30, 1), "timesteps", True, "fresh-each-step", 1)),
    ({"noise_shape": (None, 1)}, K2, ((None, 30, 1), "timesteps", True, "fresh-each-step", 1)),
])
def test_time_distributed_dropout(inner_args, keras, expected):
    td = layer("TimeDistributed", inner=layer("Dropout", rate=0.3, **inner_args))
    assert fields(explain(td, SEQ, keras)) == expected


def test_time_distributed_edge_cases():
    td = layer("TimeDistributed", inner=layer("Dropout", rate=0.3))
    assert explain(td, (None, 8), K3).drops == "unknown"
    assert explain(td, None, K3).drops == "unknown"
    zero = layer("TimeDistributed", inner=layer("Dropout", rate=0.0))
    assert explain(zero, SEQ, K3).drops == "none"
    spatial = layer("TimeDistributed", inner=layer("SpatialDropout1D", rate=0.3))
    assert fields(explain(spatial, (None, 30, 10, 8), K3)) == (
        (None, 30, 1, 8), "elements", True, "fresh-each-step", 1)


# ------------------------------------------------------------------------------------------
# Recurrent layers: Keras 3


@pytest.mark.parametrize("kind, args, argument, expected", [
    ("LSTM", {"dropout": 0.3}, "dropout", ((None, 1, 8), "features", True, "same-every-step", 1)),
    ("GRU", {"dropout": 0.3}, "dropout", ((None, 1, 8), "features", True, "same-every-step", 1)),
    ("SimpleRNN", {"dropout": 0.3}, "dropout", ((None, 1, 8), "features", True,
                                                "same-every-step", 1)),
    # recurrent_dropout > 0 forces implementation=1: one mask per gate
    ("LSTM", {"dropout": 0.3, "recurrent_dropout": 0.2}, "dropout",
     ((None, 1, 8), "features", True, "same-every-step", 4)),
    ("GRU", {"dropout": 0.3, "recurrent_dropout": 0.2}, "dropout",
     ((None, 1, 8), "features", True, "same-every-step", 3)),
    ("SimpleRNN", {"dropout": 0.3, "recurrent_dropout": 0.2}, "dropout",
     ((None, 1, 8), "features", True, "same-every-step", 1)),
    ("LSTM", {"dropout": 0.3, "implementation": 1, "use_cudnn": False}, "dropout",
     ((None, 1, 8), "features", True, "same-every-step", 4)),
    ("LSTM", {"recurrent_dropout": 0.2}, "recurrent_dropout",
     ((None, 16), "units", True, "same-every-step", 4)),
    ("GRU", {"recurrent_dropout": 0.2}, "recurrent_dropout",
     ((None, 16), "units", True, "same-every-step", 3)),
    ("SimpleRNN", {"recurrent_dropout": 0.2}, "recurrent_dropout",
     ((None, 16), "units", True, "same-every-step", 1)),
])
def test_keras3_rnn(kind, args, argument, expected):
    assert fields(explain(layer(kind, units=16, **args), SEQ, K3, argument)) == expected


@pytest.mark.parametrize("kind, args, argument, drops", [
    ("LSTM", {"dropout": 0.0}, "dropout", "none"),
    ("LSTM", {"dropout": 1.0}, "dropout", "none"),  # only 0 < rate < 1 is applied
    ("LSTM", {"dropout": 1.5}, "dropout", "none"),  # clipped to 1
    ("LSTM", {"dropout": -0.2}, "dropout", "none"),  # clipped to 0
    ("GRU", {"recurrent_dropout": 1.0}, "recurrent_dropout", "none"),
    ("SimpleRNN", {"dropout": 1.0}, "dropout", "features"),  # zeros every input
    ("SimpleRNN", {"dropout": 1.5}, "dropout", "features"),
    ("LSTM", {"dropout": UNKNOWN}, "dropout", "features"),  # any rate in (0, 1)
    ("LSTM", {"dropout": "0.3"}, "dropout", "unknown"),
])
def test_rnn_rate_edges_keras3(kind, args, argument, drops):
    assert explain(layer(kind, units=4, **args), SEQ, K3, argument).drops == drops


def test_rnn_rate_one_simple_rnn_fails_in_keras2():
    assert explain(layer("SimpleRNN", units=4, dropout=1.0), SEQ, K2, "dropout").drops \
        == "unknown"


def test_rnn_unknown_shape_units_and_implementation():
    lstm = layer("LSTM", units=UNKNOWN, dropout=0.3, recurrent_dropout=0.2)
    # an LSTM accepts only rank 3: unknown sizes, known pattern
    assert fields(explain(lstm, None, K3, "dropout")) == (
        (None, 1, None), "features", True, "same-every-step", 4)
    assert explain(lstm, (None, 8), K3, "dropout").drops == "unknown"
    assert explain(lstm, SEQ, K3, "recurrent_dropout").mask_shape == (None, None)
    unknown_impl = layer("LSTM", units=4, dropout=0.3, implementation=UNKNOWN)
    assert explain(unknown_impl, SEQ, K3, "dropout").masks is None
    unknown_rd = layer("GRU", units=4, dropout=0.3, recurrent_dropout=UNKNOWN)
    assert explain(unknown_rd, SEQ, K3, "dropout").masks is None


def test_bidirectional_explains_its_core_layer():
    bi = layer("Bidirectional", inner=layer("LSTM", units=4, dropout=0.3))
    assert fields(explain(bi, SEQ, K3, "dropout")) == ((None, 1, 8), "features", True,
                                                       "same-every-step", 1)
    assert fields(explain(bi, SEQ, K2, "dropout")) == ((None, 30, 8), "elements", True,
                                                       "fresh-each-step", 1)


@pytest.mark.parametrize("version, drops", [
    ("3.0", "none"), ("3.3", "none"), ("3.4.1", "none"),  # Keras 3.0 to 3.4 ignore it
    ("3.5", "elements"), ("3.15.1", "elements"),
])
def test_conv_lstm_dropout_by_version(version, drops):
    conv = layer("ConvLSTM2D", filters=4, kernel_size=3, dropout=0.3, recurrent_dropout=0.2)
    shape = (None, 10, 16, 16, 3)
    mask = explain(conv, shape, parse(version), "dropout")
    assert mask.drops == drops
    assert explain(conv, shape, parse(version), "recurrent_dropout").drops == drops
    if drops != "none":
        assert fields(mask) == ((None, 1, 16, 16, 3), "elements", True, "same-every-step", 4)


def test_conv_lstm_channels_first_and_keras2():
    conv = layer("ConvLSTM1D", filters=2, kernel_size=3, dropout=0.3,
                 data_format="channels_first")
    assert explain(conv, (None, 5, 3, 6), K3, "dropout").mask_shape == (None, 1, 3, 6)
    plain = layer("ConvLSTM1D", filters=2, kernel_size=3, dropout=0.3)
    assert fields(explain(plain, (None, 5, 6, 3), K2, "dropout")) == (
        (None, 5, 6, 3), "elements", True, "fresh-each-step", 4)


# ------------------------------------------------------------------------------------------
# Recurrent layers: tf.keras 2


@pytest.mark.parametrize("kind, args, expected", [
    # default cuDNN-eligible path: a whole-sequence mask, the first of 4 (GRU 3) applied
    ("LSTM", {}, ((None, 30, 8), "elements", True, "fresh-each-step", 1)),
    ("GRU", {}, ((None, 30, 8), "elements", True, "fresh-each-step", 1)),
    ("LSTM", {"implementation": 1}, ((None, 30, 8), "elements", True, "fresh-each-step", 1)),
    # cell path, in graph mode: the cell's masks are drawn inside the loop, at every step
    ("LSTM", {"recurrent_dropout": 0.2}, ((None, 30, 8), "elements", True,
                                          "fresh-each-step", 4)),
    ("GRU", {"recurrent_dropout": 0.2}, ((None, 30, 8), "elements", True,
                                         "fresh-each-step", 3)),
    ("LSTM", {"activation": "relu"}, ((None, 30, 8), "elements", True, "fresh-each-step", 1)),
    ("LSTM", {"activation": "relu", "implementation": 1}, ((None, 30, 8), "elements", True,
                                                           "fresh-each-step", 4)),
    ("LSTM", {"recurrent_activation": "hard_sigmoid"}, ((None, 30, 8), "elements", True,
                                                        "fresh-each-step", 1)),
    ("LSTM", {"use_bias": False}, ((None, 30, 8), "elements", True, "fresh-each-step", 1)),
    ("GRU", {"reset_after": False}, ((None, 30, 8), "elements", True, "fresh-each-step", 1)),
    ("GRU", {"reset_after": False, "implementation": 1}, ((None, 30, 8), "elements", True,
                                                          "fresh-each-step", 3)),
    ("SimpleRNN", {}, ((None, 30, 8), "elements", True, "fresh-each-step", 1)),
    # unroll=True: no while loop, one mask for every step
    ("LSTM", {"unroll": True}, ((None, 1, 8), "features", True, "same-every-step", 1)),
    ("LSTM", {"unroll": True, "implementation": 1}, ((None, 1, 8), "features", True,
                                                     "same-every-step", 4)),
    ("GRU", {"unroll": True, "recurrent_dropout": 0.2}, ((None, 1, 8), "features", True,
                                                         "same-every-step", 3)),
])
def test_keras2_rnn_input_dropout(kind, args, expected):
    rnn = layer(kind, units=16, dropout=0.3, **args)
    assert fields(explain(rnn, SEQ, K2, "dropout")) == expected


@pytest.mark.parametrize("kind, args, expected", [
    ("LSTM", {}, ((None, 16), "units", True, "fresh-each-step", 4)),
    ("GRU", {}, ((None, 16), "units", True, "fresh-each-step", 3)),
    ("SimpleRNN", {}, ((None, 16), "units", True, "fresh-each-step", 1)),
    ("LSTM", {"unroll": True}, ((None, 16), "units", True, "same-every-step", 4)),
])
def test_keras2_recurrent_dropout(kind, args, expected):
    rnn = layer(kind, units=16, recurrent_dropout=0.2, **args)
    assert fields(explain(rnn, SEQ, K2, "recurrent_dropout")) == expected


@pytest.mark.parametrize("args", [{"activation": UNKNOWN}, {"unroll": UNKNOWN},
                                  {"reset_after": UNKNOWN}])
def test_keras2_path_unknown(args):
    gru = layer("GRU", units=4, dropout=0.3, **args)
    mask = explain(gru, SEQ, K2, "dropout")
    if "unroll" in args:
        assert mask.drops == "unknown"
    else:  # fresh every step either way; only the number of masks is unknown
        assert (mask.over_time, mask.masks) == ("fresh-each-step", None)


# ------------------------------------------------------------------------------------------
# Helpers


def test_cudnn_ineligible_reasons():
    assert cudnn_ineligible_reasons(layer("LSTM", units=4)) == []
    gru = layer("GRU", units=4, recurrent_dropout=0.1, activation="relu", unroll=True,
                use_bias=False, reset_after=False, recurrent_activation="hard_sigmoid")
    assert cudnn_ineligible_reasons(gru) == [
        "recurrent_dropout=0.1", "activation='relu'", "recurrent_activation='hard_sigmoid'",
        "unroll=True", "use_bias=False", "reset_after=False"]
    bi = layer("Bidirectional", inner=layer("LSTM", units=4, unroll=True))
    assert cudnn_ineligible_reasons(bi) == ["unroll=True"]


def test_rnn_dropout_arguments():
    assert rnn_dropout_arguments(layer("LSTM", units=4)) == []
    assert rnn_dropout_arguments(layer("LSTM", units=4, dropout=0.1, recurrent_dropout=0.0)) \
        == ["dropout"]
    assert rnn_dropout_arguments(layer("GRU", units=4, recurrent_dropout=UNKNOWN)) \
        == ["recurrent_dropout"]


@pytest.mark.parametrize("lay, shape, argument, words", [
    (layer("Dropout", rate=0.3), SEQ, None,
     "single (timestep, feature) entries, a new pattern at every timestep, different for every "
     "sample"),
    (layer("SpatialDropout1D", rate=0.3), SEQ, None,
     "whole features, the same mask at every timestep, different for every sample"),
    (layer("Dropout", rate=0.3, noise_shape=(1, 30, 1)), SEQ, None,
     "whole timesteps (all features of a step), the same pattern for every sample of the "
     "batch"),
    (layer("Dropout", rate=0.3, noise_shape=(None, 1, 1)), SEQ, None,
     "whole samples, different for every sample"),
    (layer("Dropout", rate=0.3), (None, 16), None, "single units, different for every sample"),
    (layer("ConvLSTM1D", filters=2, kernel_size=3, dropout=0.3), (None, 5, 6, 3), "dropout",
     "single entries, the same mask at every timestep, different for every sample"),
    (layer("SpatialDropout2D", rate=0.3), (None, 5, 6, 4), None,
     "whole channels, different for every sample"),
    (layer("GaussianNoise", stddev=0.1), SEQ, None,
     "nothing (multiplicative/additive noise, no zeros)"),
    (layer("Dropout", rate=0.0), SEQ, None, "nothing (rate 0 or ignored)"),
    (layer("Dropout", rate=UNKNOWN), None, None,
     "an unknown pattern (shape or arguments not known statically), different for every "
     "sample"),
    (layer("Dropout", rate=0.3, noise_shape=UNKNOWN), SEQ, None,
     "an unknown pattern (shape or arguments not known statically)"),
])
def test_describe(lay, shape, argument, words):
    mask = explain(lay, shape, K3, argument)
    assert describe(mask) == words == mask.description


def test_semantics_and_probe_import_no_keras():
    import subprocess
    import sys

    code = ("import sys, droplint.semantics, droplint.probe; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'tf_keras', 'numpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------------------------------
# Partial shapes, ranks from consumers, facts that need no shape (issue 7). Source only; the
# same models are built with real Keras in tests/test_semantics_keras.py.

import droplint  # noqa: E402
from droplint.shapes import output_shape, required_input_rank  # noqa: E402

PARTIAL_MODELS = {
    # the model: input_shape=(None,) + X.shape[2:] hides the rank
    "conv1d_after_hidden_input": (
        "from keras.models import Sequential\n"
        "from keras.layers import BatchNormalization, Conv1D, Dropout, LSTM\n"
        "model = Sequential()\n"
        "model.add(BatchNormalization(input_shape=(None,) + X.shape[2:]))\n"
        "model.add(Conv1D(48, 5))\n"
        "model.add(Dropout(0.3))\n"
        "model.add(LSTM(128, return_sequences=True))\n"
        "model.add(Dropout(0.3))\n",
        [("Dropout", None, [None, None, 48], "elements", True, "fresh-each-step"),
         ("Dropout", None, [None, None, 128], "elements", True, "fresh-each-step")]),
    "embedding_without_input_length": (
        "from keras.models import Sequential\n"
        "from keras.layers import Embedding, Dropout, SpatialDropout1D, LSTM, Dense\n"
        "model = Sequential()\n"
        "model.add(Embedding(max_features, 128))\n"
        "model.add(Dropout(0.2))\n"
        "model.add(LSTM(64, dropout=0.2))\n"
        "model.add(Dense(1))\n",
        [("Dropout", None, [None, None, 128], "elements", True, "fresh-each-step"),
         ("LSTM", "dropout", [None, None, 128], "features", True, "same-every-step")]),
    "dense_input_dim_unknown": (
        "from keras.models import Sequential\n"
        "from keras.layers import Dense, Dropout\n"
        "model = Sequential()\n"
        "model.add(Dense(h, input_dim=n))\n"
        "model.add(Dropout(0.5))\n",
        [("Dropout", None, [None, None], "units", True, None)]),
    "dropout_feeding_gru_on_hidden_input": (
        "import keras\n"
        "inputs = keras.Input(shape=X.shape[1:])\n"
        "x = keras.layers.Dropout(0.3)(inputs)\n"
        "x = keras.layers.GRU(8)(x)\n"
        "model = keras.Model(inputs, x)\n",
        [("Dropout", None, [None, None, None], "elements", True, "fresh-each-step")]),
    "spatial_dropout_alone": (
        "import keras\n"
        "inputs = keras.Input(shape=X.shape[1:])\n"
        "x = keras.layers.SpatialDropout1D(0.3)(inputs)\n"
        "model = keras.Model(inputs, x)\n",
        [("SpatialDropout1D", None, [None, None, None], "features", True,
          "same-every-step")]),
    "conv2d_tower": (
        "import keras\n"
        "from keras import layers\n"
        "inputs = keras.Input(shape=X.shape[1:])\n"
        "x = layers.Conv2D(16, 3, padding='same')(inputs)\n"
        "x = layers.MaxPooling2D()(x)\n"
        "x = layers.Dropout(0.25)(x)\n"
        "x = layers.Flatten()(x)\n"
        "x = layers.Dropout(0.5)(x)\n"
        "model = keras.Model(inputs, x)\n",
        [("Dropout", None, [None, None, None, 16], "elements", True, None),
         ("Dropout", None, [None, None], "units", True, None)]),
    "keras1_merge": (
        "from keras.layers import Input, LSTM, Dropout, merge\n"
        "a = Input(shape=(T, 4))\n"
        "b = Input(shape=(T, 6))\n"
        "x = merge([LSTM(3, return_sequences=True)(a), b], mode='concat')\n"
        "x = Dropout(0.2)(x)\n"
        "y = Dropout(0.2)(merge([a, a], mode='sum'))\n",
        [("Dropout", None, [None, None, 9], "elements", True, "fresh-each-step"),
         ("Dropout", None, [None, None, 4], "elements", True, "fresh-each-step")]),
    "concatenate_unknown_time": (
        "from keras.layers import Input, LSTM, Dropout, Concatenate\n"
        "a = Input(shape=(T, 4))\n"
        "b = Input(shape=(T, 6))\n"
        "x = Concatenate()([LSTM(3, return_sequences=True)(a), b])\n"
        "x = Dropout(0.2)(x)\n",
        [("Dropout", None, [None, None, 9], "elements", True, "fresh-each-step")]),
}


def _site_facts(source: str) -> list[tuple]:
    report = droplint.analyze_source(source, "m.py", keras_version="3").to_dict()
    return [(s["layer"], s["argument"], s["input_shape"], s["drops"], s["per_sample"],
             s["over_time"]) for s in report["sites"]], report


@pytest.mark.parametrize("name", sorted(PARTIAL_MODELS))
def test_partial_shapes_from_source(name):
    source, expected = PARTIAL_MODELS[name]
    facts, _ = _site_facts(source)
    assert facts == expected


def test_a_rank_from_a_consumer_is_named_in_the_description():
    _, report = _site_facts(PARTIAL_MODELS["dropout_feeding_gru_on_hidden_input"][0])
    assert "rank 3 from the GRU it feeds" in report["sites"][0]["description"]
    # an Embedding first in a Sequential has token ids (batch, length) in: its own rank
    _, report = _site_facts(PARTIAL_MODELS["embedding_without_input_length"][0])
    assert "from the" not in report["sites"][0]["description"]
    _, report = _site_facts(PARTIAL_MODELS["conv1d_after_hidden_input"][0])
    assert "from the" not in report["sites"][0]["description"]  # Conv1D's own output rank


def test_dropout_on_unknown_rank_is_still_per_sample():
    mask = explain(layer("Dropout", rate=0.3), None, K3)
    assert (mask.drops, mask.per_sample, mask.masks) == ("unknown", True, 1)
    assert "different for every sample" in mask.description
    shared = explain(layer("Dropout", rate=0.3, noise_shape=(1, 8)), None, K3)
    assert shared.per_sample is False


def test_spatial_dropout_on_unknown_shape_drops_whole_features():
    assert fields(explain(layer("SpatialDropout1D", rate=0.3), None, K3)) == (
        (None, 1, None), "features", True, "same-every-step", 1)


def test_layers_with_one_input_rank():
    assert required_input_rank("LSTM", {}) == 3
    assert required_input_rank("ConvLSTM2D", {}) == 5
    assert required_input_rank("Conv2D", {}) == 4
    assert required_input_rank("GlobalMaxPooling1D", {}) == 3
    assert required_input_rank("Dense", {}) is None
    assert output_shape("Conv1D", {"filters": 48, "kernel_size": 5}, [None]) == (None, None, 48)
    assert output_shape("ConvLSTM2D", {"filters": 4, "kernel_size": 3, "padding": "same",
                                       "return_sequences": True}, [(None, 5, 8, 8, 2)]) \
        == (None, 5, 8, 8, 4)
    assert output_shape("Flatten", {}, [None]) == (None, None)
    assert output_shape("Add", {}, [(None, None, 4), None]) == (None, None, 4)
    assert output_shape("Merge", {"mode": "concat"}, [(None, 3, 4), (None, 3, 2)]) \
        == (None, 3, 6)
    assert output_shape("MultiHeadAttention", {}, [(None, 7, 4), (None, 9, 4)]) == (None, 7, 4)
    assert output_shape("Attention", {}, [(None, 7, 4), (None, 9, 5)]) == (None, 7, 5)
    assert output_shape("Lambda", {}, [(None, 7, 4)]) is None


# ------------------------------------------------------------------------------------------
# One convention for size-1 axes: an axis of size 1 cannot vary.

def test_size_one_axes_one_convention():
    assert explain(layer("Dropout", rate=0.3), (None, 1), K3).drops == "samples"
    one_unit = layer("LSTM", units=1, recurrent_dropout=0.3)
    assert explain(one_unit, SEQ, K3, "recurrent_dropout").drops == "samples"
    one_step = (None, 1, 8)
    for keras in (K3, K2):
        assert explain(layer("Dropout", rate=0.3), one_step, keras).over_time == \
            "same-every-step"
        assert explain(layer("GaussianNoise", stddev=0.3), one_step, keras).over_time == \
            "same-every-step"
        lstm = layer("LSTM", units=4, dropout=0.3, recurrent_dropout=0.2)
        for argument in ("dropout", "recurrent_dropout"):
            assert explain(lstm, one_step, keras, argument).over_time == "same-every-step"


# ------------------------------------------------------------------------------------------
# Layers Keras refuses in training explain no mask

def test_legacy_alpha_dropout_with_none_in_noise_shape_has_no_mask():
    alpha = Layer("AlphaDropout", {"rate": 0.3, "noise_shape": (None, 1, 8)}, Origin("<t>"),
                  api="tf.keras")
    assert explain(alpha, SEQ, K3).drops == "unknown"
    assert "refuses" in explain(alpha, SEQ, K3).description
    assert explain(alpha, SEQ, K2).drops == "unknown"
    native = Layer("AlphaDropout", {"rate": 0.3, "noise_shape": (None, 1, 8)}, Origin("<t>"))
    assert explain(native, SEQ, K3).drops == "features"


def test_implementation_1_dropout_has_no_mask_but_not_inside_bidirectional():
    keras38 = parse("3.8")
    lstm = layer("LSTM", units=4, dropout=0.2, implementation=1)
    assert explain(lstm, SEQ, keras38, "dropout").drops == "unknown"
    bi = layer("Bidirectional", inner=lstm)
    assert fields(explain(bi, SEQ, keras38, "dropout")) == (
        (None, 1, 8), "features", True, "same-every-step", 1)


def test_dl201_fires_on_time_distributed_noise_shape_with_batch_1():
    source = ("import keras\nfrom keras import layers\n"
              "inputs = keras.Input((6, 5))\n"
              "x = layers.TimeDistributed(layers.Dropout(0.5, noise_shape=(1, 5)))(inputs)\n"
              "x = layers.LSTM(3)(x)\n")
    codes = droplint.analyze_source(source, "m.py", keras_version="3").codes()
    assert "DL201" in codes
    fine = source.replace("(1, 5)", "(None, 5)")
    assert "DL201" not in droplint.analyze_source(fine, "m.py", keras_version="3").codes()
