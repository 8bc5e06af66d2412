from droplint.graph import NOISE_KINDS
from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import describe

from ._findings import once_per_message
from ._graph import known_mask, layer_sites, recurrent_consumers
from ._values import active_rate
from ._words import layer_call, rnn_name


class DoubleDropout(Rule):
    """
    ## What it does
    Flags a dropout layer that feeds a recurrent layer (directly or through shape-preserving
    layers) which also has `dropout > 0`.

    ## Why is this bad?
    The inputs then pass two independent masks: with rates p and q an input value survives
    with probability (1-p)(1-q), so `Dropout(0.3)` before `LSTM(dropout=0.3)` keeps only 49%
    of the values, an effective rate of 0.51, which is rarely what either number was chosen
    for. The two masks often differ in shape too: in Keras 3 the layer's `dropout=` drops
    whole input features with one mask for every timestep, while a plain `Dropout` drops
    single entries anew at every step (in tf.keras 2 under `fit` both are single entries,
    fresh at every step), so the combination is hard to reason about. Keep one of them, with
    the rate you mean.

    ## Fix safety
    No automatic fix: which of the two to keep is a modelling choice.

    ## References
    - [Srivastava et al., Dropout (JMLR 2014)](https://jmlr.org/papers/v15/srivastava14a.html)
    - [keras.layers.LSTM `dropout`](https://keras.io/api/layers/recurrent_layers/lstm/)
    """

    code = "DL305"
    name = "double-dropout"
    severity = Severity.INFO
    summary = "a dropout layer feeds a recurrent layer that also has dropout > 0"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.Dropout(0.3)(inputs)\n"
            "x = layers.LSTM(10, dropout=0.2)(x)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5,
            message=("Dropout(0.3) feeds LSTM(dropout=0.2): keep (1-0.3)(1-0.2) = 0.56, "
                     "effective rate 0.44")),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.SpatialDropout1D(0.2),\n"
            "    keras.layers.Bidirectional(keras.layers.GRU(16, dropout=0.2)),\n"
            "    keras.layers.Dense(1),\n"
            "])\n",
            line=5,
            message="SpatialDropout1D(0.2) feeds Bidirectional(GRU(dropout=0.2)): keep"),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.SpatialDropout1D(0.3)(inputs)\n"
        "x = layers.LSTM(10, recurrent_dropout=0.2)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    @once_per_message
    def check(self, ctx):
        for site in layer_sites(ctx):
            node = site.node
            layer = node.layer
            if not layer.is_dropout or layer.kind in NOISE_KINDS:
                continue
            p = active_rate(layer, "rate")
            if p is None:
                continue
            for rnn in recurrent_consumers(ctx.graph, node):
                q = active_rate(rnn.layer.core, "dropout")
                if q is None:
                    continue
                keep = (1 - p) * (1 - q)
                theirs = ctx.site_of(rnn, "dropout")
                their_mask = f" ({describe(theirs.mask)})" if known_mask(theirs) else ""
                mine = f" ({describe(site.mask)})" if known_mask(site) else ""
                message = (f"{layer_call(layer)} feeds {rnn_name(rnn.layer, 'dropout')}: "
                           f"keep (1-{p:g})(1-{q:g}) = {keep:.2g}, effective rate {1 - keep:.2g}")
                help = (f"{layer_call(layer)}{mine} feeds "
                        f"{rnn_name(rnn.layer, 'dropout')}{their_mask}: each input value "
                        f"survives both with probability {keep:.2g}. Keep one of the two with "
                        f"the rate you mean: {layer_call(layer)} alone, or "
                        f"{rnn_name(rnn.layer, 'dropout')} without the {layer.kind}.")
                yield ctx.report(self, node, message, site=site, help=help)
                break
