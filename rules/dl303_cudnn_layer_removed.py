from droplint import fixes
from droplint.report import Edit, Severity
from droplint.rule import Invalid, Rule

from ._graph import recurrent_layers
from ._words import inside, layer_call

REPLACEMENT = {"CuDNNLSTM": "LSTM", "CuDNNGRU": "GRU"}
REMOVED = frozenset(REPLACEMENT)


class CudnnLayerRemoved(Rule):
    """
    ## What it does
    Flags every `CuDNNLSTM` and `CuDNNGRU`, reported where the layer is built: at top level,
    inside a wrapper (`Bidirectional(CuDNNGRU(...))`, `TimeDistributed`, `layer=`), in a
    builder function that is never called. An import of one of them that no construction
    accounts for is reported at the import: an unused one, or an alias bound on one branch
    (`if gpus: from keras.layers import CuDNNLSTM as LSTM` / `else: from keras.layers import
    LSTM`): the name is both layers, so the layers built through it are analyzed as `LSTM`
    (what current Keras has) and the conditional import is the finding.

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
        Invalid(
            "from keras.layers import Input, Dropout, CuDNNLSTM, Dense\n"
            "from keras.models import Model\n\n"
            "ipt = Input(shape=(30, 8))\n"
            "x = Dropout(0.3)(ipt)\n"
            "x = CuDNNLSTM(10, return_sequences=False)(x)\n"
            "out = Dense(1, activation='relu')(x)\n"
            "model = Model(ipt, out)\n",
            line=6,
            message="CuDNNLSTM(10): CuDNNLSTM does not exist in Keras 3",
            fixed=(
                "from keras.layers import Input, Dropout, LSTM, Dense\n"
                "from keras.models import Model\n\n"
                "ipt = Input(shape=(30, 8))\n"
                "x = Dropout(0.3)(ipt)\n"
                "x = LSTM(10, return_sequences=False)(x)\n"
                "out = Dense(1, activation='relu')(x)\n"
                "model = Model(ipt, out)\n"
            )),
        Invalid(
            "import tensorflow as tf\n\n"
            "model = tf.keras.Sequential([\n"
            "    tf.keras.Input(shape=(30, 8)),\n"
            "    tf.compat.v1.keras.layers.CuDNNGRU(16),\n"
            "    tf.keras.layers.Dense(1),\n"
            "])\n",
            line=5,
            message="CuDNNGRU(16): CuDNNGRU does not exist in Keras 3",
            fixed=(
                "import tensorflow as tf\n\n"
                "model = tf.keras.Sequential([\n"
                "    tf.keras.Input(shape=(30, 8)),\n"
                "    tf.keras.layers.GRU(16),\n"
                "    tf.keras.layers.Dense(1),\n"
                "])\n"
            )),
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
        built = set()
        for layer, wrapper in recurrent_layers(ctx.graph, REMOVED):
            new = REPLACEMENT[layer.kind]
            built.add(layer.origin.callee)
            units = layer.args.get("units")
            call = layer_call(layer)
            instead = f"{new}({units})" if isinstance(units, int) else new
            message = f"{call}{inside(wrapper)}: {layer.kind} does not exist in Keras 3"
            help = (f"In tf.keras 2 it exists only under tf.compat.v1, GPU only, with no dropout "
                    f"or masking. Use {instead}: it runs on cuDNN by itself when its "
                    "configuration allows (defaults, recurrent_dropout=0) and accepts dropout=.")
            edits = fixes.replace_class_everywhere(ctx.graph, layer, layer.kind, new)
            yield ctx.report(self, layer, message, help=help,
                             fix=fixes.fix("safe", f"use {new}", edits))
        yield from self.imports(ctx, built)

    def imports(self, ctx, built: set):
        """Imports of a removed class that no construction accounts for (unused, or an alias
        bound to another layer on another branch): the import itself fails in Keras 3."""
        graph = ctx.graph
        for imp in graph.imports:
            new = REPLACEMENT.get(imp.name)
            if new is None or imp.span is None or (imp.asname or imp.name) in built:
                continue
            bound = f" as {imp.asname}" if imp.asname else ""
            fails = "" if "compat" in imp.module.split(".") else " (this import raises ImportError)"
            have = imp.asname is None and any((i.asname or i.name) == new for i in graph.imports)
            if imp.asname:
                advice = f"Import {new} instead ({imp.asname} is then {new} on every branch)"
                fix = fixes.fix("safe", f"import {new}", (Edit.replace(imp.span, new),))
            else:  # nothing is built through it: unused, remove it where the import has others
                removal = _remove_name(graph, imp)
                already = f"{new} is imported already" if have else "it is not used"
                advice = f"Remove it ({already})" if removal or have else f"Import {new} instead"
                edits = removal if removal or have else (Edit.replace(imp.span, new),)
                fix = fixes.fix("safe", f"remove {imp.name} from the import" if removal
                                else f"import {new}", edits)
            message = f"import of {imp.name}{bound}: {imp.name} does not exist in Keras 3{fails}"
            help = (f"In tf.keras 2 it exists only under tf.compat.v1, GPU only. {advice}: {new} "
                    "runs on cuDNN by itself when its configuration allows.")
            yield self.finding_at(graph.path, message, imp.span, layer=imp.name, fix=fix,
                                  help=help)


def _remove_name(graph, imp):
    """Edits removing one name from a from-import that has others (with one adjacent comma);
    None when it is the statement's only name (removing the statement could empty a block)."""
    names = sorted((i for i in graph.imports if i.statement == imp.statement and i.span),
                   key=lambda i: (i.span.line, i.span.column))
    at = next(k for k, i in enumerate(names) if i is imp)
    if at + 1 < len(names):
        after = names[at + 1].span
        return (Edit(imp.span.line, imp.span.column, after.line, after.column, ""),)
    if at > 0:
        before = names[at - 1].span
        return (Edit(before.end_line, before.end_column, imp.span.end_line,
                     imp.span.end_column, ""),)
    return None
