from droplint.report import Severity
from droplint.rule import Rule
from droplint.semantics import fmt_shape

from ._common import input_rank, noise_shape_call, noise_shape_uses, once_per_message


def mismatches(ns: tuple, shape: tuple) -> list[str]:
    """Why `ns` cannot broadcast against `shape` (same or shorter rank), in plain words."""
    rank = len(shape)
    offset = rank - len(ns)
    out = []
    for i, d in enumerate(ns):
        axis = offset + i
        size = shape[axis]
        if d is None:
            filled = shape[i]  # None takes the input's size left-aligned ...
            if offset and size is not None and (i == 0 or filled is not None) \
                    and filled not in (size, 1):
                where = "the batch size" if i == 0 else f"{filled}"
                out.append(f"its None at position {i} takes {where} from input axis {i} but is "
                           f"broadcast against axis {axis} (size {size})")
        elif d != 1 and axis != 0 and size is not None and d != size:
            out.append(f"axis {axis} is {d} but the input has {size}")
    return out


class NoiseShapeIncompatible(Rule):
    """
    ## What it does
    Flags a `noise_shape` longer than the input's rank, or with an entry that is neither
    `None`, 1, nor the input's size on that axis.

    ## Why is this bad?
    The mask is drawn in `noise_shape` (None filled from the input's shape, left-aligned) and
    multiplied into the input (broadcast right-aligned). An entry that does not match fails
    with an incompatible-shapes error, but only when the layer runs in training, so the model
    builds, summarizes and predicts fine and breaks at the first `fit`. A noise_shape longer
    than the input does not fail at all: it silently raises the output's rank, and the layers
    after it see a tensor of the wrong shape.

    ## Fix safety
    No automatic fix: the intended axes are unknown.

    ## References
    - [keras.layers.Dropout `noise_shape`](https://keras.io/api/layers/regularization_layers/dropout/)
    """

    code = "DL202"
    name = "noise-shape-incompatible"
    severity = Severity.ERROR
    summary = "noise_shape longer than the input rank, or an entry not None, 1 or the input's size"
    BAD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.Dropout(0.2, noise_shape=(None, 1, 16))(inputs)\n"
        "x = layers.LSTM(10)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
        "import keras\n\n"
        "model = keras.Sequential([\n"
        "    keras.Input(shape=(30, 8)),\n"
        "    keras.layers.Dropout(0.2, noise_shape=(None, 1, 1, 8)),\n"
        "    keras.layers.LSTM(10),\n"
        "])\n",
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
            if rank is None:
                continue
            shape = tuple(node.input_shape)
            call = noise_shape_call(layer, ns)
            if len(ns) > rank:
                message = (f"{call} is longer than its {rank}-D input {fmt_shape(shape)}: Keras "
                           f"does not fail but silently broadcasts the output to rank {len(ns)}. "
                           f"Give one entry per input axis, e.g. noise_shape="
                           f"{fmt_shape((None,) + (1,) * (rank - 2) + shape[-1:])} to drop whole "
                           "features.")
            else:
                problems = mismatches(ns, shape)
                if not problems:
                    continue
                message = (f"{call} does not fit its input {fmt_shape(shape)}: "
                           f"{'; '.join(problems)}. Training fails with an incompatible-shapes "
                           "error (inference does not run the mask). Use None, 1 or the input's "
                           "size on each axis.")
            yield ctx.report(self, layer, message, site=site)
