from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import describe, fmt_shape

from ._findings import noise_shape_fix, once_per_message
from ._graph import input_rank, noise_shape_uses
from ._values import noise_shape_of, right_aligned, with_batch_none
from ._words import noise_shape_call


class NoiseShapeSharedAcrossBatch(Rule):
    """
    ## What it does
    Flags a `noise_shape` with 1 in the batch axis (`noise_shape=(1, 30, 1)`), or one shorter
    than the input's rank (`noise_shape=(8,)` on `(batch, 30, 8)`).

    ## Why is this bad?
    An axis of size 1 in `noise_shape` is broadcast: a 1 in the batch axis draws one pattern
    for the whole batch, so every sample of a batch loses the same timesteps or features. A
    shorter noise_shape is right-aligned and padded with 1s, so `(8,)` means `(1, 1, 8)`: the
    same features dropped for every sample and every step. The samples of a batch are then
    no longer regularized independently, and the gradient of a batch sees one sub-network
    only. `None` in the batch axis (`noise_shape=(None, 30, 1)`) gives every sample its own
    mask, which is what the common recipes (e.g. "drop whole timesteps") mean.

    ## Fix safety
    Unsafe: `None` in the batch axis draws a pattern per sample instead of one per batch, which
    changes the training noise.

    ## References
    - [keras.layers.Dropout `noise_shape`](https://keras.io/api/layers/regularization_layers/dropout/)
    - [Srivastava et al., Dropout (JMLR 2014)](https://jmlr.org/papers/v15/srivastava14a.html)
    """

    code = "DL201"
    name = "noise-shape-shared-across-batch"
    severity = Severity.WARNING
    fix_safety = "unsafe"
    summary = "noise_shape with 1 in the batch axis, or shorter than the input rank"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.Dropout(0.2, noise_shape=(1, 30, 1))(inputs)\n"
            "x = layers.LSTM(10)(x)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5,
            message=("Dropout(0.2, noise_shape=(1, 30, 1)): batch axis 1, one mask for the "
                     "whole batch"),
            fixed=(
                "import keras\n"
                "from keras import layers\n\n"
                "inputs = keras.Input(shape=(30, 8))\n"
                "x = layers.Dropout(0.2, noise_shape=(None, 30, 1))(inputs)\n"
                "x = layers.LSTM(10)(x)\n"
                "model = keras.Model(inputs, layers.Dense(1)(x))\n"
            )),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.Dropout(0.2, noise_shape=(8,)),\n"
            "    keras.layers.GRU(10),\n"
            "])\n",
            line=5,
            message=("Dropout(0.2, noise_shape=(8,)) means (1, 1, 8) on (None, 30, 8): one "
                     "mask for the whole batch"),
            fixed=(
                "import keras\n\n"
                "model = keras.Sequential([\n"
                "    keras.Input(shape=(30, 8)),\n"
                "    keras.layers.Dropout(0.2, noise_shape=(None, 1, 8)),\n"
                "    keras.layers.GRU(10),\n"
                "])\n"
            )),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.Dropout(0.2, noise_shape=(None, 30, 1))(inputs)\n"
        "x = layers.LSTM(10)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    @once_per_message
    def check(self, ctx):
        for layer, ns, node, site in noise_shape_uses(ctx):
            rank = input_rank(node)
            call = noise_shape_call(layer, ns)
            what = f" drops {describe(site.mask)}" if site and site.mask.mask_shape else ""
            on = f" on {fmt_shape(node.input_shape)}" if rank is not None else ""
            shared = what or " draws one pattern shared by every sample of the batch"
            if rank is not None and len(ns) < rank:
                if site is None or site.mask.mask_shape is None:
                    continue  # incompatible: DL202
                padded = right_aligned(ns, rank)
                message = (f"{call} means {fmt_shape(padded)}{on}: one mask for the whole "
                           "batch")
                help = (f"The noise_shape is shorter than the input and right-aligned, so it "
                        f"means {fmt_shape(padded)}: it{shared}")
            elif ns and ns[0] == 1 and (rank is None or len(ns) == rank):
                rank = len(ns)
                message = f"{call}: batch axis 1, one mask for the whole batch"
                help = f"On{on[3:]} it{shared}" if on else f"It{shared}"
            else:
                continue
            new = with_batch_none(ns, rank)
            help += f". Use noise_shape={fmt_shape(new)} for a pattern per sample."
            yield ctx.report(self, layer, message, site=site, help=help,
                             fix=noise_shape_fix(layer, new, "unsafe"))
        yield from _time_distributed(self, ctx)


def _time_distributed(rule, ctx):
    """TimeDistributed(Dropout(r, noise_shape=(1, F))): the inner noise_shape is one step's,
    and a 1 in its batch axis shares the pattern across the batch (Keras 3: per step;
    tf.keras 2: across batch and time), as the site says."""
    for node in ctx.graph.nodes:
        layer, inner = node.layer, node.layer.inner
        if layer.kind != "TimeDistributed" or inner is None:
            continue
        ns, site = noise_shape_of(inner), ctx.site_of(node)
        if ns is None or site is None or site.mask.per_sample is not False:
            continue
        step_rank = len(node.input_shape) - 1 if node.input_shape is not None else len(ns)
        new = with_batch_none(ns, step_rank)
        message = (f"TimeDistributed({noise_shape_call(inner, ns)}): batch axis 1, one mask "
                   "for the whole batch")
        help = (f"On {fmt_shape(node.input_shape)} the noise_shape refers to one step, and its "
                f"batch axis is 1: it drops "
                f"{describe(site.mask)}. Use noise_shape={fmt_shape(new)} for a pattern per "
                "sample.")
        yield ctx.report(rule, layer, message, site=site, help=help,
                         fix=noise_shape_fix(inner, new, "unsafe"))
