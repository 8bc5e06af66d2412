from droplint.report import Severity
from droplint.rule import Rule
from droplint.semantics import describe, explain

from ._common import active_rate, cudnn_layers, inside, rnn_site


class RecurrentDropoutDisablesCudnn(Rule):
    """
    ## What it does
    Flags `recurrent_dropout > 0` on an `LSTM` or `GRU`, also inside `Bidirectional`.

    ## Why is this bad?
    Keras (3, and tf.keras 2 alike) runs an LSTM/GRU on the fused cuDNN kernel only when its
    configuration is eligible, and any `recurrent_dropout` rules it out: the layer falls back
    to the generic step loop, about 25x slower to train on a GPU (tensorflow#38236). That can
    be the right trade-off (recurrent dropout regularizes the state, one mask per gate for the
    whole sequence), but it is easy to pay for without knowing.

    ## Fix safety
    No automatic fix: removing recurrent dropout changes the regularization. Alternatives:
    keep only `dropout=` (input features, one mask for every timestep in Keras 3), or put a
    `SpatialDropout1D` before the layer.

    ## References
    - [tensorflow#38236: LSTM with recurrent_dropout is very slow on GPU](https://github.com/tensorflow/tensorflow/issues/38236)
    - [keras.layers.LSTM](https://keras.io/api/layers/recurrent_layers/lstm/)
    - [Gal and Ghahramani (2016)](https://arxiv.org/abs/1512.05287)
    """

    code = "DL301"
    name = "recurrent-dropout-disables-cudnn"
    severity = Severity.INFO
    summary = "recurrent_dropout > 0 on LSTM/GRU rules out the cuDNN kernel"
    BAD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(64, dropout=0.2, recurrent_dropout=0.2)(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
        "import keras\n\n"
        "model = keras.Sequential([\n"
        "    keras.Input(shape=(30, 8)),\n"
        "    keras.layers.Bidirectional(keras.layers.GRU(32, recurrent_dropout=0.1)),\n"
        "    keras.layers.Dense(1),\n"
        "])\n",
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(64, dropout=0.2)(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
        # SimpleRNN has no cuDNN kernel to lose
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.SimpleRNN(64, recurrent_dropout=0.2)(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    def check(self, ctx):
        for layer, wrapper in cudnn_layers(ctx.graph):
            rd = active_rate(layer, "recurrent_dropout")
            if rd is None:
                continue  # 0, or out of range: DL304
            site = rnn_site(ctx, layer, wrapper, "recurrent_dropout")
            mask = site.mask if site else explain(layer, None, ctx.keras, "recurrent_dropout")
            masks = f" ({mask.masks} masks, one per gate)" if mask.masks and mask.masks > 1 else ""
            message = (f"{layer.kind}(recurrent_dropout={rd:g}){inside(wrapper)} rules out the "
                       "cuDNN kernel: training on a GPU falls back to the generic step loop, "
                       f"about 25x slower (tensorflow#38236). It drops {describe(mask)}{masks}. "
                       "If speed matters, keep only dropout= or put a SpatialDropout1D before "
                       "the layer.")
            yield ctx.report(self, layer, message, argument="recurrent_dropout", site=site)
