from droplint.report import Severity
from droplint.rule import Invalid, Rule

from ._graph import layer_sites
from ._words import layer_call


class TrainingTrueCall(Rule):
    """
    ## What it does
    Flags a dropout layer called with `training=True`, e.g. `Dropout(0.3)(x, training=True)`.
    A **warning** in a Keras 3 functional or Sequential graph, **info** inside a subclassed
    `call()` or with tf.keras 2.

    ## Why is this bad?
    `training=True` is the usual way to ask for Monte Carlo dropout (dropout kept on at
    inference, to sample predictions). Inside a subclassed layer or model's `call()`, and in
    any tf.keras 2 model, it does that: the layer is always on, in `predict` too, which is
    worth knowing (info). In a Keras 3 functional or Sequential model it does **not**: the
    outer call's training flag overrides it, so `predict` and `evaluate` run without dropout
    and the MC-dropout samples are all identical (warning). For MC dropout in Keras 3 use a
    subclassed layer whose `call()` passes `training=True`, or call
    `model(x, training=True)` when sampling.

    ## Fix safety
    No automatic fix: whether MC dropout is wanted is a modelling choice.

    ## References
    - [Gal and Ghahramani, Dropout as a Bayesian Approximation (2016)](https://arxiv.org/abs/1506.02142)
    - [Keras FAQ: the training argument](https://keras.io/getting_started/faq/#whats-the-difference-between-the-training-argument-in-call-and-the-trainable-attribute)
    """

    code = "DL406"
    name = "training-true-call"
    severity = Severity.WARNING
    summary = "a dropout layer called with training=True (overridden in Keras 3 graphs)"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.LSTM(32)(inputs)\n"
            "x = layers.Dropout(0.3)(x, training=True)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=6,
            message=("Dropout(0.3)(..., training=True) in a Keras 3 functional model is "
                     "overridden: no Monte Carlo dropout")),
        Invalid(
            "import keras\n"
            "from keras import layers\n\n\n"
            "class MCDropoutModel(keras.Model):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.lstm = layers.LSTM(32)\n"
            "        self.drop = layers.Dropout(0.3)\n"
            "        self.out = layers.Dense(1)\n\n"
            "    def call(self, inputs, training=None):\n"
            "        x = self.lstm(inputs)\n"
            "        x = self.drop(x, training=True)\n"
            "        return self.out(x)\n",
            line=14, severity="info",
            message=("Dropout(0.3)(..., training=True) inside call() keeps dropout on at "
                     "inference: predict() is random")),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(32)(inputs)\n"
        "x = layers.Dropout(0.3)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    def check(self, ctx):
        for site in layer_sites(ctx):
            node = site.node
            if node.call_args.get("training") is not True:
                continue
            call = f"{layer_call(node.layer)}(..., training=True)"
            if node.context == "subclassed" or not ctx.keras.is_keras3:
                where = "inside call()" if node.context == "subclassed" else \
                    f"in tf.keras {ctx.keras}"
                message = f"{call} {where} keeps dropout on at inference: predict() is random"
                help = ("This is Monte Carlo dropout: the dropout stays on at inference too. "
                        "Drop training=True if that is not intended.")
                severity = Severity.INFO
            else:
                message = (f"{call} in a Keras 3 {node.context} model is overridden: no Monte "
                           "Carlo dropout")
                help = ("The outer call decides: fit() turns dropout on, predict()/evaluate() "
                        "turn it off, so this gives no Monte Carlo dropout. For MC dropout call "
                        "model(x, training=True) when sampling, or use a subclassed layer whose "
                        "call() passes training=True.")
                severity = Severity.WARNING
            yield ctx.report(self, node, message, span=node.call_spans.get("training"),
                             severity=severity, site=site, help=help)
