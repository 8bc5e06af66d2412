from droplint.report import Severity
from droplint.rule import Rule

from ._graph import recurrent_layers
from ._values import dropout_rate, number
from ._words import inside, pct


class RateLooksLikeKeepProb(Rule):
    """
    ## What it does
    Flags a dropout layer with 0.8 <= rate < 1, and a recurrent layer's `dropout` or
    `recurrent_dropout` in that range (reported at the argument).

    ## Why is this bad?
    Keras' `rate` is the fraction of units **dropped**. TensorFlow 1's `tf.nn.dropout` took
    `keep_prob`, the fraction **kept**, and code ported from it often keeps the number:
    `Dropout(0.9)` then drops 90% of the activations instead of 10%, which cripples training.
    The same goes for `input_keep_prob` of TF1's `DropoutWrapper` turned into an LSTM's
    `dropout=`.
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
        "import keras\n\n"
        "model = keras.Sequential([\n"
        "    keras.Input(shape=(30, 8)),\n"
        "    keras.layers.GRU(64, dropout=0.8),\n"
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
        "import keras\n\n"
        "model = keras.Sequential([\n"
        "    keras.Input(shape=(30, 8)),\n"
        "    keras.layers.LSTM(64, dropout=0.2, recurrent_dropout=0.2),\n"
        "    keras.layers.Dense(1),\n"
        "])\n",
    )

    def check(self, ctx):
        for layer in ctx.graph.layers:
            rate = dropout_rate(layer)
            if rate is not None and 0.8 <= rate < 1:
                yield ctx.report(self, layer, _message(f"{layer.kind}({rate:g})", rate,
                                                       f"{layer.kind}({1 - rate:.2g})"))
        for layer, wrapper in recurrent_layers(ctx.graph):
            for argument in ("dropout", "recurrent_dropout"):
                rate = number(layer, argument, 0.0)
                if rate is not None and 0.8 <= rate < 1:
                    call = f"{layer.kind}({argument}={rate:g}){inside(wrapper)}"
                    instead = f"{argument}={1 - rate:.2g}"
                    what = "inputs" if argument == "dropout" else "recurrent state"
                    yield ctx.report(self, layer, _message(call, rate, instead, what),
                                     argument=argument)


def _message(call: str, rate: float, instead: str, what: str = "values") -> str:
    if call.startswith("GaussianDropout"):
        effect = (f"multiplies the values by noise of stddev sqrt({rate:g}/(1-{rate:g})) = "
                  f"{(rate / (1 - rate)) ** 0.5:.2g}, as strong as dropping {pct(rate)}")
    else:
        effect = f"drops {pct(rate)} of the {what} and keeps {pct(1 - rate)}"
    return (f"{call} {effect}: Keras' rate is the fraction dropped, not TF1's keep_prob. If "
            f"{rate:g} was meant as the fraction kept, write {instead}.")
