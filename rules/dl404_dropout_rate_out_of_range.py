from droplint.report import Severity
from droplint.rule import Invalid, Rule

from ._values import dropout_rate


class DropoutRateOutOfRange(Rule):
    """
    ## What it does
    Checks that the `rate` of a dropout layer lies in [0, 1).

    ## Why is this bad?
    `Dropout` and `SpatialDropout1D/2D/3D` raise `ValueError` when built with a rate below 0
    or above 1, in Keras 3 and tf_keras 2.21 alike. A rate of exactly 1 drops every value:
    Keras 3 outputs zeros in training (nothing can be learned through the layer), tf.keras 2
    raises `ValueError` when the layer runs in training. `GaussianDropout` and `AlphaDropout`
    differ: Keras 3 raises `ValueError` when built for a rate outside [0, 1] and fails in
    training with rate 1 (division by zero), while tf.keras 2 accepts any rate and silently
    does nothing unless 0 < rate < 1.

    ## Fix safety
    No automatic fix: the intended rate is unknown.

    ## References
    - [keras.layers.Dropout](https://keras.io/api/layers/regularization_layers/dropout/)
    """

    code = "DL404"
    name = "dropout-rate-out-of-range"
    severity = Severity.ERROR
    summary = "dropout rate < 0 or > 1 (ValueError), or == 1 (drops everything)"
    BAD = (
        Invalid(
            "from keras import layers\nlayer = layers.Dropout(1.0)\n",
            line=2,
            message="Dropout(1): it drops every value: the output is all zeros in training"),
        Invalid(
            "import keras\nmodel = keras.Sequential([keras.layers.Dropout(-0.1)])\n",
            line=2,
            message=("Dropout(-0.1): Keras raises ValueError when the layer is built (rate "
                     "must be in [0, 1])")),
    )
    GOOD = ("from keras import layers\nlayer = layers.Dropout(0.3)\n",)

    def check(self, ctx):
        for layer in ctx.graph.layers:
            rate = dropout_rate(layer)  # None for GaussianNoise: stddev is not a rate
            if rate is None or 0 <= rate < 1:
                continue
            effect = _effect(layer.kind, rate, ctx.keras)
            yield ctx.report(self, layer, f"{layer.kind}({rate:g}): {effect}",
                             help="Use the fraction of values to drop, in [0, 1), e.g. 0.3.")


def _effect(kind: str, rate: float, keras) -> str:
    """What Keras does with this rate, for this layer and version."""
    noise = kind in ("GaussianDropout", "AlphaDropout")
    if noise and not keras.is_keras3:
        return (f"tf.keras {keras} accepts it but the layer only acts when 0 < rate < 1, so it "
                "silently does nothing")
    if rate < 0 or rate > 1:
        return "Keras raises ValueError when the layer is built (rate must be in [0, 1])"
    if noise:
        return (f"in Keras {keras} the layer divides by 1 - rate, so training fails with "
                "ZeroDivisionError")
    if keras.is_keras3:
        return "it drops every value: the output is all zeros in training"
    return f"tf.keras {keras} raises ValueError when the layer runs in training (rate 1)"
