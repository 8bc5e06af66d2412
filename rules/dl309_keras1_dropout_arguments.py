from droplint import fixes
from droplint.graph import UNKNOWN
from droplint.loaders.keras_names import KERAS1_ARGUMENTS
from droplint.report import Edit, Severity
from droplint.rule import Invalid, Rule

from ._words import fmt_value


class Keras1DropoutArguments(Rule):
    """
    ## What it does
    Flags the Keras 1 names of dropout arguments: `LSTM/GRU/SimpleRNN(dropout_W=,
    dropout_U=)`, `Embedding(dropout=)`, and `p=` of `Dropout`, `SpatialDropout1D/2D/3D` and
    `GaussianDropout`. The dropout they meant is still explained as a site (`dropout_W` as
    `dropout`, `dropout_U` as `recurrent_dropout`, `p` as `rate`).

    ## Why is this bad?
    Current Keras rejects every one of them when the layer is constructed (checked on Keras
    3.15 and tf_keras 2.21): Keras 3 raises `ValueError: Unrecognized keyword arguments` for
    `dropout_W`, `dropout_U` and `Embedding(dropout=)`, and tf.keras 2 `TypeError: Keyword
    argument not understood`; `Dropout(p=0.5)`, `SpatialDropout1D(p=0.5)` and
    `GaussianDropout(p=0.5)` raise `TypeError` in both (no `p`; `rate` is required).
    Keras 2.0 to 2.3 converted them with a warning, except `Embedding(dropout=)`, which it
    dropped (no dropout at all) and advised a `SpatialDropout1D` after the Embedding.

    ## Fix safety
    Safe: `dropout_W` -> `dropout`, `dropout_U` -> `recurrent_dropout`, `p` -> `rate` are the
    conversions Keras 2 itself made. No fix for `Embedding(dropout=)`: there is no argument to
    rename; add `SpatialDropout1D(rate)` after the Embedding (whole embedding dimensions for
    the whole sequence) or `Dropout(rate, noise_shape=(None, T, 1))` (whole tokens).

    ## References
    - [Keras 2.0 release notes: API changes](https://github.com/keras-team/keras/releases/tag/2.0.0)
    - [keras.layers.LSTM](https://keras.io/api/layers/recurrent_layers/lstm/)
    """

    code = "DL309"
    name = "keras1-dropout-arguments"
    severity = Severity.ERROR
    fix_safety = "safe"
    summary = "Keras 1 dropout_W / dropout_U / Embedding(dropout=) / p=: rejected by current Keras"
    BAD = (
        Invalid(
            "from keras.models import Sequential\n"
            "from keras.layers import Embedding, LSTM, Dense\n\n"
            "model = Sequential()\n"
            "model.add(Embedding(20000, 128, input_length=80))\n"
            "model.add(LSTM(128, dropout_W=0.2, dropout_U=0.2))\n"
            "model.add(Dense(1, activation='sigmoid'))\n",
            line=6, count=2,
            message="LSTM(dropout_W=0.2) is Keras 1",
            fixed=(
                "from keras.models import Sequential\n"
                "from keras.layers import Embedding, LSTM, Dense\n\n"
                "model = Sequential()\n"
                "model.add(Embedding(20000, 128, input_length=80))\n"
                "model.add(LSTM(128, dropout=0.2, recurrent_dropout=0.2))\n"
                "model.add(Dense(1, activation='sigmoid'))\n"
            )),
        Invalid(
            "from keras.models import Sequential\n"
            "from keras.layers import Embedding, Dropout, Dense, Flatten\n\n"
            "model = Sequential([\n"
            "    Embedding(20000, 64, input_length=80, dropout=0.2),\n"
            "    Flatten(),\n"
            "    Dropout(p=0.5),\n"
            "    Dense(1),\n"
            "])\n",
            line=5, count=2,
            message="Embedding(dropout=0.2) is Keras 1",
            fixed=(
                "from keras.models import Sequential\n"
                "from keras.layers import Embedding, Dropout, Dense, Flatten\n\n"
                "model = Sequential([\n"
                "    Embedding(20000, 64, input_length=80, dropout=0.2),\n"
                "    Flatten(),\n"
                "    Dropout(rate=0.5),\n"
                "    Dense(1),\n"
                "])\n"
            )),
    )
    GOOD = (
        "from keras.models import Sequential\n"
        "from keras.layers import Embedding, LSTM, Dense\n\n"
        "model = Sequential()\n"
        "model.add(Embedding(20000, 128))\n"
        "model.add(LSTM(128, dropout=0.2, recurrent_dropout=0.2))\n"
        "model.add(Dense(1, activation='sigmoid'))\n",
    )

    def check(self, ctx):
        for layer in _all_layers(ctx.graph):
            renames = KERAS1_ARGUMENTS.get(layer.kind, ())
            if layer.kind == "Embedding" and "dropout" in layer.args:
                message, help = _embedding_message(layer, ctx.keras)
                yield ctx.report(self, layer, message, argument="dropout", help=help)
            for old, new in renames:
                if old in layer.args:
                    yield self._rename(ctx, layer, old, new)

    def _rename(self, ctx, layer, old, new):
        value = fmt_value(layer.args.get(old, UNKNOWN))
        raises = _raises(layer.kind, old, ctx.keras)
        message = f"{layer.kind}({old}={value}) is Keras 1: {raises}"
        help = f"Write {new}={value}{_meaning(new)}."
        span, value_span = layer.origin.arg_spans.get(old), layer.origin.arg_value_spans.get(old)
        fix = None
        if span is not None and value_span is not None and new not in _written(layer, old):
            edit = Edit(span.line, span.column, value_span.line, value_span.column, f"{new}=")
            fix = fixes.fix("safe", f"rename {old}= to {new}=", (edit,))
        return ctx.report(self, layer, message, argument=old, fix=fix, help=help)


def _all_layers(graph):
    """Every layer built, wrapped ones included (Bidirectional(LSTM(dropout_W=...)))."""
    seen = set()
    for layer in graph.layers:
        while layer is not None and id(layer) not in seen:
            seen.add(id(layer))
            yield layer
            layer = layer.inner


def _written(layer, old) -> set:
    """The argument names written in the call (the modern name bound by the loader for `old`
    shares its span; one written separately would make the rename a duplicate keyword)."""
    span = layer.origin.arg_spans.get(old)
    return {k for k, s in layer.origin.arg_spans.items() if s != span}


def _raises(kind: str, old: str, keras) -> str:
    if old == "p":
        return f"Keras 3 and tf.keras 2 raise TypeError ({kind} takes rate, not p)"
    if keras.is_keras3:
        return f"Keras {keras} raises ValueError (unrecognized keyword argument)"
    return f"tf.keras {keras} raises TypeError (keyword argument not understood)"


def _meaning(new: str) -> str:
    return {"dropout": " (the mask on the layer's inputs)",
            "recurrent_dropout": " (the mask on the recurrent state)"}.get(new, "")


def _embedding_message(layer, keras) -> tuple[str, str]:
    """The message and the help for Embedding(dropout=)."""
    rate = fmt_value(layer.args.get("dropout", UNKNOWN))
    raises = _raises("Embedding", "dropout", keras)
    return (f"Embedding(dropout={rate}) is Keras 1: {raises}",
            f"Keras 2.0 to 2.3 ignored it. There is no such argument any more: put "
            f"SpatialDropout1D({rate}) after the Embedding (whole embedding dimensions for the "
            f"whole sequence), or Dropout({rate}, noise_shape=(None, T, 1)) for whole tokens.")
