from droplint import fixes
from droplint.report import Severity
from droplint.rule import Rule

from ._words import layer_call

REPLACEMENT = {"CuDNNLSTM": "LSTM", "CuDNNGRU": "GRU"}


class CudnnLayerRemoved(Rule):
    """
    ## What it does
    Flags `CuDNNLSTM` and `CuDNNGRU`, reported where the layer is built.

    ## Why is this bad?
    These layers do not exist in Keras 3 (`ImportError` / `AttributeError`). In tf.keras 2
    they live only under `tf.compat.v1`, run only on a GPU, and take no dropout arguments and
    no masking. Since TensorFlow 2.0 plain `LSTM` and `GRU` use the cuDNN kernel by themselves
    whenever their configuration allows it (tanh/sigmoid activations, `recurrent_dropout=0`,
    `unroll=False`, `use_bias=True`, GRU `reset_after=True`), run on a CPU too, and accept
    `dropout=`.

    ## Fix safety
    Safe: `LSTM(units, ...)` / `GRU(units, ...)` with the defaults compute the same function and
    run on cuDNN on a GPU. The import is rewritten too (a `tf.compat.v1.keras.layers` import
    becomes `tensorflow.keras.layers`, whose LSTM picks cuDNN by itself). An attribute call
    through `tf.compat.v1` on a name from `import tensorflow as tf` becomes
    `tf.keras.layers.GRU`; other attribute calls are renamed in place (`compat.v1` reached
    another way keeps the v1 GRU, without automatic cuDNN, in tf.keras 2).

    ## References
    - [TensorFlow 2.0 RNN guide: cuDNN by default](https://www.tensorflow.org/guide/keras/working_with_rnns#performance_optimization_and_cudnn_kernels)
    - [keras.layers.LSTM](https://keras.io/api/layers/recurrent_layers/lstm/)
    """

    code = "DL303"
    name = "cudnn-layer-removed"
    severity = Severity.ERROR
    fix_safety = "safe"
    summary = "CuDNNLSTM / CuDNNGRU: gone in Keras 3; tf.compat.v1 and GPU only in tf.keras 2"
    BAD = (
        "from keras.layers import Input, Dropout, CuDNNLSTM, Dense\n"
        "from keras.models import Model\n\n"
        "ipt = Input(shape=(30, 8))\n"
        "x = Dropout(0.3)(ipt)\n"
        "x = CuDNNLSTM(10, return_sequences=False)(x)\n"
        "out = Dense(1, activation='relu')(x)\n"
        "model = Model(ipt, out)\n",
        "import tensorflow as tf\n\n"
        "model = tf.keras.Sequential([\n"
        "    tf.keras.Input(shape=(30, 8)),\n"
        "    tf.compat.v1.keras.layers.CuDNNGRU(16),\n"
        "    tf.keras.layers.Dense(1),\n"
        "])\n",
    )
    GOOD = (
        "from keras.layers import Input, Dropout, LSTM, Dense\n"
        "from keras.models import Model\n\n"
        "ipt = Input(shape=(30, 8))\n"
        "x = Dropout(0.3)(ipt)\n"
        "x = LSTM(10, return_sequences=False)(x)\n"
        "out = Dense(1, activation='relu')(x)\n"
        "model = Model(ipt, out)\n",
    )

    def check(self, ctx):
        for layer in ctx.graph.layers:
            new = REPLACEMENT.get(layer.kind)
            if new is None:
                continue
            units = layer.args.get("units")
            call = layer_call(layer)
            instead = f"{new}({units})" if isinstance(units, int) else new
            message = (f"{call}: {layer.kind} does not exist in Keras 3, and in tf.keras 2 only "
                       "under tf.compat.v1, GPU only, with no dropout or masking. Use "
                       f"{instead}: it runs on cuDNN by itself when its configuration allows "
                       "(defaults, recurrent_dropout=0) and accepts dropout=.")
            edits = fixes.replace_class_everywhere(ctx.graph, layer, layer.kind, new)
            yield ctx.report(self, layer, message,
                             fix=fixes.fix("safe", f"use {new}", edits))
