from droplint.report import Severity
from droplint.rule import Rule

from ._common import dropout_rate


class DropoutRateOutOfRange(Rule):
    """
    ## What it does
    Checks that the `rate` of a dropout layer lies in [0, 1).

    ## Why is this bad?
    Keras 3 raises `ValueError` when the layer is built with a rate below 0 or above 1
    (tf.keras 2 raises when the layer is called). A rate of exactly 1 drops every value:
    the layer outputs zeros in training and nothing can be learned through it.

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
        "from keras import layers\nlayer = layers.Dropout(1.0)\n",
        "import keras\nmodel = keras.Sequential([keras.layers.Dropout(-0.1)])\n",
    )
    GOOD = ("from keras import layers\nlayer = layers.Dropout(0.3)\n",)

    def check(self, ctx):
        for layer in ctx.graph.layers:
            rate = dropout_rate(layer)  # None for GaussianNoise: stddev is not a rate
            if rate is None:
                continue
            if rate < 0 or rate > 1:
                msg = (f"{layer.kind}({rate:g}): rate must be in [0, 1); Keras raises ValueError "
                       "for this rate. Use the fraction of units to drop, e.g. 0.3.")
            elif rate == 1:
                msg = (f"{layer.kind}(1.0) drops every value: the output is all zeros in "
                       "training. Use the fraction of units to drop, e.g. 0.3.")
            else:
                continue
            yield ctx.report(self, layer, msg)
