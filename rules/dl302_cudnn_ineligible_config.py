from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import cudnn_ineligible_reasons

from ._graph import cudnn_layers
from ._values import active_rate
from ._words import inside, layer_call


class CudnnIneligibleConfig(Rule):
    """
    ## What it does
    Flags an `LSTM`/`GRU` whose configuration rules out the cuDNN kernel: `activation` other
    than tanh, `recurrent_activation` other than sigmoid, `unroll=True`, `use_bias=False`, or
    GRU `reset_after=False`. With `use_cudnn=True` it is an error. It does not fire (without
    `use_cudnn=True`) when the layer also has `recurrent_dropout > 0`: cuDNN is ruled out
    already, DL301 reports that and names these settings too, since removing
    `recurrent_dropout` alone would not bring cuDNN back.

    ## Why is this bad?
    LSTM and GRU pick the fused cuDNN kernel by themselves only when all of these have their
    defaults (and `recurrent_dropout == 0`, see DL301). Otherwise training on a GPU runs the
    generic step loop, many times slower, with nothing in the logs to say so. With
    `use_cudnn=True` Keras 3 raises at call time for an ineligible configuration; tf.keras 2's
    LSTM and GRU have no `use_cudnn` argument at all and raise `TypeError` when built.

    ## Fix safety
    No automatic fix: the activation or bias choice may be deliberate. In Keras 3 pass
    `use_cudnn=False` to say the slow path is intended; in tf.keras 2 (no `use_cudnn`)
    suppress the finding with `# noqa: DL302`.

    ## References
    - [keras.layers.LSTM: cuDNN requirements](https://keras.io/api/layers/recurrent_layers/lstm/)
    - [keras.layers.GRU: cuDNN requirements](https://keras.io/api/layers/recurrent_layers/gru/)
    """

    code = "DL302"
    name = "cudnn-ineligible-config"
    severity = Severity.INFO
    summary = "LSTM/GRU configuration that rules out cuDNN; error with use_cudnn=True"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.LSTM(64, activation='relu')(inputs)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5,
            message="LSTM(64) with activation='relu' cannot use cuDNN: slow GPU training"),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.GRU(32, reset_after=False, use_cudnn=True),\n"
            "    keras.layers.Dense(1),\n"
            "])\n",
            line=5, severity="error",
            message=("GRU(32) with use_cudnn=True and reset_after=False: Keras raises when "
                     "the layer is called")),
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
        # recurrent_dropout already rules cuDNN out: DL301 reports it and names activation=
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(64, activation='relu', recurrent_dropout=0.2)(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    def check(self, ctx):
        for layer, wrapper in cudnn_layers(ctx.graph):
            use_cudnn = layer.args.get("use_cudnn", "auto")
            if use_cudnn is False:
                continue
            reasons = cudnn_ineligible_reasons(layer)
            forced = use_cudnn is True
            if not forced:
                if active_rate(layer, "recurrent_dropout") is not None:
                    continue  # cuDNN is already ruled out: DL301 says so, and names these
                reasons = [r for r in reasons if not r.startswith("recurrent_dropout=")]
            if not reasons:
                continue
            listed = ", ".join(reasons)
            name = f"{layer_call(layer)}{inside(wrapper)}"
            defaults = ", ".join(_default(r) for r in reasons)
            if forced and ctx.keras.is_keras3:
                message = (f"{name} with use_cudnn=True and {listed}: Keras raises when the layer "
                           "is called")
                help = (f"This configuration cannot run on cuDNN. Write {defaults}, or pass "
                        "use_cudnn=False for the slow path.")
                yield ctx.report(self, layer, message, argument="use_cudnn",
                                 severity=Severity.ERROR, help=help)
                continue
            if forced:
                message = (f"{name} with use_cudnn=True: TypeError when built in tf.keras "
                           f"{ctx.keras}")
                help = (f"tf.keras {ctx.keras}'s {layer.kind} has no use_cudnn argument (\"Keyword "
                        f"argument not understood\"); with {listed} it could not use cuDNN "
                        f"anyway. Remove use_cudnn=, and write {defaults} for cuDNN.")
                yield ctx.report(self, layer, message, argument="use_cudnn",
                                 severity=Severity.ERROR, help=help)
                continue
            slow = ("pass use_cudnn=False to say the slow path is intended" if ctx.keras.is_keras3
                    else f"add `# noqa: DL302` if the slow path is intended (tf.keras {ctx.keras} "
                         "has no use_cudnn)")
            message = f"{name} with {listed} cannot use cuDNN: slow GPU training"
            help = ("Training on a GPU runs the generic step loop, many times slower. Write "
                    f"{defaults} for cuDNN, or {slow}.")
            yield ctx.report(self, layer, message, argument=reasons[0].split("=")[0], help=help)


DEFAULTS = {"recurrent_dropout": "recurrent_dropout=0", "activation": "activation='tanh'",
            "recurrent_activation": "recurrent_activation='sigmoid'", "unroll": "unroll=False",
            "use_bias": "use_bias=True", "reset_after": "reset_after=True"}


def _default(reason: str) -> str:
    """`activation='relu'` -> `activation='tanh'`: the cuDNN-eligible value."""
    return DEFAULTS[reason.split("=")[0]]
