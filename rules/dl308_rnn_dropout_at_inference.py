from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import cudnn_ineligible_reasons

from ._graph import cudnn_layers, rnn_site
from ._values import active_rate
from ._words import inside


class RnnDropoutAtInference(Rule):
    """
    ## What it does
    Flags, for Keras 3.4 to 3.8, an `LSTM`/`GRU` with `dropout > 0` whose configuration is
    cuDNN-eligible (defaults, `recurrent_dropout == 0`, `use_cudnn` not False).

    ## Why is this bad?
    Keras 3.4 let `dropout > 0` run on the cuDNN path (keras#19645), and until 3.9
    (keras#20983) that path applied the input dropout mask **at inference too**: on a GPU,
    `predict` and `evaluate` drop and rescale input features at random, so predictions are
    noisy and lower-quality, while the same model on a CPU is fine. tf.keras 2 and Keras 3.0
    to 3.3 (where any `dropout` rules cuDNN out) are not affected.

    ## Fix safety
    No automatic fix. Upgrade to Keras >= 3.9; or pass `use_cudnn=False` (slower); or move the
    dropout out of the layer into a `SpatialDropout1D(rate)` before it, which is off at
    inference.

    ## References
    - [keras#19645: Enable cudnn rnns when dropout is set](https://github.com/keras-team/keras/pull/19645)
    - [keras#20983: Enable cuDNN RNNs when dropout is set and `training=True`](https://github.com/keras-team/keras/pull/20983)
    - [keras.layers.LSTM](https://keras.io/api/layers/recurrent_layers/lstm/)
    """

    code = "DL308"
    name = "rnn-dropout-at-inference"
    severity = Severity.ERROR
    summary = "Keras 3.4-3.8: cuDNN LSTM/GRU applies its dropout mask at inference too"
    EXAMPLE_KERAS = "3.5"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.LSTM(32, dropout=0.2)(inputs)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5,
            message="LSTM(dropout=0.2): Keras 3.5.0 applies it at inference too on a GPU"),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.Bidirectional(keras.layers.GRU(16, dropout=0.3)),\n"
            "    keras.layers.Dense(1),\n"
            "])\n",
            line=5,
            message=("GRU(dropout=0.3) inside Bidirectional: Keras 3.5.0 applies it at "
                     "inference too on a GPU")),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.SpatialDropout1D(0.2)(inputs)\n"
        "x = layers.LSTM(32)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(32, dropout=0.2, use_cudnn=False)(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    def check(self, ctx):
        if not (ctx.keras.is_keras3 and ctx.keras.between((3, 4), (3, 8))):
            return
        for layer, wrapper in cudnn_layers(ctx.graph):
            dropout = active_rate(layer, "dropout")
            if dropout is None or layer.args.get("use_cudnn") is False \
                    or cudnn_ineligible_reasons(layer):
                continue
            message = (f"{layer.kind}(dropout={dropout:g}){inside(wrapper)}: Keras {ctx.keras} "
                       "applies it at inference too on a GPU")
            help = ("On a GPU this layer runs on cuDNN, which applies the input dropout mask at "
                    "inference too (fixed in Keras 3.9, keras#20983), so predict() is random. "
                    "Upgrade to Keras >= 3.9, pass use_cudnn=False, or use "
                    f"SpatialDropout1D({dropout:g}) before the layer instead.")
            yield ctx.report(self, layer, message, argument="dropout", help=help,
                             site=rnn_site(ctx, layer, wrapper, "dropout"))
