from droplint.report import Severity
from droplint.rule import Rule

from ._common import dropout_rate, pct


class RateLooksLikeKeepProb(Rule):
    """
    ## What it does
    Flags a dropout layer with 0.8 <= rate < 1.

    ## Why is this bad?
    Keras' `rate` is the fraction of units **dropped**. TensorFlow 1's `tf.nn.dropout` took
    `keep_prob`, the fraction **kept**, and code ported from it often keeps the number:
    `Dropout(0.9)` then drops 90% of the activations instead of 10%, which cripples training.
    Rates this high are almost never intended.

    ## Fix safety
    No automatic fix: if the number was a keep probability, the rate is 1 - value (0.9 -> 0.1),
    but only you know.

    ## References
    - [keras.layers.Dropout](https://keras.io/api/layers/regularization_layers/dropout/)
    - [tf.nn.dropout: rate replaced keep_prob in TF 2](https://www.tensorflow.org/api_docs/python/tf/nn/dropout)
    """

    code = "DL405"
    name = "rate-looks-like-keep-prob"
    severity = Severity.WARNING
    summary = "0.8 <= rate < 1: looks like a TF1 keep_prob"
    BAD = (
        "import keras\n\n"
        "model = keras.Sequential([\n"
        "    keras.Input(shape=(30, 8)),\n"
        "    keras.layers.LSTM(64),\n"
        "    keras.layers.Dropout(0.9),\n"
        "    keras.layers.Dense(1),\n"
        "])\n",
    )
    GOOD = (
        "import keras\n\n"
        "model = keras.Sequential([\n"
        "    keras.Input(shape=(30, 8)),\n"
        "    keras.layers.LSTM(64),\n"
        "    keras.layers.Dropout(0.1),\n"
        "    keras.layers.Dense(1),\n"
        "])\n",
    )

    def check(self, ctx):
        for layer in ctx.graph.layers:
            rate = dropout_rate(layer)
            if rate is None or not 0.8 <= rate < 1:
                continue
            message = (f"{layer.kind}({rate:g}) drops {pct(rate)} of the values and keeps "
                       f"{pct(1 - rate)}: Keras' rate is the fraction dropped, not TF1's "
                       f"keep_prob. If {rate:g} was meant as the fraction kept, write "
                       f"{layer.kind}({1 - rate:.2g}).")
            yield ctx.report(self, layer, message)
