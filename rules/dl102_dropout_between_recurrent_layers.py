from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import fmt_rate, fmt_shape

from ._findings import once_per_message, spatial_fix
from ._graph import after_recurrent, recurrent_consumers, sequence_sites
from ._words import brief, mask_sentence, rnn_alternative, rnn_name, spatial_alternative


class DropoutBetweenRecurrentLayers(Rule):
    """
    ## What it does
    Flags a plain `Dropout(rate)` on the `return_sequences=True` output of a recurrent layer
    when that output feeds another recurrent layer (stacked LSTM/GRU).

    ## Why is this bad?
    On a `(batch, timesteps, units)` sequence `Dropout` zeroes single (timestep, unit)
    entries, a new pattern at every step, so the next layer sees every unit of the previous
    one flicker along the sequence. Variational (per-sequence) dropout, as in Gal and
    Ghahramani, keeps one mask for the whole sequence: `SpatialDropout1D(rate)` drops whole
    units of the lower layer for every step, in Keras 3 and tf.keras 2 alike. The next layer's
    own `dropout=rate` does the same only in Keras 3 (one `(batch, 1, units)` mask per call);
    tf.keras 2 under `fit` draws a fresh `(batch, timesteps, units)` mask at every step, like
    the plain `Dropout` (only `unroll=True` or eager calls reuse one mask).

    ## Fix safety
    Unsafe: `SpatialDropout1D(rate)` drops whole units for the whole sequence instead of single
    entries, which changes what is regularized.

    ## References
    - [Gal and Ghahramani, A Theoretically Grounded Application of Dropout in Recurrent Neural Networks (2016)](https://arxiv.org/abs/1512.05287)
    - [keras.layers.SpatialDropout1D](https://keras.io/api/layers/regularization_layers/spatial_dropout1d/)
    """

    code = "DL102"
    name = "dropout-between-recurrent-layers"
    severity = Severity.INFO
    fix_safety = "unsafe"
    summary = "plain Dropout between two stacked recurrent layers"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.LSTM(64, return_sequences=True)(inputs)\n"
            "x = layers.Dropout(0.2)(x)\n"
            "x = layers.LSTM(32)(x)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=6,
            message="Dropout(0.2) between LSTM(64) and LSTM(32) drops single entries, new each step",
            fixed=(
                "import keras\n"
                "from keras import layers\n\n"
                "inputs = keras.Input(shape=(30, 8))\n"
                "x = layers.LSTM(64, return_sequences=True)(inputs)\n"
                "x = layers.SpatialDropout1D(0.2)(x)\n"
                "x = layers.LSTM(32)(x)\n"
                "model = keras.Model(inputs, layers.Dense(1)(x))\n"
            )),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential()\n"
            "model.add(keras.Input(shape=(20, 5)))\n"
            "model.add(keras.layers.GRU(16, return_sequences=True))\n"
            "model.add(keras.layers.Dropout(0.3))\n"
            "model.add(keras.layers.GRU(16))\n"
            "model.add(keras.layers.Dense(1))\n",
            line=6,
            message="Dropout(0.3) between GRU(16) and GRU(16) drops single entries, new each step",
            fixed=(
                "import keras\n\n"
                "model = keras.Sequential()\n"
                "model.add(keras.Input(shape=(20, 5)))\n"
                "model.add(keras.layers.GRU(16, return_sequences=True))\n"
                "model.add(keras.layers.SpatialDropout1D(0.3))\n"
                "model.add(keras.layers.GRU(16))\n"
                "model.add(keras.layers.Dense(1))\n"
            )),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(64, return_sequences=True)(inputs)\n"
        "x = layers.SpatialDropout1D(0.2)(x)\n"
        "x = layers.LSTM(32)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
        # after return_sequences=False there is no time axis left
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(64)(inputs)\n"
        "x = layers.Dropout(0.2)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    @once_per_message
    def check(self, ctx):
        for site, shape, rate in sequence_sites(ctx):
            node = site.node
            below = after_recurrent(node)
            if below is None:
                continue
            above = recurrent_consumers(ctx.graph, node)
            if not above:
                continue
            unit = f"{below.layer.core.kind} units"
            message = (f"Dropout({fmt_rate(rate)}) between {rnn_name(below.layer)} and "
                       f"{rnn_name(above[0].layer)} drops {brief(site.mask)}")
            help = (f"{rnn_name(below.layer)} returns sequences (return_sequences=True, "
                    f"{fmt_shape(shape)}). {mask_sentence(site.mask)} Instead: "
                    f"{spatial_alternative(rate, shape, unit)}")
            rnn_text = rnn_alternative(above[0], rate, shape, ctx.keras)
            if rnn_text:
                help += "; or on the next layer, " + rnn_text
            yield ctx.report(self, node, message, site=site, help=help + ".",
                             fix=spatial_fix(ctx.graph, node.layer, ctx.keras))
