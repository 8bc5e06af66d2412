from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import fmt_shape

from ._values import is_int
from ._words import fmt_value, layer_call, where


def _seed(site):
    layer = site.node.layer
    if site.argument is None:
        if layer.kind == "TimeDistributed" and layer.inner is not None:
            layer = layer.inner
        seed = layer.args.get("seed")
    else:
        seed = layer.core.args.get("seed")
    return seed if is_int(seed) else None


def _family(site):
    """Masks comparable draw for draw: dropout layers together; RNNs per kind and argument."""
    if site.argument is None:
        return "layer"
    return f"{site.node.layer.core.kind}.{site.argument}"


def _position(site):
    span = site.node.layer.origin.span
    return (span.line, span.column) if span else (0, 0)


def _describe(site):
    layer = site.node.layer
    if site.argument is None:
        return f"{layer_call(layer)[:-1]}, seed={_seed(site)})"
    rate = layer.core.args.get(site.argument)
    return f"{layer.core.kind}({site.argument}={fmt_value(rate)}, seed={_seed(site)})"


class SharedDropoutSeed(Rule):
    """
    ## What it does
    Flags two or more dropout layers, or recurrent layers with dropout, that use the same int
    `seed` and draw masks of the same shape.

    ## Why is this bad?
    A seeded layer starts its random stream from the seed; two layers with the same seed and
    the same mask shape therefore draw **identical** masks at every training step (with
    different rates, nested ones). Dropping the same positions in two places removes the
    independence dropout relies on. Seeds are usually copy-pasted for reproducibility; use
    `keras.utils.set_random_seed` once instead, or give each layer its own seed.

    ## Fix safety
    No automatic fix: which seed to change is arbitrary.

    ## References
    - [keras.utils.set_random_seed](https://keras.io/api/utils/python_utils/#setrandomseed-function)
    - [keras.layers.Dropout `seed`](https://keras.io/api/layers/regularization_layers/dropout/)
    """

    code = "DL409"
    name = "shared-dropout-seed"
    severity = Severity.WARNING
    summary = "two or more dropout layers / RNNs with the same int seed and mask shape"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.LSTM(16, return_sequences=True)(inputs)\n"
            "x = layers.Dropout(0.2, seed=42)(x)\n"
            "x = layers.LSTM(16, return_sequences=True)(x)\n"
            "x = layers.Dropout(0.2, seed=42)(x)\n"
            "x = layers.LSTM(16)(x)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=8,
            message=("Dropout(0.2, seed=42) draws the same (None, 30, 16) masks as "
                     "Dropout(0.2, seed=42) at line 6")),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "keras.utils.set_random_seed(42)\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(16, return_sequences=True)(inputs)\n"
        "x = layers.Dropout(0.2)(x)\n"
        "x = layers.LSTM(16, return_sequences=True)(x)\n"
        "x = layers.Dropout(0.2)(x)\n"
        "x = layers.LSTM(16)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    def check(self, ctx):
        groups: dict[tuple, list] = {}
        for site in ctx.sites:
            seed = _seed(site)
            shape = site.mask.mask_shape
            if seed is None or shape is None or site.mask.drops in ("none", "noise", "unknown"):
                continue
            groups.setdefault((seed, tuple(shape), _family(site)), []).append(site)
        for (_, shape, _), sites in groups.items():
            layers_seen = []
            for site in sites:
                if all(site.node.layer is not s.node.layer for s in layers_seen):
                    layers_seen.append(site)
            if len(layers_seen) < 2:
                continue  # one layer applied twice: its random stream advances
            layers_seen.sort(key=_position)
            first = layers_seen[0]
            for site in layers_seen[1:]:
                message = (f"{_describe(site)} draws the same {fmt_shape(shape)} masks as "
                           f"{_describe(first)} at {where(first.node.layer)}")
                help = ("The same entries are dropped in both at every training step. Give "
                        "each layer its own seed, or seed the program once with "
                        "keras.utils.set_random_seed.")
                yield ctx.report(self, site.node, message, site=site, help=help)
