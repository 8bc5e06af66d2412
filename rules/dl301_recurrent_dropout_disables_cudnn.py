from droplint.report import Severity
from droplint.rule import Invalid, Rule
from droplint.semantics import cudnn_ineligible_reasons, describe, explain, fmt_shape

from ._graph import cudnn_layers, rnn_site
from ._values import active_rate
from ._words import inside


class RecurrentDropoutDisablesCudnn(Rule):
    """
    ## What it does
    Flags `recurrent_dropout > 0` on an `LSTM` or `GRU`, also inside `Bidirectional`.

    When other settings rule out cuDNN as well (e.g. `activation='relu'`), the help names
    them: DL302 stays silent while `recurrent_dropout > 0`, since its advice could not help.

    ## Why is this bad?
    Keras (3, and tf.keras 2 alike) runs an LSTM/GRU on the fused cuDNN kernel only when its
    configuration is eligible, and any `recurrent_dropout` rules it out: the layer falls back
    to the generic step loop, about 25x slower to train on a GPU (tensorflow#38236). That can
    be the right trade-off, but it is easy to pay for without knowing. What the recurrent
    dropout drops: `recurrent_dropout > 0` forces `implementation=1`, so LSTM applies 4 state
    masks `(batch, units)` (GRU 3), one per gate. In Keras 3 each is drawn once per call and
    used at every timestep (variational dropout, Gal and Ghahramani); in tf.keras 2 under
    `fit` they are drawn anew at every timestep (only `unroll=True` or eager calls reuse
    them).

    ## Fix safety
    No automatic fix: removing recurrent dropout changes the regularization. Alternatives that
    keep cuDNN: a `SpatialDropout1D(rate)` before the layer (whole input features for the
    whole sequence, any version), or the layer's own `dropout=` (Keras 3.9 and later: one
    input-feature mask for every timestep; in Keras 3.0 to 3.3 it rules out cuDNN too, in 3.4
    to 3.8 it is applied at inference on a GPU (DL308), and in tf.keras 2 it draws a fresh
    mask at every timestep under `fit`).

    ## References
    - [tensorflow#38236: very slow training if recurrent_dropout above 0.0 in LSTM keras using GPU](https://github.com/tensorflow/tensorflow/issues/38236)
    - [keras.layers.LSTM](https://keras.io/api/layers/recurrent_layers/lstm/)
    - [Gal and Ghahramani, A Theoretically Grounded Application of Dropout in Recurrent Neural Networks (2016)](https://arxiv.org/abs/1512.05287)
    """

    code = "DL301"
    name = "recurrent-dropout-disables-cudnn"
    severity = Severity.INFO
    summary = "recurrent_dropout > 0 on LSTM/GRU rules out the cuDNN kernel"
    BAD = (
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.LSTM(64, dropout=0.2, recurrent_dropout=0.2)(inputs)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5,
            message="LSTM(recurrent_dropout=0.2) rules out cuDNN: GPU training about 25x slower"),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.Bidirectional(keras.layers.GRU(32, recurrent_dropout=0.1)),\n"
            "    keras.layers.Dense(1),\n"
            "])\n",
            line=5,
            message=("GRU(recurrent_dropout=0.1) inside Bidirectional rules out cuDNN: GPU "
                     "training about 25x slower")),
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.LSTM(64, activation='relu', recurrent_dropout=0.2)(inputs)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            line=5,
            message="LSTM(recurrent_dropout=0.2) rules out cuDNN: GPU training about 25x slower"),
    )
    GOOD = (
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.LSTM(64, dropout=0.2)(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
        # SimpleRNN has no cuDNN kernel to lose
        "import keras\n"
        "from keras import layers\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = layers.SimpleRNN(64, recurrent_dropout=0.2)(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    )

    def check(self, ctx):
        for layer, wrapper in cudnn_layers(ctx.graph):
            rd = active_rate(layer, "recurrent_dropout")
            if rd is None:
                continue  # 0, or out of range: DL304
            site = rnn_site(ctx, layer, wrapper, "recurrent_dropout")
            mask = site.mask if site else explain(layer, None, ctx.keras, "recurrent_dropout")
            masks = f" ({mask.masks} masks, one per gate)" if mask.masks and mask.masks > 1 else ""
            what = describe(mask)
            if mask.mask_shape:
                what = what.replace("single units",
                                    f"single units of the {fmt_shape(mask.mask_shape)} state", 1)
            message = (f"{layer.kind}(recurrent_dropout={rd:g}){inside(wrapper)} rules out cuDNN: "
                       "GPU training about 25x slower")
            help = ("Training on a GPU falls back to the generic step loop, about 25x slower "
                    f"(tensorflow#38236). It drops {what}{masks}. If speed matters, "
                    f"{_alternatives(rd, ctx.keras)}.{_also_ineligible(layer)}")
            yield ctx.report(self, layer, message, argument="recurrent_dropout", site=site,
                             help=help)


def _also_ineligible(layer) -> str:
    """The other settings that rule out cuDNN (DL302 stays silent while recurrent_dropout > 0,
    so they are named here: removing recurrent_dropout alone would not bring cuDNN back)."""
    others = [r for r in cudnn_ineligible_reasons(layer) if not r.startswith("recurrent_dropout=")]
    if not others:
        return ""
    return (f" Removing recurrent_dropout alone would not restore cuDNN: {', '.join(others)} "
            "rules it out too (DL302).")


def _alternatives(rate: float, keras) -> str:
    """What keeps cuDNN, for this Keras version."""
    spatial = (f"put SpatialDropout1D({rate:g}) before the layer (whole input features for the "
               "whole sequence)")
    if not keras.is_keras3:
        return (f"{spatial}; the layer's own dropout= keeps cuDNN too, but in tf.keras {keras} "
                "it draws a fresh mask at every timestep under fit")
    if keras.between((3, 0), (3, 3)):
        return f"{spatial}; in Keras {keras} the layer's own dropout= rules out cuDNN too"
    if keras.between((3, 4), (3, 8)):
        return (f"{spatial}; the layer's own dropout= would be applied at inference too on a "
                f"GPU in Keras {keras} (DL308)")
    return (f"{spatial}, or use only the layer's own dropout= (one input-feature mask for every "
            "timestep)")
