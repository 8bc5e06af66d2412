from droplint.report import Severity
from droplint.rule import Invalid, Rule

from ._graph import cudnn_layers
from ._values import number, rnn_seed


class SeededBidirectionalDropout(Rule):
    """
    ## What it does
    Flags `Bidirectional` around an `LSTM`/`GRU` that has `dropout` or `recurrent_dropout`
    and an int `seed` (Keras 3).

    ## Why is this bad?
    Keras 3 builds the backward layer from the forward layer's config, seed included, so both
    directions draw **identical** dropout masks at every call: the same input features are
    dropped for the forward and the backward pass. The two directions are then regularized
    together instead of independently. (SimpleRNN does not keep its seed in the copy.)

    ## Fix safety
    No automatic fix. Remove `seed=` (seed the whole program with
    `keras.utils.set_random_seed` for reproducibility), or pass a `backward_layer` with its own
    seed.

    ## References
    - [keras.layers.Bidirectional](https://keras.io/api/layers/recurrent_layers/bidirectional/)
    - [keras.utils.set_random_seed](https://keras.io/api/utils/python_utils/#setrandomseed-function)
    """

    code = "DL306"
    name = "seeded-bidirectional-dropout"
    severity = Severity.WARNING
    summary = "Bidirectional(LSTM/GRU with dropout and an int seed): identical masks both ways"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.Bidirectional(layers.LSTM(32, dropout=0.2, seed=42))(inputs)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5,
            message=("Bidirectional(LSTM(dropout=0.2, seed=42)): both directions draw "
                     "identical masks")),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "keras.utils.set_random_seed(42)\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.Bidirectional(layers.LSTM(32, dropout=0.2))(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    def check(self, ctx):
        if not ctx.keras.is_keras3:
            return
        for layer, wrapper in cudnn_layers(ctx.graph):
            seed = rnn_seed(layer)
            if wrapper is None or wrapper.kind != "Bidirectional" or seed is None \
                    or "backward_layer" in wrapper.args:
                continue
            given = {a: number(layer, a, 0.0) or 0 for a in ("dropout", "recurrent_dropout")}
            rates = [f"{a}={rate:g}" for a, rate in given.items() if rate > 0]
            if not rates:
                continue
            message = (f"Bidirectional({layer.kind}({', '.join(rates)}, seed={seed})): both "
                       "directions draw identical masks")
            help = ("Keras 3 copies the seed into the backward layer, so both directions draw "
                    f"identical masks at every call ({_what(given)}). Remove seed= (use "
                    "keras.utils.set_random_seed), or pass a backward_layer with its own seed.")
            yield ctx.report(self, layer, message, argument="seed", help=help)


def _what(given: dict) -> str:
    """What the two directions drop alike."""
    parts = []
    if given["dropout"] > 0:
        parts.append("the same input features")
    if given["recurrent_dropout"] > 0:
        parts.append("the same state units")
    return " and ".join(parts) + " are dropped in both"
