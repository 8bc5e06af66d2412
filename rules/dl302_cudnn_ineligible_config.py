from droplint.report import Severity
from droplint.rule import Rule
from droplint.semantics import cudnn_ineligible_reasons

from ._common import cudnn_layers, inside


class CudnnIneligibleConfig(Rule):
    """
    ## What it does
    Flags an `LSTM`/`GRU` whose configuration rules out the cuDNN kernel: `activation` other
    than tanh, `recurrent_activation` other than sigmoid, `unroll=True`, `use_bias=False`, or
    GRU `reset_after=False`. With `use_cudnn=True` it is an error.

    ## Why is this bad?
    LSTM and GRU pick the fused cuDNN kernel by themselves only when all of these have their
    defaults (and `recurrent_dropout == 0`, see DL301). Otherwise training on a GPU runs the
    generic step loop, many times slower, with nothing in the logs to say so. With
    `use_cudnn=True` (Keras 3) an ineligible configuration raises at call time.

    ## Fix safety
    No automatic fix: the activation or bias choice may be deliberate. Pass
    `use_cudnn=False` to say the slow path is intended.

    ## References
    - [keras.layers.LSTM: cuDNN requirements](https://keras.io/api/layers/recurrent_layers/lstm/)
    - [keras.layers.GRU: cuDNN requirements](https://keras.io/api/layers/recurrent_layers/gru/)
    """

    code = "DL302"
    name = "cudnn-ineligible-config"
    severity = Severity.INFO
    summary = "LSTM/GRU configuration that rules out cuDNN; error with use_cudnn=True"
    BAD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(64, activation='relu')(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
        "import keras\n\n"
        "model = keras.Sequential([\n"
        "    keras.Input(shape=(30, 8)),\n"
        "    keras.layers.GRU(32, reset_after=False, use_cudnn=True),\n"
        "    keras.layers.Dense(1),\n"
        "])\n",
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(64)(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
        # the slow path, chosen explicitly
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(64, activation='relu', use_cudnn=False)(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    def check(self, ctx):
        for layer, wrapper in cudnn_layers(ctx.graph):
            use_cudnn = layer.args.get("use_cudnn", "auto")
            if use_cudnn is False:
                continue
            reasons = cudnn_ineligible_reasons(layer)
            forced = use_cudnn is True and ctx.keras.is_keras3
            if not forced:
                reasons = [r for r in reasons if not r.startswith("recurrent_dropout=")]
            if not reasons:
                continue
            listed = ", ".join(reasons)
            name = f"{layer.kind}{inside(wrapper)}"
            if forced:
                message = (f"{name} with use_cudnn=True and {listed}: this configuration cannot "
                           "run on cuDNN, so Keras raises when the layer is called. Remove "
                           f"{listed} or pass use_cudnn=False.")
                yield ctx.report(self, layer, message, argument="use_cudnn",
                                 severity=Severity.ERROR)
                continue
            defaults = "activation='tanh', recurrent_activation='sigmoid', use_bias=True, " \
                       "unroll=False" + (", reset_after=True" if layer.kind == "GRU" else "")
            message = (f"{name} with {listed} cannot use the cuDNN kernel: training on a GPU "
                       f"runs the generic step loop, many times slower. Keep the defaults "
                       f"({defaults}) for cuDNN, or pass use_cudnn=False to say the slow path "
                       "is intended.")
            yield ctx.report(self, layer, message, argument=reasons[0].split("=")[0])
