from droplint import fixes
from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import rnn_dropout_arguments

from ._words import layer_call, rnn_name


class ExplicitTrainingNone(Rule):
    """
    ## What it does
    Flags, for Keras 3.10 and later, a dropout layer or a recurrent layer with dropout called
    inside a subclassed `call()` with an explicit `training=None`.

    ## Why is this bad?
    Since Keras 3.10 an explicit `training=None` is taken at its word: the layer runs in
    inference mode, so its dropout is **off even in `fit`**. Older Keras (and the usual
    tutorials) treated it as "inherit the outer flag", so code that passed the `training`
    default through by name silently lost its regularization on upgrade. Pass the `training`
    argument of `call()` on, or leave the keyword out.

    ## Fix safety
    Unsafe: `training=training` turns dropout back on in `fit`, which changes training (and
    needs `training` to be an argument of the enclosing `call()`).

    ## References
    - [Keras 3.10 release notes](https://github.com/keras-team/keras/releases/tag/v3.10.0)
    - [Keras FAQ: the training argument](https://keras.io/getting_started/faq/#whats-the-difference-between-the-training-argument-in-call-and-the-trainable-attribute)
    """

    code = "DL407"
    name = "explicit-training-none"
    severity = Severity.WARNING
    fix_safety = "unsafe"
    summary = "Keras >= 3.10, subclassed call(): training=None turns dropout off even in fit"
    EXAMPLE_KERAS = "3.10"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n\n"
            "class Regressor(keras.Model):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.lstm = layers.LSTM(32)\n"
            "        self.drop = layers.Dropout(0.3)\n"
            "        self.out = layers.Dense(1)\n\n"
            "    def call(self, inputs, training=None):\n"
            "        x = self.lstm(inputs)\n"
            "        x = self.drop(x, training=None)\n"
            "        return self.out(x)\n",
            line=14,
            message=("Dropout(0.3) called with training=None inside call(): its dropout is "
                     "off in fit()"),
            fixed=(
                "import keras\n"
                "from keras import layers\n\n\n"
                "class Regressor(keras.Model):\n"
                "    def __init__(self):\n"
                "        super().__init__()\n"
                "        self.lstm = layers.LSTM(32)\n"
                "        self.drop = layers.Dropout(0.3)\n"
                "        self.out = layers.Dense(1)\n\n"
                "    def call(self, inputs, training=None):\n"
                "        x = self.lstm(inputs)\n"
                "        x = self.drop(x, training=training)\n"
                "        return self.out(x)\n"
            )),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n\n"
        "class Regressor(keras.Model):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.lstm = layers.LSTM(32)\n"
        "        self.drop = layers.Dropout(0.3)\n"
        "        self.out = layers.Dense(1)\n\n"
        "    def call(self, inputs, training=None):\n"
        "        x = self.lstm(inputs)\n"
        "        x = self.drop(x, training=training)\n"
        "        return self.out(x)\n",
    )

    def check(self, ctx):
        if not (ctx.keras.is_keras3 and ctx.keras.at_least(3, 10)):
            return
        for node in ctx.graph.nodes:
            if node.context != "subclassed" or "training" not in node.call_args \
                    or node.call_args["training"] is not None:
                continue
            layer = node.layer
            is_rnn = layer.is_recurrent and rnn_dropout_arguments(layer)
            if not (layer.is_dropout or is_rnn):
                continue
            name = layer_call(layer) if layer.is_dropout \
                else rnn_name(layer, *rnn_dropout_arguments(layer))
            message = f"{name} called with training=None inside call(): its dropout is off in fit()"
            help = (f"In Keras {ctx.keras} an explicit None means inference mode, so its dropout "
                    "is off even in fit(). Pass training=training, or leave the keyword out.")
            span = node.call_spans.get("training")
            fix = fixes.fix("unsafe", "pass training=training",
                            fixes.replace_span(span, "training=training"))
            site = ctx.site_of(node) if layer.is_dropout else None
            yield ctx.report(self, node, message, span=span, fix=fix, site=site, help=help)
