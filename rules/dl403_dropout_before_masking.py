from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import describe, fmt_shape

from ._findings import once_per_message
from ._graph import layer_sites
from ._values import is_number, number
from ._words import layer_call

LIKELY = 0.001  # a masked step this likely per step (rate ** features) is worth a look
SHORT = {"error": "padded steps are no longer masked in training",
         "warning": "dropped real steps become masked steps",
         "info": "a real step becomes a masked step with probability {chance}"}


class DropoutBeforeMasking(Rule):
    """
    ## What it does
    Flags a dropout layer that feeds `Masking(mask_value=v)` (directly or through
    shape-preserving layers). Severity depends on what the combination does:
    **error** when v != 0, **warning** when v == 0 and the dropout drops whole timesteps,
    **info** when v == 0, the dropout is element-wise, and a whole step is dropped often
    enough (rate ** features >= 0.001).

    ## Why is this bad?
    `Masking` masks a step whose features all equal `mask_value`. With v != 0 any dropout
    before it destroys the padding: kept values are scaled by 1/(1-rate), dropped ones become
    0, neither equals v, so padded steps are no longer masked in training (GaussianNoise and
    AlphaDropout do the same even for v == 0). With v == 0 the opposite happens: a dropout
    that drops whole timesteps turns every dropped real step into a masked step, and an
    element-wise dropout does so whenever it happens to drop all features of a step. Put
    `Masking` first: dropout after it passes the mask on.

    ## Fix safety
    No automatic fix: reordering layers changes the model.

    ## References
    - [keras.layers.Masking](https://keras.io/api/layers/core_layers/masking/)
    - [Masking and padding with Keras](https://keras.io/guides/understanding_masking_and_padding/)
    """

    code = "DL403"
    name = "dropout-before-masking"
    severity = Severity.ERROR
    summary = "a dropout feeds Masking: padding unmasked (v != 0) or real steps masked (v == 0)"
    BAD = (
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.Dropout(0.2),\n"
            "    keras.layers.Masking(mask_value=-1.0),\n"
            "    keras.layers.LSTM(16),\n"
            "    keras.layers.Dense(1),\n"
            "])\n",
            line=5,
            message=("Dropout(0.2) before Masking(mask_value=-1): padded steps are no "
                     "longer masked in training")),
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.Dropout(0.2, noise_shape=(None, 30, 1))(inputs)\n"
            "x = layers.Masking()(x)\n"
            "x = layers.LSTM(16)(x)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5, severity="warning",
            message=("Dropout(0.2) before Masking(mask_value=0): dropped real steps become "
                     "masked steps")),
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 2))\n"
            "x = layers.Dropout(0.5)(inputs)\n"
            "x = layers.Masking(mask_value=0.0)(x)\n"
            "x = layers.GRU(16)(x)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5, severity="info",
            message=("Dropout(0.5) before Masking(mask_value=0): a real step becomes a "
                     "masked step with probability 0.25")),
    )
    GOOD = (
        "import keras\n\n"
        "model = keras.Sequential([\n"
        "    keras.Input(shape=(30, 8)),\n"
        "    keras.layers.Masking(mask_value=-1.0),\n"
        "    keras.layers.Dropout(0.2),\n"
        "    keras.layers.LSTM(16),\n"
        "    keras.layers.Dense(1),\n"
        "])\n",
        # element-wise over 64 features: a fully dropped step is vanishingly rare
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 64))\n"
        "x = layers.Dropout(0.2)(inputs)\n"
        "x = layers.Masking()(x)\n"
        "x = layers.LSTM(16)(x)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    @once_per_message
    def check(self, ctx):
        for site in layer_sites(ctx):
            node = site.node
            maskings = [n for n in ctx.graph.downstream(node) if n.kind == "Masking"]
            if not maskings:
                continue
            value = maskings[0].layer.args.get("mask_value", 0.0)
            if not is_number(value):
                continue
            verdict = self._verdict(node, site, value)
            if verdict is None:
                continue
            severity, effect = verdict
            short = SHORT[severity.value].format(chance=effect.rpartition(" = ")[2].split(" ")[0])
            message = f"{layer_call(node.layer)} before Masking(mask_value={value:g}): {short}"
            help = (f"{effect[0].upper()}{effect[1:]}. Put Masking first; a dropout after it "
                    "passes the mask on.")
            yield ctx.report(self, node, message, severity=severity, site=site, help=help)

    @staticmethod
    def _verdict(node, site, value):
        kind = node.layer.core.kind if node.layer.kind == "TimeDistributed" else node.kind
        if value != 0 or kind in ("GaussianNoise", "AlphaDropout"):
            if kind == "GaussianDropout" and value == 0:
                return None
            how = ("adds noise to the padded steps" if kind == "GaussianNoise"
                   else "rescales kept values and zeroes dropped ones")
            rate = number(node.layer.core, "rate")
            if kind == "Dropout" and rate is not None and 0 < rate < 1:
                how = (f"turns a padded value {value:g} into {value / (1 - rate):.3g} (kept, "
                       f"scaled by 1/(1-{rate:g})) or 0 (dropped)")
            return Severity.ERROR, (f"it {how} in training, so padded steps no longer equal "
                                    f"{value:g} and are not masked")
        if kind == "GaussianDropout":
            return None
        mask = site.mask
        if mask.drops in ("timesteps", "samples"):
            return Severity.WARNING, (f"it drops {describe(mask)}, and every dropped real step "
                                      "becomes all zeros, i.e. a masked step")
        rate = number(node.layer.core, "rate")
        shape = node.input_shape
        if rate is None or shape is None or len(shape) != 3 or shape[2] is None:
            return None
        chance = rate ** shape[2]
        if chance < LIKELY:
            return None
        where = "per sample" if mask.drops == "features" else "per step"
        return Severity.INFO, (f"on {fmt_shape(shape)} all {shape[2]} features of a step are "
                               f"dropped together with probability {rate:g}**{shape[2]} = "
                               f"{chance:.2g} {where}, and such a real step becomes a masked "
                               "step")
