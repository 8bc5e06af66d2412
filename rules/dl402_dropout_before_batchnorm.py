from droplint.report import Severity
from droplint.rule import Invalid, Rule

from ._findings import once_per_message
from ._graph import layer_sites
from ._words import layer_call


class DropoutBeforeBatchnorm(Rule):
    """
    ## What it does
    Flags a dropout layer whose output goes **directly** into `BatchNormalization`.

    ## Why is this bad?
    Dropout changes the variance of its output between training (units zeroed, the rest
    scaled by 1/(1-rate)) and inference (identity). BatchNormalization right after it learns
    its moving variance from the training-time statistics and then normalizes inference
    inputs with the wrong variance: the "variance shift" of Li et al. (CVPR 2019), which costs
    accuracy. Put dropout after the (last) BatchNormalization instead.

    ## Fix safety
    No automatic fix: reordering layers changes the model (and its saved weights' order).

    ## References
    - [Li et al., Understanding the Disharmony between Dropout and Batch Normalization by Variance Shift (CVPR 2019)](https://arxiv.org/abs/1801.05134)
    - [keras.layers.BatchNormalization](https://keras.io/api/layers/normalization_layers/batch_normalization/)
    """

    code = "DL402"
    name = "dropout-before-batchnorm"
    severity = Severity.INFO
    summary = "a dropout layer directly feeds BatchNormalization (variance shift)"
    BAD = (
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.LSTM(64),\n"
            "    keras.layers.Dropout(0.3),\n"
            "    keras.layers.BatchNormalization(),\n"
            "    keras.layers.Dense(1),\n"
            "])\n",
            line=6,
            message="Dropout(0.3) feeds BatchNormalization directly: variance shift at inference"),
    )
    GOOD = (
        "import keras\n\n"
        "model = keras.Sequential([\n"
        "    keras.Input(shape=(30, 8)),\n"
        "    keras.layers.LSTM(64),\n"
        "    keras.layers.BatchNormalization(),\n"
        "    keras.layers.Dropout(0.3),\n"
        "    keras.layers.Dense(1),\n"
        "])\n",
    )

    @once_per_message
    def check(self, ctx):
        for site in layer_sites(ctx):
            node = site.node
            if site.mask.drops == "none":
                continue
            if not any(c.kind == "BatchNormalization" for c in ctx.graph.consumers(node)):
                continue
            message = (f"{layer_call(node.layer)} feeds BatchNormalization directly: variance "
                       "shift at inference")
            help = ("BN learns its moving variance from dropped, rescaled activations in "
                    "training and applies it to activations without dropout at inference, a "
                    "variance shift (Li et al., CVPR 2019). Put the dropout after the "
                    "BatchNormalization.")
            yield ctx.report(self, node, message, site=site, help=help)
