from droplint.report import Severity
from droplint.rule import Invalid, Rule

from ._graph import function_call_layer


class UnguardedFunctionalDropout(Rule):
    """
    ## What it does
    Flags `tf.nn.dropout`, `keras.random.dropout` or `K.dropout` called inside a layer's or
    model's `call()` with no `training` guard around it.

    ## Why is this bad?
    These are plain functions, not layers: they know nothing about training and inference and
    drop **every time they run**, in `predict` and `evaluate` too. Predictions are then random
    and, because kept values are scaled by 1/(1-rate), biased. Guard the call with
    `if training:`, or use a `keras.layers.Dropout` created in `__init__`, which follows the
    training flag.

    ## Fix safety
    No automatic fix: adding the guard needs a `training` argument in `call()`.

    ## References
    - [tf.nn.dropout](https://www.tensorflow.org/api_docs/python/tf/nn/dropout)
    - [keras.random.dropout](https://keras.io/api/random/random_ops/#dropout-function)
    """

    code = "DL408"
    name = "unguarded-functional-dropout"
    severity = Severity.WARNING
    summary = "tf.nn.dropout / keras.random.dropout / K.dropout in call() without a training guard"
    BAD = (
        Invalid(
            "import tensorflow as tf\n"
            "import keras\n\n\n"
            "class Encoder(keras.layers.Layer):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.lstm = keras.layers.LSTM(32, return_sequences=True)\n\n"
            "    def call(self, inputs, training=None):\n"
            "        x = self.lstm(inputs)\n"
            "        return tf.nn.dropout(x, rate=0.2)\n",
            line=12,
            message=("tf.nn.dropout(...) inside call() ignores the training flag: it drops "
                     "in predict() too")),
        Invalid(
            "import keras\n\n\n"
            "class Noisy(keras.layers.Layer):\n"
            "    def call(self, inputs):\n"
            "        return keras.random.dropout(inputs, 0.1)\n",
            line=6,
            message=("keras.random.dropout(...) inside call() ignores the training flag: it "
                     "drops in predict() too")),
    )
    GOOD = (
        "import tensorflow as tf\n"
        "import keras\n\n\n"
        "class Encoder(keras.layers.Layer):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.lstm = keras.layers.LSTM(32, return_sequences=True)\n\n"
        "    def call(self, inputs, training=None):\n"
        "        x = self.lstm(inputs)\n"
        "        if training:\n"
        "            x = tf.nn.dropout(x, rate=0.2)\n"
        "        return x\n",
    )

    def check(self, ctx):
        for call in ctx.graph.calls:
            if not call.in_call or call.guarded:
                continue
            message = (f"{call.func}(...) inside call() ignores the training flag: it drops in "
                       "predict() too")
            help = ("Functional dropout drops every time it runs, in predict() and evaluate() "
                    "too. Wrap it in `if training:`, or use a keras.layers.Dropout created in "
                    "__init__.")
            yield ctx.report(self, function_call_layer(ctx.graph, call), message, help=help)
