"""How messages name things: values, rates, layers as written, where a layer is, and the alternatives
to offer for a dropout on a sequence.

Not a rule: the leading underscore keeps it out of ALL_RULES.
"""
from __future__ import annotations

from typing import Any

from droplint.graph import CUDNN_KINDS, UNKNOWN, Layer, Node, known
from droplint.keras_version import KerasVersion
from droplint.semantics import describe, explain, fmt_rate, fmt_shape


def fmt_value(value: Any) -> str:
    if not known(value):
        return "?"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return fmt_shape(value)
    return repr(value)


def pct(rate: float) -> str:
    return f"{rate * 100:.3g}%"


def where(layer: Layer) -> str:
    """`line 12` (source) or `layer 'dropout_1'` (built model)."""
    o = layer.origin
    if o.span is not None:
        return f"line {o.span.line}"
    if o.layer_name:
        return f"layer {o.layer_name!r}"
    return "an unknown place"


def layer_call(layer: Layer, *arguments: str) -> str:
    """`Dropout(0.3)`, `LSTM(dropout=0.2)`: the class with its rate or the named arguments."""
    if not arguments:
        if layer.kind == "TimeDistributed" and layer.inner is not None:
            return f"TimeDistributed({layer_call(layer.inner)})"
        for key in ("rate", "stddev", "units", "filters"):
            if key in layer.args:
                return f"{layer.kind}({fmt_value(layer.args[key])})"
        return f"{layer.kind}(...)"
    shown = ", ".join(f"{a}={fmt_value(layer.args.get(a, UNKNOWN))}" for a in arguments)
    return f"{layer.kind}({shown})"


def rnn_name(layer: Layer, *arguments: str) -> str:
    """`LSTM(dropout=0.2)`, or `Bidirectional(LSTM(dropout=0.2))` for a wrapped one."""
    core = layer_call(layer.core, *arguments)
    return f"{layer.kind}({core})" if layer.inner is not None else core


def inside(wrapper: Layer | None) -> str:
    return f" inside {wrapper.kind}" if wrapper is not None else ""


def noise_shape_call(layer: Layer, noise_shape: tuple) -> str:
    """`Dropout(0.3, noise_shape=(1, 30, 1))`."""
    return (f"{layer.kind}({fmt_rate(layer.args.get('rate'))}, "
            f"noise_shape={fmt_shape(noise_shape)})")


def spatial_alternative(rate, shape: tuple, what: str = "features") -> str:
    _, _, f = shape
    return (f"SpatialDropout1D({fmt_rate(rate)}), i.e. noise_shape={fmt_shape((None, 1, f))}, "
            f"drops whole {what} for the whole sequence")


def timesteps_alternative(shape: tuple) -> str:
    """`noise_shape=(None, 30, 1)) drops whole timesteps` (the end of a Dropout call)."""
    _, t, _ = shape
    return f"noise_shape={fmt_shape((None, t, 1))}) drops whole timesteps"


def rnn_alternative(rnn: Node, rate, shape: tuple, keras: KerasVersion) -> str | None:
    """What the recurrent layer's own `dropout=` would mask, for this Keras version."""
    core = rnn.layer.core
    kind = {"CuDNNLSTM": "LSTM", "CuDNNGRU": "GRU"}.get(core.kind, core.kind)
    if kind not in ("LSTM", "GRU", "SimpleRNN"):
        return None
    hypothetical = Layer(kind, {**core.args, "dropout": rate}, core.origin)
    mask = explain(hypothetical, shape, keras, "dropout")
    call = f"{kind}(dropout={fmt_rate(rate)})"
    if kind != core.kind:
        call += f" (instead of {core.kind}, which has no dropout argument)"
    if mask.over_time == "same-every-step":
        text = (f"{call} uses one mask for every timestep: it drops whole input features, "
                f"mask {fmt_shape(mask.mask_shape)}")
        return text + _cudnn_caveat(kind, keras)
    if mask.over_time == "fresh-each-step":
        return (f"{call} is no alternative in tf.keras {keras}: under fit (graph mode) it too "
                f"draws a fresh mask at every timestep, {fmt_shape(mask.mask_shape)}, single "
                "entries; only unroll=True or eager calls reuse one mask for every timestep")
    return None


def _cudnn_caveat(kind: str, keras: KerasVersion) -> str:
    """What `dropout=` on an LSTM/GRU costs in the Keras 3 releases where it is a problem."""
    if kind not in CUDNN_KINDS or not keras.is_keras3:
        return ""
    if keras.between((3, 0), (3, 3)):
        return f" (but in Keras {keras} any dropout= rules out the cuDNN kernel)"
    if keras.between((3, 4), (3, 8)):
        return (f" (but in Keras {keras} on a GPU it is applied at inference too, see DL308; "
                "fixed in 3.9)")
    return ""


def brief(mask) -> str:
    """What a mask drops, in a few words for a one-sentence message (semantics.describe has
    the full description, for the help text)."""
    what = {"elements": ("single entries, new each step"
                         if mask.over_time == "fresh-each-step" else "single entries"),
            "features": "whole features", "timesteps": "whole timesteps",
            "samples": "whole samples", "units": "single units", "channels": "whole channels",
            }.get(mask.drops)
    if what is None:
        return describe(mask)
    return what + (", one pattern for the whole batch" if mask.per_sample is False else "")


def mask_sentence(mask) -> str:
    """`Mask (None, 30, 8): single (timestep, feature) entries, ... .` for a help text."""
    shape = f"Mask {fmt_shape(mask.mask_shape)}: " if mask.mask_shape else "It drops "
    return f"{shape}{describe(mask)}."
