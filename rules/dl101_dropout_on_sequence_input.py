from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import fmt_rate, fmt_shape

from ._findings import once_per_message, spatial_fix
from ._graph import after_embedding, after_recurrent, recurrent_consumers, sequence_sites
from ._words import (brief, mask_sentence, rnn_alternative, spatial_alternative,
                     timesteps_alternative)


class DropoutOnSequenceInput(Rule):
    """
    ## What it does
    Flags a plain `Dropout(rate)` (no `noise_shape`) applied to a 3-D sequence
    `(batch, timesteps, features)` that feeds a recurrent layer (LSTM, GRU, SimpleRNN, ...),
    directly or through shape-preserving layers such as `BatchNormalization`.

    ## Why is this bad?
    `Dropout` draws its mask in the full input shape: it zeroes single (timestep, feature)
    entries, a new pattern at every timestep. The recurrent layer then sees each feature
    flicker on and off along the sequence. That is rarely what was meant: to remove whole
    features for the whole sequence use `SpatialDropout1D(rate)`
    (= `noise_shape=(None, 1, features)`); to remove whole timesteps use
    `noise_shape=(None, timesteps, 1)`. Passing `dropout=rate` to the recurrent layer instead
    depends on the Keras version: Keras 3 draws one `(batch, 1, features)` mask per call and
    applies it at every timestep (whole input features), while tf.keras 2 under `fit` draws a
    fresh `(batch, timesteps, features)` mask at every step, on the cuDNN path and on the cell
    path alike (only `unroll=True` or eager calls reuse one mask), so there it is no
    alternative. It does not fire when there is a single feature: on `(batch, timesteps, 1)`
    `Dropout` already drops whole timesteps, and `SpatialDropout1D` would drop whole
    samples.

    ## Fix safety
    Unsafe: `SpatialDropout1D(rate)` changes what is regularized (whole features instead of
    single entries), so the model trains differently.

    ## References
    - [Gal and Ghahramani, A Theoretically Grounded Application of Dropout in Recurrent Neural Networks (2016)](https://arxiv.org/abs/1512.05287)
    - [keras.layers.SpatialDropout1D](https://keras.io/api/layers/regularization_layers/spatial_dropout1d/)
    - [keras.layers.Dropout `noise_shape`](https://keras.io/api/layers/regularization_layers/dropout/)
    """

    code = "DL101"
    name = "dropout-on-sequence-input"
    severity = Severity.INFO
    fix_safety = "unsafe"
    summary = "plain Dropout on a 3-D sequence that feeds a recurrent layer"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.Dropout(0.3)(inputs)\n"
            "x = layers.LSTM(10)(x)\n"
            "outputs = layers.Dense(1)(x)\n"
            "model = keras.Model(inputs, outputs)\n",
            line=5,
            message="Dropout(0.3) on (None, 30, 8) drops single entries, new each step",
            fixed=(
                "import keras\n"
                "from keras import layers\n\n"
                "inputs = keras.Input(shape=(30, 8))\n"
                "x = layers.SpatialDropout1D(0.3)(inputs)\n"
                "x = layers.LSTM(10)(x)\n"
                "outputs = layers.Dense(1)(x)\n"
                "model = keras.Model(inputs, outputs)\n"
            )),
        Invalid(
            "from keras.models import Sequential\n"
            "from keras.layers import Input, Dropout, BatchNormalization, GRU, Dense\n\n"
            "model = Sequential([\n"
            "    Input(shape=(50, 4)),\n"
            "    Dropout(0.2),\n"
            "    BatchNormalization(),\n"
            "    GRU(16),\n"
            "    Dense(1),\n"
            "])\n",
            line=6,
            message="Dropout(0.2) on (None, 50, 4) drops single entries, new each step",
            fixed=(
                "from keras.models import Sequential\n"
                "from keras.layers import Input, SpatialDropout1D, BatchNormalization, GRU, Dense\n\n"
                "model = Sequential([\n"
                "    Input(shape=(50, 4)),\n"
                "    SpatialDropout1D(0.2),\n"
                "    BatchNormalization(),\n"
                "    GRU(16),\n"
                "    Dense(1),\n"
                "])\n"
            )),
        Invalid(
            "import tensorflow as tf\n\n"
            "model = tf.keras.Sequential()\n"
            "model.add(tf.keras.Input(shape=(None, 12)))\n"
            "model.add(tf.keras.layers.Dropout(0.25))\n"
            "model.add(tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(32)))\n"
            "model.add(tf.keras.layers.Dense(3, activation='softmax'))\n",
            line=5,
            message="Dropout(0.25) on (None, None, 12) drops single entries, new each step",
            fixed=(
                "import tensorflow as tf\n\n"
                "model = tf.keras.Sequential()\n"
                "model.add(tf.keras.Input(shape=(None, 12)))\n"
                "model.add(tf.keras.layers.SpatialDropout1D(0.25))\n"
                "model.add(tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(32)))\n"
                "model.add(tf.keras.layers.Dense(3, activation='softmax'))\n"
            )),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.SpatialDropout1D(0.3)(inputs)\n"
        "x = layers.LSTM(10)(x)\n"
        "outputs = layers.Dense(1)(x)\n"
        "model = keras.Model(inputs, outputs)\n",
        # one feature: SpatialDropout1D would drop whole sequences
        "import keras\n"
        "from keras import layers\n\n"
        "model = keras.Sequential([keras.Input(shape=(30, 1)), layers.Dropout(0.2),\n"
        "                          layers.LSTM(10), layers.Dense(1)])\n",
        # an explicit noise_shape is a deliberate choice
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.Dropout(0.3, noise_shape=(None, 30, 1))(inputs)\n"
        "x = layers.LSTM(10, dropout=0.2)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    @once_per_message
    def check(self, ctx):
        for site, shape, rate in sequence_sites(ctx):
            node = site.node
            if after_recurrent(node) or after_embedding(node):
                continue
            rnns = recurrent_consumers(ctx.graph, node)
            if not rnns:
                continue
            parts = [spatial_alternative(rate, shape),
                     f"Dropout({fmt_rate(rate)}, {timesteps_alternative(shape)}"]
            rnn_text = rnn_alternative(rnns[0], rate, shape, ctx.keras)
            if rnn_text:
                parts.append(rnn_text)
            message = f"Dropout({fmt_rate(rate)}) on {fmt_shape(shape)} drops {brief(site.mask)}"
            help = f"{mask_sentence(site.mask)} Instead: " + "; ".join(parts) + "."
            if shape[2] is None:
                help += " (The feature count is not known statically.)"
            yield ctx.report(self, node, message, site=site, help=help,
                             fix=spatial_fix(ctx.graph, node.layer, ctx.keras))
