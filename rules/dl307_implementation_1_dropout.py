from droplint import fixes
from droplint.report import Severity
from droplint.rule import Invalid, Rule

from ._graph import cudnn_layers
from ._values import active_rate, number
from ._words import inside


class Implementation1Dropout(Rule):
    """
    ## What it does
    Flags, for Keras 3.8 and later, an `LSTM`/`GRU` with `implementation=1`, `dropout > 0`,
    `recurrent_dropout == 0` and `use_cudnn` not False.

    ## Why is this bad?
    In that configuration Keras 3.8+ builds the input dropout masks with the wrong rank and the
    first training step fails: under `fit` with "Shape must be at most rank 3 but is rank 4"
    (an eager call with `training=True` says "Rank of input (4) must be no greater than rank
    of output shape (3)"). Inference works, so the model builds and predicts and then crashes
    in `fit`. `implementation=1` only selects how the gate matmuls are split (Keras forces it
    anyway when `recurrent_dropout > 0`). tf.keras 2 is not affected, nor is a layer inside
    `Bidirectional`: Keras 3 rebuilds both directions from `get_config()`, which has no
    `implementation`, so they train with the default.

    ## Fix safety
    Safe: the code cannot train as written. Without `implementation=1` the layer computes the
    same function at inference, and in training applies one input mask `(batch, 1, features)`
    shared by all gates instead of one per gate.

    ## References
    - [keras.layers.LSTM `implementation`](https://keras.io/api/layers/recurrent_layers/lstm/)
    """

    code = "DL307"
    name = "implementation-1-dropout"
    severity = Severity.ERROR
    fix_safety = "safe"
    summary = "Keras >= 3.8: LSTM/GRU(implementation=1, dropout>0, recurrent_dropout=0) crashes"
    EXAMPLE_KERAS = "3.8"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.LSTM(32, dropout=0.2, implementation=1)(inputs)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5,
            message="LSTM(dropout=0.2, implementation=1) crashes in training in Keras 3.8.0",
            fixed=(
                "import keras\n"
                "from keras import layers\n\n"
                "inputs = keras.Input(shape=(30, 8))\n"
                "x = layers.LSTM(32, dropout=0.2)(inputs)\n"
                "model = keras.Model(inputs, layers.Dense(1)(x))\n"
            )),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.GRU(16, implementation=1, dropout=0.1),\n"
            "    keras.layers.Dense(1),\n"
            "])\n",
            line=5,
            message="GRU(dropout=0.1, implementation=1) crashes in training in Keras 3.8.0",
            fixed=(
                "import keras\n\n"
                "model = keras.Sequential([\n"
                "    keras.Input(shape=(30, 8)),\n"
                "    keras.layers.GRU(16, dropout=0.1),\n"
                "    keras.layers.Dense(1),\n"
                "])\n"
            )),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(32, dropout=0.2)(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(32, dropout=0.2, recurrent_dropout=0.1, implementation=1)(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    def check(self, ctx):
        if not (ctx.keras.is_keras3 and ctx.keras.at_least(3, 8)):
            return
        for layer, wrapper in cudnn_layers(ctx.graph):
            if wrapper is not None and wrapper.kind == "Bidirectional":
                continue  # Keras 3 rebuilds both directions from get_config(): no implementation
            dropout = active_rate(layer, "dropout")
            rd = number(layer, "recurrent_dropout", 0.0)
            if layer.args.get("implementation") != 1 or layer.args.get("use_cudnn") is False \
                    or dropout is None or rd != 0:
                continue
            message = (f"{layer.kind}(dropout={dropout:g}, implementation=1){inside(wrapper)} "
                       f"crashes in training in Keras {ctx.keras}")
            help = ("fit() fails with \"Shape must be at most rank 3 but is rank 4\" (an eager "
                    "call: \"Rank of input (4) must be no greater than rank of output shape "
                    "(3)\"); inference works, so the failure shows only in fit. Remove "
                    "implementation=1 (the default implementation=2 computes the same function).")
            fix = fixes.fix("safe", "remove implementation=1",
                            fixes.remove_argument(layer, "implementation"))
            yield ctx.report(self, layer, message, argument="implementation", fix=fix, help=help)
