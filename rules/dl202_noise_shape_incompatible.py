from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.graph import Layer
from droplint.semantics import describe, explain, fmt_shape

from ._findings import once_per_message
from ._graph import input_rank, noise_shape_uses
from ._values import right_aligned
from ._words import noise_shape_call


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
    than the input also builds fine (the symbolic output keeps the input's shape); under
    `fit` Keras 3 and tf.keras 2 raise `ValueError` ("Shapes must be equal rank"), and an
    eager call with `training=True` silently returns a tensor of higher rank, e.g.
    `(batch, batch, timesteps, features)` for `noise_shape=(None, 1, 1, features)`.

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
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.Dropout(0.2, noise_shape=(None, 1, 16))(inputs)\n"
            "x = layers.LSTM(10)(x)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5,
            message=("Dropout(0.2, noise_shape=(None, 1, 16)) on (None, 30, 8): axis 2 is "
                     "16 but the input has 8")),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.Dropout(0.2, noise_shape=(None, 1, 1, 8)),\n"
            "    keras.layers.LSTM(10),\n"
            "])\n",
            line=5,
            message=("Dropout(0.2, noise_shape=(None, 1, 1, 8)) on (None, 30, 8): rank 4 > "
                     "3, fit() raises ValueError")),
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
                message = (f"{call} on {fmt_shape(shape)}: rank {len(ns)} > {rank}, fit() raises "
                           "ValueError")
                help = (f"The noise_shape is longer than its {rank}-D input: the model builds, "
                        f"but fit() raises ValueError (\"Shapes must be equal rank, but are "
                        f"{len(ns)} and {rank}\"), and an eager call with training=True "
                        f"silently returns a rank-{len(ns)} tensor. Give one entry per input axis")
                suggestion = ns[len(ns) - rank:]
            else:
                problems = mismatches(ns, shape)
                if not problems:
                    continue
                message = f"{call} on {fmt_shape(shape)}: {'; '.join(problems)}"
                help = ("It does not fit its input: training fails with an incompatible-shapes "
                        "error (inference does not run the mask). Use None, 1 or the input's "
                        "size on each axis")
                suggestion = ns
            help += _example(layer, suggestion, shape, ctx.keras) + "."
            yield ctx.report(self, layer, message, site=site, help=help)


def _example(layer: Layer, ns: tuple, shape: tuple, keras) -> str:
    """`, e.g. noise_shape=(None, 1, 8): whole features, ...`: the noise_shape with one entry
    per input axis, None in the batch axis and each entry that does not fit replaced by the
    input's size; empty when that is not a valid mask either."""
    padded = right_aligned(ns, len(shape))
    fixed = [None]
    for d, size in zip(padded[1:], shape[1:]):
        fixed.append(d if d is None or d == 1 or d == size else size)
    fixed = tuple(fixed)
    mask = explain(Layer(layer.kind, {**layer.args, "noise_shape": fixed}, layer.origin),
                   shape, keras)
    if mask.mask_shape is None or mask.drops in ("unknown", "none"):
        return ""
    return f", e.g. noise_shape={fmt_shape(fixed)}, which drops {describe(mask)}"
