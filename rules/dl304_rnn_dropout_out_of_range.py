from droplint.report import Severity
from droplint.rule import Invalid, Rule

from ._graph import recurrent_layers
from ._values import number
from ._words import inside

CLIPPED_TO_ZERO_OFF = frozenset({"LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"})


class RnnDropoutOutOfRange(Rule):
    """
    ## What it does
    Checks that `dropout` and `recurrent_dropout` of a recurrent layer lie in [0, 1).

    ## Why is this bad?
    Unlike the `Dropout` layer, recurrent layers do not raise for an out-of-range rate when
    built: they clip it silently to [0, 1] (the built config shows the clipped value). A
    negative rate becomes 0, no dropout. LSTM, GRU and ConvLSTM only drop when
    0 < rate < 1, so a rate of 1 or more also means no dropout at all. SimpleRNN applies any
    rate above 0: in Keras 3 `dropout=1` zeroes every input (the layer learns from its state
    alone) and `recurrent_dropout=1` zeroes the whole state; in tf.keras 2 either one makes
    training fail with `ValueError` (the rate must be in [0, 1)), like `Dropout(1.0)`.

    ## Fix safety
    No automatic fix: the intended rate is unknown. A rate is the fraction dropped, e.g. 0.2.

    ## References
    - [keras.layers.LSTM](https://keras.io/api/layers/recurrent_layers/lstm/)
    - [keras.layers.SimpleRNN](https://keras.io/api/layers/recurrent_layers/simple_rnn/)
    """

    code = "DL304"
    name = "rnn-dropout-out-of-range"
    severity = Severity.ERROR
    summary = "RNN dropout/recurrent_dropout < 0 or >= 1 (silently clipped)"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.LSTM(64, dropout=1.0)(inputs)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5,
            message=("LSTM(dropout=1): LSTM only drops when 0 < rate < 1, so there is no "
                     "dropout at all")),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.SimpleRNN(16, recurrent_dropout=-0.2),\n"
            "])\n",
            line=5,
            message="SimpleRNN(recurrent_dropout=-0.2) is clipped silently to 0: no dropout at all"),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.SimpleRNN(16, dropout=1),\n"
            "])\n",
            line=5,
            message="SimpleRNN(dropout=1): every input is zeroed at every step in training"),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(64, dropout=0.2, recurrent_dropout=0.0)(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    def check(self, ctx):
        for layer, wrapper in recurrent_layers(ctx.graph):
            for argument in ("dropout", "recurrent_dropout"):
                rate = number(layer, argument, 0.0)
                if rate is None or 0 <= rate < 1:
                    continue
                call = f"{layer.kind}({argument}={rate:g}){inside(wrapper)}"
                clipped = " is clipped silently to 1" if rate > 1 else ""
                why = ""
                if rate < 0:
                    effect = " is clipped silently to 0: no dropout at all"
                elif layer.kind in CLIPPED_TO_ZERO_OFF:
                    effect = (f"{clipped}: {layer.kind} only drops when 0 < rate < 1, so there "
                              "is no dropout at all")
                elif not ctx.keras.is_keras3:
                    effect = f"{clipped}: training fails with ValueError in tf.keras {ctx.keras}"
                    why = f"In tf.keras {ctx.keras} {layer.kind} refuses a rate of 1 when it runs. "
                elif argument == "dropout":
                    effect = f"{clipped}: every input is zeroed at every step in training"
                    why = "The layer learns from its state alone. "
                else:
                    effect = f"{clipped}: the whole recurrent state is zeroed in training"
                help = f"{why}A rate is the fraction dropped, in [0, 1), e.g. 0.2."
                yield ctx.report(self, layer, f"{call}{effect}", argument=argument, help=help)
