from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import fmt_shape

from ._findings import noise_shape_fix, once_per_message
from ._graph import input_rank, noise_shape_uses
from ._values import is_int, with_batch_none
from ._words import noise_shape_call


class NoiseShapeFixedBatch(Rule):
    """
    ## What it does
    Flags a `noise_shape` with an int greater than 1 in the batch axis, e.g.
    `noise_shape=(32, 1, 8)`.

    ## Why is this bad?
    The mask is drawn for exactly that many samples. Training works only on batches of
    exactly that size: the last, partial batch of an epoch (and any other batch size) fails
    with an incompatible-shapes error. `None` takes the batch size at run time and draws the
    same per-sample pattern.

    ## Fix safety
    Safe: `None` in the batch axis draws the same per-sample masks for batches of the written
    size, and also works for every other size.

    ## References
    - [keras.layers.Dropout `noise_shape`](https://keras.io/api/layers/regularization_layers/dropout/)
    """

    code = "DL203"
    name = "noise-shape-fixed-batch"
    severity = Severity.WARNING
    fix_safety = "safe"
    summary = "an int > 1 in the batch axis of noise_shape: training fails on other batch sizes"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.Dropout(0.2, noise_shape=(32, 1, 8))(inputs)\n"
            "x = layers.LSTM(10)(x)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5,
            message=("Dropout(0.2, noise_shape=(32, 1, 8)) fixes the batch size at 32: "
                     "other sizes fail in training"),
            fixed=(
                "import keras\n"
                "from keras import layers\n\n"
                "inputs = keras.Input(shape=(30, 8))\n"
                "x = layers.Dropout(0.2, noise_shape=(None, 1, 8))(inputs)\n"
                "x = layers.LSTM(10)(x)\n"
                "model = keras.Model(inputs, layers.Dense(1)(x))\n"
            )),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.Dropout(0.2, noise_shape=(None, 1, 8))(inputs)\n"
        "x = layers.LSTM(10)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    @once_per_message
    def check(self, ctx):
        for layer, ns, node, site in noise_shape_uses(ctx):
            rank = input_rank(node)
            if not ns or not is_int(ns[0]) or ns[0] <= 1 or (rank is not None and len(ns) != rank):
                continue
            new = with_batch_none(ns, len(ns))
            call = noise_shape_call(layer, ns)
            message = (f"{call} fixes the batch size at {ns[0]}: other sizes fail in "
                       "training")
            help = (f"Training fails on any batch size other than {ns[0]}, including the last "
                    f"partial batch of an epoch. Use noise_shape={fmt_shape(new)}.")
            yield ctx.report(self, layer, message, site=site, help=help,
                             fix=noise_shape_fix(layer, new, "safe"))
