from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import fmt_rate, fmt_shape

from ._findings import once_per_message, spatial_fix
from ._graph import after_embedding, sequence_sites
from ._words import brief, mask_sentence, spatial_alternative


class DropoutAfterEmbedding(Rule):
    """
    ## What it does
    Flags a plain `Dropout(rate)` applied to the output of an `Embedding` (with more than one
    embedding dimension).

    ## Why is this bad?
    On a `(batch, tokens, dim)` embedding output `Dropout` zeroes single coordinates of each
    token vector, a new pattern for every token. Embedding dropout is usually meant either as
    dropping whole embedding dimensions for the whole sequence (`SpatialDropout1D(rate)`, the
    same mask at every token: the variational / "locked" dropout that Gal and Ghahramani and
    AWD-LSTM apply to the embedded inputs) or as dropping whole tokens
    (`Dropout(rate, noise_shape=(None, tokens, 1))`: each token position of a sample is
    zeroed independently; the papers' word-type dropout, which removes every occurrence of a
    word, needs a custom layer). A mask from `Embedding(mask_zero=True)` passes through
    either; a token dropped this way stays unmasked, as a zero vector.

    ## Fix safety
    Unsafe: `SpatialDropout1D(rate)` drops whole embedding dimensions instead of single
    entries, which changes what is regularized.

    ## References
    - [Gal and Ghahramani, A Theoretically Grounded Application of Dropout in Recurrent Neural Networks (2016), section 4.2 (word embedding dropout)](https://arxiv.org/abs/1512.05287)
    - [Merity et al., Regularizing and Optimizing LSTM Language Models (2017)](https://arxiv.org/abs/1708.02182)
    - [keras.layers.SpatialDropout1D](https://keras.io/api/layers/regularization_layers/spatial_dropout1d/)
    """

    code = "DL103"
    name = "dropout-after-embedding"
    severity = Severity.INFO
    fix_safety = "unsafe"
    summary = "plain Dropout on an Embedding output"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(100,), dtype='int32')\n"
            "x = layers.Embedding(20000, 128)(inputs)\n"
            "x = layers.Dropout(0.2)(x)\n"
            "x = layers.LSTM(64)(x)\n"
            "model = keras.Model(inputs, layers.Dense(1, activation='sigmoid')(x))\n",
            line=6,
            message=("Dropout(0.2) on the Embedding output (None, 100, 128) drops single "
                     "entries, new each step"),
            fixed=(
                "import keras\n"
                "from keras import layers\n\n"
                "inputs = keras.Input(shape=(100,), dtype='int32')\n"
                "x = layers.Embedding(20000, 128)(inputs)\n"
                "x = layers.SpatialDropout1D(0.2)(x)\n"
                "x = layers.LSTM(64)(x)\n"
                "model = keras.Model(inputs, layers.Dense(1, activation='sigmoid')(x))\n"
            )),
        Invalid(
            "from keras import Sequential, Input\n"
            "from keras.layers import Embedding, Dropout, GlobalAveragePooling1D, Dense\n\n"
            "model = Sequential([\n"
            "    Input(shape=(80,)),\n"
            "    Embedding(5000, 64, mask_zero=True),\n"
            "    Dropout(0.25),\n"
            "    GlobalAveragePooling1D(),\n"
            "    Dense(1),\n"
            "])\n",
            line=7,
            message=("Dropout(0.25) on the Embedding output (None, 80, 64) drops single "
                     "entries, new each step"),
            fixed=(
                "from keras import Sequential, Input\n"
                "from keras.layers import Embedding, SpatialDropout1D, GlobalAveragePooling1D, Dense\n\n"
                "model = Sequential([\n"
                "    Input(shape=(80,)),\n"
                "    Embedding(5000, 64, mask_zero=True),\n"
                "    SpatialDropout1D(0.25),\n"
                "    GlobalAveragePooling1D(),\n"
                "    Dense(1),\n"
                "])\n"
            )),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(100,), dtype='int32')\n"
        "x = layers.Embedding(20000, 128)(inputs)\n"
        "x = layers.SpatialDropout1D(0.2)(x)\n"
        "x = layers.LSTM(64)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1, activation='sigmoid')(x))\n",
        # word dropout: whole tokens
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(100,), dtype='int32')\n"
        "x = layers.Embedding(20000, 128)(inputs)\n"
        "x = layers.Dropout(0.1, noise_shape=(None, 100, 1))(x)\n"
        "x = layers.LSTM(64)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    @once_per_message
    def check(self, ctx):
        for site, shape, rate in sequence_sites(ctx):
            node = site.node
            if after_embedding(node) is None:
                continue
            _, t, _ = shape
            message = (f"Dropout({fmt_rate(rate)}) on the Embedding output {fmt_shape(shape)} "
                       f"drops {brief(site.mask)}")
            help = (
                f"{mask_sentence(site.mask)} "
                f"Instead: {spatial_alternative(rate, shape, 'embedding dimensions')}; or "
                f"Dropout({fmt_rate(rate)}, noise_shape={fmt_shape((None, t, 1))}) drops whole "
                "tokens (token dropout).")
            yield ctx.report(self, node, message, site=site, help=help,
                             fix=spatial_fix(ctx.graph, node.layer, ctx.keras))
