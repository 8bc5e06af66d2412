from droplint import fixes
from droplint.graph import SPATIAL_DROPOUT_KINDS
from droplint.report import Severity
from droplint.rule import Invalid, Rule

from ._graph import applications
from ._words import fmt_value, layer_call


class SpatialDropoutNoiseShape(Rule):
    """
    ## What it does
    Flags `noise_shape=` passed to `SpatialDropout1D/2D/3D`, and `data_format=` passed to
    `SpatialDropout1D`.

    ## Why is this bad?
    SpatialDropoutND computes its own noise shape (whole channels) and takes no `noise_shape`.
    Keras 3 raises `TypeError` when the layer is built with one. tf.keras 2 accepts it and
    silently ignores it, so the mask is not the one the code asks for. `SpatialDropout1D` has
    no `data_format` at all (both Keras versions raise `TypeError`): it always treats the last
    axis as the channels.

    ## Fix safety
    Safe in tf.keras 2 only: removing an argument that tf.keras 2 ignores keeps behaviour. In
    Keras 3 the code fails either way and the intended mask is unknown, so there is no
    automatic fix; to choose the axes yourself use `Dropout(rate, noise_shape=...)`.

    ## References
    - [keras.layers.SpatialDropout1D](https://keras.io/api/layers/regularization_layers/spatial_dropout1d/)
    - [keras.layers.Dropout `noise_shape`](https://keras.io/api/layers/regularization_layers/dropout/)
    """

    code = "DL204"
    name = "spatial-dropout-noise-shape"
    severity = Severity.ERROR
    fix_safety = "safe"
    summary = "noise_shape= (or 1D data_format=) passed to SpatialDropoutND"
    EXAMPLE_KERAS = "2"
    BAD = (
        Invalid(
            "import tensorflow as tf\n\n"
            "inputs = tf.keras.Input(shape=(30, 8))\n"
            "x = tf.keras.layers.SpatialDropout1D(0.3, noise_shape=(None, 30, 1))(inputs)\n"
            "x = tf.keras.layers.LSTM(10)(x)\n"
            "model = tf.keras.Model(inputs, tf.keras.layers.Dense(1)(x))\n",
            line=4,
            message=("SpatialDropout1D(0.3, noise_shape=(None, 30, 1)): tf.keras 2 silently "
                     "ignores it"),
            fixed=(
                "import tensorflow as tf\n\n"
                "inputs = tf.keras.Input(shape=(30, 8))\n"
                "x = tf.keras.layers.SpatialDropout1D(0.3)(inputs)\n"
                "x = tf.keras.layers.LSTM(10)(x)\n"
                "model = tf.keras.Model(inputs, tf.keras.layers.Dense(1)(x))\n"
            )),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.SpatialDropout1D(0.3, data_format='channels_first'),\n"
            "    keras.layers.LSTM(10),\n"
            "])\n",
            line=5,
            message=("SpatialDropout1D(0.3, data_format='channels_first'): no such "
                     "argument, TypeError when built")),
    )
    GOOD = (
        "import tensorflow as tf\n\n"
        "inputs = tf.keras.Input(shape=(30, 8))\n"
        "x = tf.keras.layers.Dropout(0.3, noise_shape=(None, 30, 1))(inputs)\n"
        "x = tf.keras.layers.LSTM(10)(x)\n"
        "model = tf.keras.Model(inputs, tf.keras.layers.Dense(1)(x))\n",
    )

    def check(self, ctx):
        for layer, nodes in applications(ctx.graph):
            if layer.kind not in SPATIAL_DROPOUT_KINDS:
                continue
            shape = nodes[0].input_shape if nodes else None
            bad = ["noise_shape"] if "noise_shape" in layer.args else []
            if layer.kind == "SpatialDropout1D" and "data_format" in layer.args:
                bad.append("data_format")
            for argument in bad:
                value = fmt_value(layer.args[argument])
                call = f"{layer_call(layer)[:-1]}, {argument}={value})"
                fix = None
                rate = fmt_value(layer.args.get("rate"))
                advice = (f"Remove {argument}=, or use Dropout({rate}, {argument}={value}) to "
                          "choose the axes yourself.")
                if argument == "data_format":
                    short = "no such argument, TypeError when built"
                    effect = ("SpatialDropout1D has no data_format: Keras raises TypeError "
                              "when the layer is built; it always drops whole channels of the "
                              "last axis")
                    channels = shape[1] if shape is not None and len(shape) == 3 \
                        and shape[1] is not None else "channels"
                    advice = (f"Remove data_format=; for channels-first data (batch, "
                              f"channels, steps) use Dropout({rate}, "
                              f"noise_shape=(None, {channels}, 1)).")
                elif ctx.keras.is_keras3:
                    short = "Keras 3 raises TypeError when the layer is built"
                    effect = ("Keras 3 raises TypeError when the layer is built: "
                              f"{layer.kind} computes its own noise shape (whole channels)")
                else:
                    short = "tf.keras 2 silently ignores it"
                    effect = ("tf.keras 2 silently ignores it: the layer still drops whole "
                              "channels for the whole input, not the noise_shape written")
                    fix = fixes.fix("safe", f"remove the ignored {argument}=",
                                    fixes.remove_argument(layer, argument))
                help = f"{effect}. {advice}"
                yield ctx.report(self, layer, f"{call}: {short}", fix=fix, help=help)
