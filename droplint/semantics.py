"""What a dropout masks (RULES.md section 1), computed in one place.

`explain(layer, input_shape, keras, argument)` -> Mask. Pure: plain data in, plain data out.
Every rule, every output format and the probe read masks from here.
"""
from __future__ import annotations

from dataclasses import dataclass

from .graph import (CUDNN_KINDS, NOISE_KINDS, SPATIAL_DROPOUT_KINDS, UNKNOWN, Layer, Shape,
                    known)
from .keras_version import KerasVersion

GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1, "ConvLSTM1D": 4, "ConvLSTM2D": 4, "ConvLSTM3D": 4,
         "LSTMCell": 4, "GRUCell": 3, "SimpleRNNCell": 1}
CONV_LSTM_KINDS = frozenset({"ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"})


@dataclass(frozen=True, slots=True)
class Mask:
    mask_shape: Shape | None  # in the input's coordinates; None when unknown
    drops: str  # elements|features|timesteps|samples|units|channels|noise|none|unknown
    per_sample: bool | None  # False when one pattern is shared by the whole batch
    over_time: str | None  # "fresh-each-step" | "same-every-step" | None (no time axis)
    masks: int | None  # how many distinct masks are applied

    @property
    def description(self) -> str:
        return describe(self)


def fmt_shape(shape: Shape | None) -> str:
    if shape is None:
        return "(unknown shape)"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def fmt_rate(rate) -> str:
    return "?" if not known(rate) or rate is None else f"{rate:g}"


def describe(mask: Mask) -> str:
    """What the mask drops, in plain words."""
    what = {
        "elements": "single (timestep, feature) entries" if mask.over_time else "single entries",
        "features": "whole features",
        "timesteps": "whole timesteps (all features of a step)",
        "samples": "whole samples",
        "units": "single units",
        "channels": "whole channels",
        "noise": "nothing (multiplicative/additive noise, no zeros)",
        "none": "nothing (rate 0 or ignored)",
        "unknown": "an unknown pattern (shape or arguments not known statically)",
    }[mask.drops]
    if mask.drops in ("none", "unknown", "noise"):
        return what
    parts = [what]
    if mask.over_time == "fresh-each-step":
        if mask.drops != "timesteps":
            parts.append("a new pattern at every timestep")
    elif mask.over_time == "same-every-step":
        parts.append("the same mask at every timestep")
    parts.append("different for every sample" if mask.per_sample
                 else "the same pattern for every sample of the batch")
    return ", ".join(parts)


def rate_of(layer: Layer, argument: str | None = None):
    """The rate of a dropout layer (argument None) or of an RNN argument; UNKNOWN if unresolved."""
    if argument is None:
        key = "stddev" if layer.kind == "GaussianNoise" else "rate"
        return layer.args.get(key, UNKNOWN)
    return layer.core.args.get(argument, 0.0)


def rnn_dropout_arguments(layer: Layer) -> list[str]:
    """The `dropout` / `recurrent_dropout` arguments of a recurrent layer that are sites:
    non-zero or unresolved."""
    core = layer.core
    out = []
    for argument in ("dropout", "recurrent_dropout"):
        value = core.args.get(argument, 0.0)
        if not known(value) or (value is not None and value != 0):
            out.append(argument)
    return out


def cudnn_ineligible_reasons(layer: Layer) -> list[str]:
    """Why an LSTM/GRU cannot use the cuDNN kernel (empty: eligible or unknown)."""
    core = layer.core
    a = core.args
    reasons = []
    rd = a.get("recurrent_dropout", 0.0)
    if known(rd) and rd:
        reasons.append(f"recurrent_dropout={rd:g}")
    if a.get("activation", "tanh") not in ("tanh", UNKNOWN):
        reasons.append(f"activation={a['activation']!r}")
    if a.get("recurrent_activation", "sigmoid") not in ("sigmoid", UNKNOWN):
        reasons.append(f"recurrent_activation={a['recurrent_activation']!r}")
    if a.get("unroll", False) is True:
        reasons.append("unroll=True")
    if a.get("use_bias", True) is False:
        reasons.append("use_bias=False")
    if core.kind == "GRU" and a.get("reset_after", True) is False:
        reasons.append("reset_after=False")
    return reasons


def _varies(mask_dim, input_dim) -> bool:
    return mask_dim is None or mask_dim != 1 or input_dim == 1


def _resolve_noise_shape(noise_shape, input_shape: Shape):
    """Fill None entries from the input (left-aligned), broadcast right-aligned.
    Returns the mask shape in the input's rank, or None when incompatible or unknown."""
    if not known(noise_shape) or noise_shape is None or any(not known(d) for d in noise_shape):
        return None
    ns = list(noise_shape)
    rank = len(input_shape)
    if len(ns) > rank:
        return None
    filled = [input_shape[i] if d is None else d for i, d in enumerate(ns)]
    if len(ns) < rank:
        # A None that took the size of an earlier axis now broadcasts against a later one.
        for i, d in enumerate(ns):
            target = input_shape[rank - len(ns) + i]
            if d is None and i != rank - len(ns) + i and filled[i] != target:
                return None
        filled = [1] * (rank - len(ns)) + filled
    return tuple(filled)


def _drops_from_shape(mask_shape: Shape, input_shape: Shape, channels_first: bool = False) -> str:
    rank = len(mask_shape)
    vary = [_varies(m, d) for m, d in zip(mask_shape[1:], input_shape[1:])]
    if not any(vary):
        return "samples"
    if rank == 2:
        return "units"
    if rank == 3:
        t, f = vary
        return "elements" if t and f else ("features" if f else "timesteps")
    channel = 0 if channels_first else len(vary) - 1
    if all(vary):
        return "elements"
    if vary[channel] and sum(vary) == 1:
        return "channels"
    return "elements"


def _layer_mask(layer: Layer, input_shape: Shape | None, keras: KerasVersion) -> Mask:
    kind = layer.kind
    rate = rate_of(layer)
    if not known(rate):
        return Mask(None, "unknown", None, None, None)
    if input_shape is None:
        if kind in NOISE_KINDS:
            return Mask(None, "noise", True, None, 1)
        return Mask(None, "unknown", None, None, None)
    rank = len(input_shape)
    time = "fresh-each-step" if rank == 3 else None
    if kind in NOISE_KINDS:
        return Mask(tuple(input_shape), "noise" if rate else "none", True, time, 1)
    if rate == 0:
        return Mask(tuple(input_shape), "none", True, time, 0)
    if kind in SPATIAL_DROPOUT_KINDS:
        n = SPATIAL_DROPOUT_KINDS[kind]
        if rank != n + 2:
            return Mask(None, "unknown", None, None, None)
        channels_first = layer.args.get("data_format") == "channels_first" and n > 1
        if channels_first:
            mask = (input_shape[0], input_shape[1]) + (1,) * n
        else:
            mask = (input_shape[0],) + (1,) * n + (input_shape[-1],)
        if n == 1:
            return Mask(mask, "features", True, "same-every-step", 1)
        return Mask(mask, "channels", True, None, 1)
    noise_shape = layer.args.get("noise_shape")
    if noise_shape is None:
        mask = tuple(input_shape)
    else:
        mask = _resolve_noise_shape(noise_shape, input_shape)
        if mask is None:
            return Mask(None, "unknown", None, None, None)
    drops = _drops_from_shape(mask, input_shape)
    per_sample = mask[0] != 1
    if rank == 3:
        time = "fresh-each-step" if _varies(mask[1], input_shape[1]) else "same-every-step"
    return Mask(mask, drops, per_sample, time, 1)


def _time_distributed_mask(layer: Layer, input_shape: Shape | None, keras: KerasVersion) -> Mask:
    """TimeDistributed(inner dropout): the inner layer sees one step (B, *rest) at a time."""
    inner = layer.inner
    if input_shape is None or len(input_shape) < 3:
        return Mask(None, "unknown", None, None, None)
    step_shape = (input_shape[0],) + tuple(input_shape[2:])
    step = _layer_mask(inner, step_shape, keras)
    if step.mask_shape is None or step.drops in ("none", "noise", "unknown"):
        shape = None if step.mask_shape is None else tuple(input_shape)
        return Mask(shape, step.drops, step.per_sample, "fresh-each-step" if shape else None,
                    step.masks)
    m = step.mask_shape
    if not keras.is_keras3 and m[0] == 1:
        # tf.keras 2 folds time into the batch: a batch axis of 1 shares across batch and time.
        full = (1, 1) + tuple(m[1:])
        over_time = "same-every-step"
    else:
        full = (m[0], input_shape[1]) + tuple(m[1:])
        over_time = "fresh-each-step"
    drops = _drops_from_shape(full, input_shape) if len(full) == 3 else step.drops
    if len(full) == 3 and drops in ("features", "samples") and over_time == "fresh-each-step":
        drops = "elements" if drops == "features" else "timesteps"
    return Mask(full, drops, m[0] != 1, over_time, 1)


def _rnn_mask(layer: Layer, input_shape: Shape | None, keras: KerasVersion,
              argument: str) -> Mask:
    core = layer.core
    kind = core.kind
    rate = core.args.get(argument, 0.0)
    if not known(rate) or rate is None:
        return Mask(None, "unknown", None, None, None)
    units = core.args.get("units", UNKNOWN)
    units = units if known(units) and isinstance(units, int) else None
    gates = GATES.get(kind, 1)
    lstm_like = kind in CUDNN_KINDS or kind in CONV_LSTM_KINDS
    if rate <= 0 or (rate >= 1 and kind != "SimpleRNN"):
        return Mask(None, "none", True, None, 0)
    if kind in CONV_LSTM_KINDS:
        if keras.is_keras3 and keras.between((3, 0), (3, 4)):
            return Mask(None, "none", True, None, 0)
        if argument == "recurrent_dropout":
            return Mask(None, "elements", True, "same-every-step", gates)
        shape = None if input_shape is None else (input_shape[0], 1) + tuple(input_shape[2:])
        return Mask(shape, "elements", True, "same-every-step", gates)
    cell_path = (
        keras.is_keras3 or kind not in CUDNN_KINDS or bool(cudnn_ineligible_reasons(layer))
    )
    impl2 = core.args.get("implementation", 2) == 2
    if argument == "recurrent_dropout":
        if keras.is_keras3:
            n = gates
        else:
            n = 1 if impl2 else gates
        return Mask((None, units), "units", True, "same-every-step", n)
    if input_shape is None or len(input_shape) != 3:
        return Mask(None, "unknown", None, None, None)
    b, t, f = input_shape
    if not cell_path:
        # tf.keras 2 default (cuDNN-eligible) path: a fresh (B, T, F) mask, first of 4 applied.
        return Mask((b, t, f), "elements", True, "fresh-each-step", 1)
    if keras.is_keras3:
        rd = core.args.get("recurrent_dropout", 0.0)
        n = gates if (known(rd) and rd and lstm_like) else 1
    else:
        n = 1 if (impl2 or kind == "SimpleRNN") else gates
    return Mask((b, 1, f), "features", True, "same-every-step", n)


def explain(layer: Layer, input_shape: Shape | None, keras: KerasVersion,
            argument: str | None = None) -> Mask:
    """The mask of a dropout site: a dropout layer (argument None), TimeDistributed(dropout),
    or the `dropout` / `recurrent_dropout` argument of a recurrent layer."""
    if argument is not None:
        return _rnn_mask(layer, input_shape, keras, argument)
    if layer.kind == "TimeDistributed" and layer.inner is not None and layer.inner.is_dropout:
        return _time_distributed_mask(layer, input_shape, keras)
    return _layer_mask(layer, input_shape, keras)
