from droplint import fixes
from droplint.graph import DROPOUT_KINDS, SPATIAL_DROPOUT_KINDS
from droplint.keras_version import LATEST, KerasVersion
from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import describe, explain, fmt_shape

from ._graph import applications
from ._words import fmt_value, layer_call

KERAS2, KERAS3 = KerasVersion(*LATEST[2]), KerasVersion(*LATEST[3])


class TimeDistributedDropout(Rule):
    """
    ## What it does
    Flags `TimeDistributed(Dropout(...))` (or another non-spatial dropout layer inside
    `TimeDistributed`).

    ## Why is this bad?
    `TimeDistributed` applies the inner layer to each step `(batch, features)` (Keras 3 calls
    it once per step; tf.keras 2 folds time into the batch and calls it once on
    `(batch * timesteps, features)`), and either way every step gets its own mask, which is
    exactly what a plain `Dropout` on the whole sequence does: the wrapper adds work and
    nothing else. It is often written in the hope of sharing one mask across time, which it
    does not do. With an inner `noise_shape` it is worse: the shape refers to one step, and a
    1 in its batch axis shares the pattern across the batch only (a new one at every step) in
    Keras 3, but across the batch **and** time in tf.keras 2, so the same code regularizes
    differently after an upgrade. Say what you mean with a `noise_shape` on the whole
    sequence, e.g. `Dropout(rate, noise_shape=(None, 1, features))` (= `SpatialDropout1D`)
    for one feature mask per sample for the whole sequence.

    ## Fix safety
    Safe when the inner layer has no `noise_shape`: unwrapping to the inner layer draws masks
    from the same distribution. No fix with a `noise_shape`, whose meaning depends on the
    Keras version.

    ## References
    - [keras.layers.TimeDistributed](https://keras.io/api/layers/recurrent_layers/time_distributed/)
    - [keras.layers.Dropout `noise_shape`](https://keras.io/api/layers/regularization_layers/dropout/)
    """

    code = "DL105"
    name = "time-distributed-dropout"
    severity = Severity.INFO
    fix_safety = "safe"
    summary = "TimeDistributed(Dropout(...)): plain Dropout; noise_shape differs in Keras 2/3"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.TimeDistributed(layers.Dropout(0.3))(inputs)\n"
            "x = layers.LSTM(10)(x)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5,
            message="TimeDistributed(Dropout(0.3)) drops exactly like Dropout(0.3) on (None, 30, 8)",
            fixed=(
                "import keras\n"
                "from keras import layers\n\n"
                "inputs = keras.Input(shape=(30, 8))\n"
                "x = layers.Dropout(0.3)(inputs)\n"
                "x = layers.LSTM(10)(x)\n"
                "model = keras.Model(inputs, layers.Dense(1)(x))\n"
            )),
        Invalid(
            "from keras import Sequential, Input\n"
            "from keras.layers import TimeDistributed, Dropout, Dense, GRU\n\n"
            "model = Sequential([\n"
            "    Input(shape=(20, 6)),\n"
            "    GRU(32, return_sequences=True),\n"
            "    TimeDistributed(Dropout(0.2, noise_shape=(1, 32))),\n"
            "    TimeDistributed(Dense(1)),\n"
            "])\n",
            line=7,
            message=("TimeDistributed(Dropout(0.2)) with noise_shape=(1, 32): the "
                     "noise_shape refers to one step")),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.Dropout(0.3)(inputs)\n"
        "x = layers.TimeDistributed(layers.Dense(16))(x)\n"
        "model = keras.Model(inputs, x)\n",
    )

    def check(self, ctx):
        for layer, nodes in applications(ctx.graph):
            inner = layer.inner
            if layer.kind != "TimeDistributed" or inner is None \
                    or inner.kind not in DROPOUT_KINDS or inner.kind in SPATIAL_DROPOUT_KINDS:
                continue
            shape = nodes[0].input_shape if nodes else None
            site = ctx.site_of(nodes[0]) if nodes else None
            noise_shape = inner.args.get("noise_shape")
            if noise_shape is None:
                what = f" drops {describe(site.mask)}," if site and site.mask.mask_shape else ""
                on = f" on {fmt_shape(shape)}" if shape else ""
                message = f"{layer_call(layer)} drops exactly like {layer_call(inner)}{on}"
                help = (f"It{what.rstrip(',')}: {_steps(shape)}. Write {layer_call(inner)}"
                        f"{_spatial_advice(inner, shape)}.") if what else \
                    (f"{_steps(shape)[0].upper()}{_steps(shape)[1:]}. Write {layer_call(inner)}"
                     f"{_spatial_advice(inner, shape)}.")
                fix = fixes.fix("safe", f"unwrap to {layer_call(inner)}", fixes.unwrap(layer))
            else:
                message = (f"{layer_call(layer)} with noise_shape={fmt_value(noise_shape)}: "
                           "the noise_shape refers to one step")
                help = "The noise_shape refers to one step (batch, features)"
                if shape is not None:
                    k3 = explain(layer, shape, KERAS3).mask_shape
                    k2 = explain(layer, shape, KERAS2).mask_shape
                    on = f"; on {fmt_shape(shape)} the mask is {_mask(layer, shape, KERAS3)}"
                    if k3 and k2 and k3 != k2:
                        other = _mask(layer, shape, KERAS2)
                        help += f"{on} in Keras 3 but {other} in tf.keras 2"
                    elif k3:
                        help += on
                help += (". Write Dropout on the whole sequence with the noise_shape you "
                         f"mean{_sequence_example(inner, shape)}.")
                fix = None
            yield ctx.report(self, layer, message, site=site, fix=fix, help=help)


def _steps(shape) -> str:
    if shape is not None and len(shape) >= 3 and shape[1] == 1:
        return "the sequence has one step, so the wrapper draws one mask for it"
    return "the wrapper draws a new mask at every step and shares nothing across time"


def _mask(layer, shape, keras) -> str:
    """`(1, 20, 32): whole ..., the same pattern for every sample of the batch`."""
    mask = explain(layer, shape, keras)
    return f"{fmt_shape(mask.mask_shape)} ({describe(mask)})"


def _spatial_advice(inner, shape) -> str:
    """SpatialDropout1D as the alternative, unless it would drop whole samples (F == 1)."""
    if shape is not None and len(shape) == 3 and shape[2] == 1:
        return ""  # one feature: SpatialDropout1D would drop whole samples
    rate = fmt_value(inner.args.get("rate"))
    features = f", i.e. noise_shape={fmt_shape((None, 1, shape[2]))}" \
        if shape is not None and len(shape) == 3 else ""
    return (f", or SpatialDropout1D({rate}){features} to drop whole features for the whole "
            "sequence")


def _sequence_example(inner, shape) -> str:
    if shape is None or len(shape) != 3 or shape[2] == 1:
        return ""
    rate = fmt_value(inner.args.get("rate"))
    return (f", e.g. Dropout({rate}, noise_shape={fmt_shape((None, 1, shape[2]))}) for one "
            "feature mask per sample for the whole sequence")
