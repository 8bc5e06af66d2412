from droplint.report import Severity
from droplint.rule import Invalid, Rule

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

    Rates this high are rarely intended, but they can be: in Keras-native code a consistent
    `Dropout(0.8)` is often deliberate (on a real-world corpus, every such rate in files
    without TF1 code was). So the finding is **info**, and a **warning** only when the file
    shows TF1 idioms, the sign of code ported from TF1: a `keep_prob` name (`keep_prob`,
    `input_keep_prob`, `tf.nn.dropout(x, keep_prob=...)`), `tf.compat.v1`, `tf.contrib` or
    `tf.placeholder`, in the code (comments and strings do not count). A built model has no
    source, so there it is info.

    ## Fix safety
    No automatic fix: if the number was a keep probability, the rate is 1 - value (0.9 -> 0.1),
    but only you know.

    ## References
    - [keras.layers.Dropout](https://keras.io/api/layers/regularization_layers/dropout/)
    - [tf.nn.dropout: rate replaced keep_prob in TF 2](https://www.tensorflow.org/api_docs/python/tf/nn/dropout)
    """

    code = "DL405"
    name = "rate-looks-like-keep-prob"
    severity = Severity.INFO  # WARNING when the file shows TF1 idioms
    summary = "0.8 <= rate < 1: looks like a TF1 keep_prob (warning in files with TF1 idioms)"
    BAD = (
        Invalid(
            "import tensorflow as tf\n\n"
            "keep_prob = 0.8  # ported from tf.nn.dropout(x, keep_prob)\n"
            "model = tf.keras.Sequential([\n"
            "    tf.keras.Input(shape=(30, 8)),\n"
            "    tf.keras.layers.LSTM(64),\n"
            "    tf.keras.layers.Dropout(keep_prob),\n"
            "    tf.keras.layers.Dense(1),\n"
            "])\n",
            line=7, severity="warning",
            message="Dropout(0.8) drops 80% of the values and keeps 20%: a TF1 keep_prob?"),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.LSTM(64),\n"
            "    keras.layers.Dropout(0.9),\n"
            "    keras.layers.Dense(1),\n"
            "])\n",
            line=6,
            message="Dropout(0.9) drops 90% of the values and keeps 10%: a TF1 keep_prob?"),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.GRU(64, dropout=0.8),\n"
            "    keras.layers.Dense(1),\n"
            "])\n",
            line=5,
            message="GRU(dropout=0.8) drops 80% of the inputs and keeps 20%: a TF1 keep_prob?"),
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
        idioms = sorted(ctx.graph.idioms)
        severity = Severity.WARNING if idioms else Severity.INFO
        for layer in ctx.graph.layers:
            rate = dropout_rate(layer)
            if rate is not None and 0.8 <= rate < 1:
                message, help = _words(f"{layer.kind}({rate:g})", rate,
                                       f"{layer.kind}({1 - rate:.2g})", idioms)
                yield ctx.report(self, layer, message, help=help, severity=severity)
        for layer, wrapper in recurrent_layers(ctx.graph):
            for argument in ("dropout", "recurrent_dropout"):
                rate = number(layer, argument, 0.0)
                if rate is not None and 0.8 <= rate < 1:
                    call = f"{layer.kind}({argument}={rate:g}){inside(wrapper)}"
                    instead = f"{argument}={1 - rate:.2g}"
                    what = "inputs" if argument == "dropout" else "recurrent state"
                    message, help = _words(call, rate, instead, idioms, what)
                    yield ctx.report(self, layer, message, argument=argument, help=help,
                                     severity=severity)


def _words(call: str, rate: float, instead: str, idioms: list[str],
           what: str = "values") -> tuple[str, str]:
    """The message (what the rate does) and the help (keep_prob, and why this severity)."""
    if call.startswith("GaussianDropout"):
        effect = (f"multiplies the values by noise of stddev sqrt({rate:g}/(1-{rate:g})) = "
                  f"{(rate / (1 - rate)) ** 0.5:.2g}, as strong as dropping {pct(rate)}")
    else:
        effect = f"drops {pct(rate)} of the {what} and keeps {pct(1 - rate)}"
    why = (f" This file uses TF1 idioms ({', '.join(idioms)}), so a ported keep_prob is likely."
           if idioms else "")
    return (f"{call} {effect}: a TF1 keep_prob?",
            f"Keras' rate is the fraction dropped, not TF1's keep_prob. If {rate:g} was meant "
            f"as the fraction kept, write {instead}.{why}")
