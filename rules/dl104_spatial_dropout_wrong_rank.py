from droplint.graph import SPATIAL_DROPOUT_KINDS, Layer
from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import describe, explain, fmt_rate, fmt_shape

from ._findings import once_per_message
from ._graph import layer_sites, producer
from ._words import rnn_name

EXPECTED = {1: "(batch, steps, channels)", 2: "(batch, rows, cols, channels)",
            3: "(batch, dim1, dim2, dim3, channels)"}


class SpatialDropoutWrongRank(Rule):
    """
    ## What it does
    Flags `SpatialDropout1D/2D/3D` applied to a tensor whose rank is known and is not
    3, 4 or 5 respectively, e.g. `SpatialDropout1D` after an LSTM with
    `return_sequences=False`.

    ## Why is this bad?
    SpatialDropoutND drops whole channels of an N-D feature map and declares an input rank of
    N + 2. Keras raises a `ValueError` when the layer is called on any other rank, so the model
    cannot even be built. After `return_sequences=False` the output is `(batch, units)`: there
    is no time axis left to share a mask over, and a plain `Dropout` is what applies.

    ## Fix safety
    No automatic fix: whether the layer should move before the recurrent layer, or become a
    plain `Dropout`, is a modelling choice.

    ## References
    - [keras.layers.SpatialDropout1D](https://keras.io/api/layers/regularization_layers/spatial_dropout1d/)
    - [keras.layers.SpatialDropout2D](https://keras.io/api/layers/regularization_layers/spatial_dropout2d/)
    """

    code = "DL104"
    name = "spatial-dropout-wrong-rank"
    severity = Severity.ERROR
    summary = "SpatialDropoutND on a tensor of known rank other than N+2"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.LSTM(10)(inputs)\n"
            "x = layers.SpatialDropout1D(0.3)(x)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=6,
            message=("SpatialDropout1D(0.3) expects a 3-D input but gets (None, 10): "
                     "ValueError when called")),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(28, 28)),\n"
            "    keras.layers.SpatialDropout2D(0.2),\n"
            "    keras.layers.Flatten(),\n"
            "    keras.layers.Dense(10),\n"
            "])\n",
            line=5,
            message=("SpatialDropout2D(0.2) expects a 4-D input but gets (None, 28, 28): "
                     "ValueError when called")),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(10)(inputs)\n"
        "x = layers.Dropout(0.3)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
        "import keras\n\n"
        "model = keras.Sequential([\n"
        "    keras.Input(shape=(28, 28, 1)),\n"
        "    keras.layers.Conv2D(8, 3),\n"
        "    keras.layers.SpatialDropout2D(0.2),\n"
        "    keras.layers.Flatten(),\n"
        "    keras.layers.Dense(10),\n"
        "])\n",
    )

    @once_per_message
    def check(self, ctx):
        for site in layer_sites(ctx):
            node = site.node
            n = SPATIAL_DROPOUT_KINDS.get(node.kind)
            shape = node.input_shape
            if n is None or shape is None or len(shape) == n + 2:
                continue
            layer = node.layer
            src = producer(node)
            after = ""
            if src is not None and src.layer.is_recurrent and len(shape) == 2:
                after = f" ({rnn_name(src.layer)} with return_sequences=False has no time axis)"
            message = (f"{layer.kind}({fmt_rate(layer.args.get('rate'))}) expects a "
                       f"{n + 2}-D input but gets {fmt_shape(shape)}: ValueError when called")
            help = (f"{layer.kind} takes {EXPECTED[n]}{after}: Keras raises ValueError when the "
                    f"layer is called. {_instead(layer, shape, ctx.keras)}")
            yield ctx.report(self, node, message, site=site, help=help)


def _dropout(layer, shape, keras) -> str:
    """`Dropout(0.3) (it drops single units, ...)`: a plain Dropout on this input."""
    rate = layer.args.get("rate")
    plain = explain(Layer("Dropout", {"rate": rate}, layer.origin), shape, keras)
    what = f" (on {fmt_shape(shape)} it drops {describe(plain)})" if plain.mask_shape else ""
    return f"Dropout({fmt_rate(rate)}){what}"


def _instead(layer, shape, keras) -> str:
    """What to write for an input of this shape, with what it would drop."""
    rate = fmt_rate(layer.args.get("rate"))
    rank = len(shape)
    if rank == 2:
        return (f"Use {_dropout(layer, shape, keras)} here, or move the {layer.kind} before "
                "the layer that removes the time axis.")
    channels = shape[-1]
    if not 3 <= rank <= 5 or channels == 1:
        why = "; a spatial dropout would drop whole samples, the last axis has size 1" \
            if 3 <= rank <= 5 else ""
        return f"Use {_dropout(layer, shape, keras)}{why}."
    n = rank - 2
    size = f" (size {channels})" if channels is not None else ""
    everywhere = "for every step" if n == 1 else f"at every position of the {n} spatial axes"
    return (f"On this rank SpatialDropout{n}D({rate}) drops whole entries of the last "
            f"axis{size} {everywhere}; use it if that axis is the channels, else "
            f"{_dropout(layer, shape, keras)}, or give the input its channel axis.")
