"""What a dropout masks (RULES.md section 1), computed in one place.

`explain(layer, input_shape, keras, argument)` -> Mask. Pure: plain data in, plain data out.
Every rule and every output format read masks from here; droplint.probe measures the same
facts on real Keras, and tests/test_semantics_keras.py holds the two together.

Size-1 axes, one convention everywhere: a mask describes what is physically dropped. An axis
of size 1 holds a single entry, so the pattern cannot change along it: `drops` names only the
axes longer than 1 that the pattern changes along (Dropout on (B, T, 1) drops whole timesteps,
on (B, 1) or a 1-unit recurrent state whole samples), and a 1-step sequence is
`same-every-step` (one step, one pattern: Dropout, noise layers, tf.keras 2 RNN masks alike).
An axis whose size is unknown is taken as longer than 1.

What needs no shape is always stated: `Dropout` without noise_shape draws for every sample
(per_sample true) whatever the rank; SpatialDropoutND and recurrent layers accept one rank
only, so their masks are known from the layer alone. Only what depends on an unknown size or
rank stays null. A rank deduced from a consumer (shapes.infer_from_consumers), from a
Dropout's own fully known noise_shape (Keras trains only with one of the input's rank), or
from the arms of a condition droplint cannot decide (shapes.fill_from_alternatives) is named
in the description.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .graph import (CUDNN_KINDS, NOISE_KINDS, SPATIAL_DROPOUT_KINDS, UNKNOWN, Layer, Shape,
                    known)
from .keras_version import KerasVersion

GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1, "ConvLSTM1D": 4, "ConvLSTM2D": 4, "ConvLSTM3D": 4,
         "LSTMCell": 4, "GRUCell": 3, "SimpleRNNCell": 1}
CONV_LSTM_DIMS = {"ConvLSTM1D": 1, "ConvLSTM2D": 2, "ConvLSTM3D": 3}
CONV_LSTM_KINDS = frozenset(CONV_LSTM_DIMS)


@dataclass(frozen=True, slots=True)
class Mask:
    mask_shape: Shape | None  # in the input's coordinates; None when unknown
    drops: str  # elements|features|timesteps|samples|units|channels|noise|none|unknown
    per_sample: bool | None  # False when one pattern is shared by the whole batch
    over_time: str | None  # "fresh-each-step" | "same-every-step" | None (no time axis)
    masks: int | None  # how many distinct masks are applied
    note: str | None = None  # where a deduced input rank came from (shapes.Inferred)

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
        "elements": ("single (timestep, feature) entries"
                     if mask.over_time == "fresh-each-step" else "single entries"),
        "features": "whole features",
        "timesteps": "whole timesteps (all features of a step)",
        "samples": "whole samples",
        "units": "single units",
        "channels": "whole channels",
        "noise": "nothing (multiplicative/additive noise, no zeros)",
        "none": "nothing (rate 0 or ignored)",
        "unknown": "an unknown pattern (shape or arguments not known statically)",
    }[mask.drops]
    if mask.drops == "unknown" and mask.per_sample is not None:
        what += ", " + ("different for every sample" if mask.per_sample
                        else "the same pattern for every sample of the batch")
    if mask.note == FAILS_NOTE:
        return FAILS_NOTE
    if mask.drops in ("none", "unknown", "noise"):
        return what + (f"; {mask.note}" if mask.note else "")
    parts = [what]
    if mask.drops in ("timesteps", "samples"):
        pass  # a dropped step or sample has no pattern over time to speak of
    elif mask.over_time == "fresh-each-step":
        parts.append("a new pattern at every timestep")
    elif mask.over_time == "same-every-step":
        parts.append("the same mask at every timestep")
    parts.append("different for every sample" if mask.per_sample
                 else "the same pattern for every sample of the batch")
    return ", ".join(parts) + (f"; {mask.note}" if mask.note else "")


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
    """Whether the keep/drop pattern can change along an axis. An axis of input size 1 holds a
    single entry, so nothing can change along it: Dropout on (B, T, 1) drops whole timesteps."""
    if input_dim == 1:
        return False
    return mask_dim is None or mask_dim != 1


def _resolve_noise_shape(noise_shape, input_shape: Shape):
    """Keras fills None entries from the input's shape left-aligned, then broadcasts the mask
    right-aligned. Returns the mask shape in the input's rank, or None when it is unknown or
    would fail (or, when longer than the rank, silently add axes)."""
    if not known(noise_shape) or noise_shape is None or any(not known(d) for d in noise_shape):
        return None
    rank = len(input_shape)
    offset = rank - len(noise_shape)
    if offset < 0:
        return None
    mask = [1] * offset + [input_shape[i] if d is None else d for i, d in enumerate(noise_shape)]
    for axis, (m, d) in enumerate(zip(mask, input_shape)):
        source = axis - offset  # the noise_shape entry that gave this axis
        if offset and source >= 0 and noise_shape[source] is None:
            # that None took the size of axis `source` but broadcasts against axis `axis`
            if m is None or d is None or m not in (1, d):
                return None
        elif not (m is None or d is None or m in (1, d)):
            return None  # an int that is neither 1 nor the input's size: fails in training
    return tuple(mask)


def _drops_from_shape(mask_shape: Shape, input_shape: Shape, channels_first: bool = False,
                      channel_offset: int = 0) -> str:
    """The RULES.md word for a mask: which non-batch axes the pattern changes along.
    `channel_offset` shifts a channels_first channel axis (TimeDistributed adds time)."""
    rank = len(mask_shape)
    vary = [_varies(m, d) for m, d in zip(mask_shape[1:], input_shape[1:])]
    if not any(vary):
        return "samples"
    if rank == 2:
        return "units"
    if rank == 3:
        t, f = vary
        return "elements" if t and f else ("features" if f else "timesteps")
    channel = channel_offset if channels_first else len(vary) - 1
    if vary[channel] and sum(vary) == 1:
        return "channels"
    return "elements"


UNKNOWN_MASK = Mask(None, "unknown", None, None, None)
FAILS_NOTE = "no mask to explain: Keras refuses these arguments (when building, or in training)"
FAILING_MASK = Mask(None, "unknown", None, None, None, FAILS_NOTE)
# Keras raises ValueError at construction for a rate outside [0, 1] (Keras 3 and tf_keras 2.21).
RATE_CHECKED_KINDS = frozenset({"Dropout"}) | frozenset(SPATIAL_DROPOUT_KINDS)


def _fails(layer: Layer, rate, keras: KerasVersion) -> bool:
    """Keras refuses these arguments (when building the layer or when it runs in training),
    so there is no mask to explain."""
    if layer.kind in RATE_CHECKED_KINDS and isinstance(rate, (int, float)):
        if not 0 <= rate <= 1:
            return True
        if rate == 1 and not keras.is_keras3:
            return True  # tf.keras 2: ValueError in training (Keras 3 zeros everything)
    if layer.kind == "AlphaDropout" and _legacy_alpha(layer, keras):
        noise_shape = layer.args.get("noise_shape")
        if isinstance(noise_shape, (tuple, list)) and None in noise_shape:
            return True  # TypeError/ValueError in training, `fit` too: None is not filled in
    # Keras 3: SpatialDropoutND takes no noise_shape (and 1D no data_format): TypeError.
    # tf.keras 2 silently ignores them.
    extra = {"noise_shape"} | ({"data_format"} if layer.kind == "SpatialDropout1D" else set())
    return keras.is_keras3 and layer.kind in SPATIAL_DROPOUT_KINDS \
        and bool(extra & set(layer.args))


def _legacy_alpha(layer: Layer, keras: KerasVersion) -> bool:
    """tf_keras' AlphaDropout and, under Keras 3, tf.keras' (keras.src.legacy.layers): they
    pass noise_shape to TensorFlow unfilled and keep it out of get_config()."""
    return not keras.is_keras3 or layer.api in ("tf.keras", "tf_keras")


def _time_of(mask_shape: Shape, input_shape: Shape) -> str:
    return "fresh-each-step" if _varies(mask_shape[1], input_shape[1]) else "same-every-step"


def _spatial_mask_shape(layer: Layer, input_shape: Shape) -> Shape:
    n = SPATIAL_DROPOUT_KINDS[layer.kind]
    if n > 1 and layer.args.get("data_format") == "channels_first":
        return (input_shape[0], input_shape[1]) + (1,) * n
    return (input_shape[0],) + (1,) * n + (input_shape[-1],)


# A rate not known statically (a parameter, a config value): the pattern is the same for every
# rate in (0, 1), so it is stated for such a rate, with this note (rate 0 would drop nothing).
UNKNOWN_RATE_NOTE = "the rate is not known statically: this is what any rate between 0 and 1 drops"
SOME_RATE = 0.5  # stands for the unknown rate; never printed (the site's rate stays null)


def _with_unknown_rate(mask: Mask) -> Mask:
    """The mask found for SOME_RATE, for a rate not known: what fails with some rate in (0, 1)
    may not fail with the actual one (unknown); what is ignored is ignored whatever the rate."""
    if mask.note == FAILS_NOTE:
        return UNKNOWN_MASK
    if mask.drops in ("none", "unknown"):
        return mask
    return replace(mask, note=UNKNOWN_RATE_NOTE)


def _layer_mask(layer: Layer, input_shape: Shape | None, keras: KerasVersion,
                rate=UNKNOWN) -> Mask:
    kind = layer.kind
    rate = rate_of(layer) if rate is UNKNOWN else rate
    if rate is None:
        return UNKNOWN_MASK
    if not known(rate):
        return _with_unknown_rate(_layer_mask(layer, input_shape, keras, SOME_RATE))
    if _fails(layer, rate, keras):
        return FAILING_MASK
    if input_shape is None and kind in SPATIAL_DROPOUT_KINDS:
        input_shape = (None,) * (SPATIAL_DROPOUT_KINDS[kind] + 2)  # the one rank it accepts
    if input_shape is None:
        if kind in NOISE_KINDS:
            return Mask(None, "noise" if rate else "none", True, None, 1 if rate else 0)
        if rate == 0:
            return Mask(None, "none", True, None, 0)
        return Mask(None, "unknown", _per_sample_any_rank(layer.args.get("noise_shape")),
                    None, 1)
    rank = len(input_shape)
    time = _time_of(input_shape, input_shape) if rank == 3 else None
    if kind in NOISE_KINDS:
        return Mask(tuple(input_shape), "noise" if rate else "none", True, time,
                    1 if rate else 0)
    if rate == 0:
        return Mask(tuple(input_shape), "none", True, time, 0)
    if kind in SPATIAL_DROPOUT_KINDS:
        if rank != SPATIAL_DROPOUT_KINDS[kind] + 2:
            return FAILING_MASK  # fails at call (DL104)
        mask = _spatial_mask_shape(layer, input_shape)
        channels_first = layer.args.get("data_format") == "channels_first"
    else:
        noise_shape = layer.args.get("noise_shape")
        mask = tuple(input_shape) if noise_shape is None else \
            _resolve_noise_shape(noise_shape, input_shape)
        if mask is None:
            return UNKNOWN_MASK
        channels_first = False
    drops = _drops_from_shape(mask, input_shape, channels_first)
    if rank == 3:
        time = _time_of(mask, input_shape)
    return Mask(mask, drops, mask[0] != 1, time, 1)


def _per_sample_any_rank(noise_shape) -> bool | None:
    """Whether a Dropout draws per sample whatever its input's rank: always without
    noise_shape; never with a 1 first (the batch axis, or broadcast over it when shorter)."""
    if noise_shape is None:
        return True
    if known(noise_shape) and isinstance(noise_shape, (tuple, list)) and noise_shape \
            and noise_shape[0] == 1:
        return False
    return None


def _time_distributed_mask(layer: Layer, input_shape: Shape | None, keras: KerasVersion) -> Mask:
    """TimeDistributed(inner dropout): the inner layer sees one step (B, *rest) at a time.

    Keras 3 calls the inner layer once per step (a fresh draw every step; a 1 in the inner
    batch axis shares the step's pattern across the batch). tf.keras 2 folds time into the
    batch (B*T, *rest) and calls it once, so a 1 in the inner batch axis shares one pattern
    across batch and time."""
    inner = layer.inner
    if input_shape is None or len(input_shape) < 3:
        if input_shape is None and inner.kind in SPATIAL_DROPOUT_KINDS:
            input_shape = (None,) * (SPATIAL_DROPOUT_KINDS[inner.kind] + 3)
        else:
            step = _layer_mask(inner, None, keras)
            if not keras.is_keras3 and step.per_sample is False:
                return step  # tf.keras 2: shared across batch and time alike
            return Mask(None, step.drops, step.per_sample, None, step.masks)
    step = _layer_mask(inner, (input_shape[0],) + tuple(input_shape[2:]), keras)
    if step.mask_shape is None or step.drops in ("none", "noise", "unknown"):
        shape = None if step.mask_shape is None else tuple(input_shape)
        return Mask(shape, step.drops, step.per_sample,
                    _time_of(shape, input_shape) if shape else None, step.masks)
    m = step.mask_shape
    if not keras.is_keras3 and m[0] == 1:
        full = (1, 1) + tuple(m[1:])
    else:
        full = (m[0], input_shape[1]) + tuple(m[1:])
    channels_first = inner.kind in SPATIAL_DROPOUT_KINDS \
        and inner.args.get("data_format") == "channels_first"
    drops = _drops_from_shape(full, input_shape, channels_first, channel_offset=1)
    return Mask(full, drops, m[0] != 1, _time_of(full, input_shape), 1)


def _input_mask_count(layer: Layer, keras: KerasVersion) -> int | None:
    """How many input masks an RNN cell applies: one per gate, or one shared by all gates."""
    core = layer.core
    kind = core.kind
    if kind in CONV_LSTM_KINDS:
        return GATES[kind]
    if kind not in CUDNN_KINDS:
        return 1
    rd = core.args.get("recurrent_dropout", 0.0)
    implementation = core.args.get("implementation", 2)
    if _rebuilt_without_implementation(layer, keras):
        implementation = 2
    if not known(rd) or not known(implementation):
        return None
    # recurrent_dropout > 0 forces implementation=1 (Keras 3 and tf.keras 2 alike).
    return GATES[kind] if (rd or 0) > 0 or implementation == 1 else 1


def _rebuilt_without_implementation(layer: Layer, keras: KerasVersion) -> bool:
    """Keras 3 Bidirectional rebuilds both directions from get_config(), which has no
    `implementation`: the wrapped LSTM/GRU runs with the default (measured, Keras 3.15)."""
    return keras.is_keras3 and layer.kind == "Bidirectional"


def fails_in_training(layer: Layer, keras: KerasVersion) -> bool:
    """Keras >= 3.8 LSTM/GRU(dropout>0, recurrent_dropout=0, implementation=1, use_cudnn not
    False) builds its input masks with the wrong rank: training fails (DL307)."""
    core = layer.core
    a = core.args
    if core.kind not in CUDNN_KINDS or not (keras.is_keras3 and keras.at_least(3, 8)):
        return False
    if _rebuilt_without_implementation(layer, keras) or a.get("implementation") != 1:
        return False
    dropout = a.get("dropout", 0.0)
    return isinstance(dropout, (int, float)) and 0 < dropout < 1 \
        and a.get("recurrent_dropout", 0.0) == 0 and a.get("use_cudnn", "auto") is not False


CUDNN_ARGS = ("recurrent_dropout", "activation", "recurrent_activation", "unroll", "use_bias",
              "reset_after")


def _uses_cell_path(layer: Layer, keras: KerasVersion) -> bool | None:
    """Whether the RNN applies its cell's masks (None: unknown). tf.keras 2 LSTM/GRU do so only
    when cuDNN-ineligible; otherwise they mask the whole sequence with the first of 4 (GRU 3)
    masks. Keras 3 and every other recurrent layer always use the cell's masks."""
    core = layer.core
    if keras.is_keras3 or core.kind not in CUDNN_KINDS:
        return True
    if cudnn_ineligible_reasons(layer):
        return True
    if any(not known(core.args.get(name)) for name in CUDNN_ARGS):
        return None
    return False


def _fresh_each_step(layer: Layer, keras: KerasVersion) -> bool | None:
    """Whether an RNN's dropout masks are drawn anew at every timestep (None: unknown).

    Keras 3 draws them once per call, before its loop. tf.keras 2 (measured on tf_keras 2.21):
    the default cuDNN-eligible path masks the whole (B, T, F) sequence; the cell path caches
    its masks per call, but in graph mode (`fit`) the cache is filled inside the while loop, so
    a fresh mask is drawn at every step (eager calls and `unroll=True` reuse one)."""
    if keras.is_keras3:
        return False
    unroll = layer.core.args.get("unroll", False)
    return None if not known(unroll) else unroll is not True


def _rnn_mask(layer: Layer, input_shape: Shape | None, keras: KerasVersion,
              argument: str, rate=UNKNOWN) -> Mask:
    core = layer.core
    kind = core.kind
    rate = core.args.get(argument, 0.0) if rate is UNKNOWN else rate
    if not known(rate):
        return _with_unknown_rate(_rnn_mask(layer, input_shape, keras, argument, SOME_RATE))
    if not isinstance(rate, (int, float)) or isinstance(rate, bool):
        return UNKNOWN_MASK
    rate = min(1.0, max(0.0, rate))  # RNN rates are clipped silently
    # LSTM/GRU/ConvLSTM apply a mask only when 0 < rate < 1; SimpleRNN whenever rate > 0,
    # so with rate 1 it zeros every input in Keras 3 and fails in training in tf.keras 2.
    if rate == 0 or (rate >= 1 and kind != "SimpleRNN"):
        return Mask(None, "none", True, None, 0)
    if rate >= 1 and not keras.is_keras3:
        return FAILING_MASK
    if kind in CONV_LSTM_KINDS and keras.is_keras3 and keras.between((3, 0), (3, 4)):
        return Mask(None, "none", True, None, 0)  # Keras 3.0 to 3.4 ignore ConvLSTM dropout
    if fails_in_training(layer, keras):
        return FAILING_MASK  # the first training step raises (DL307)
    fresh = _fresh_each_step(layer, keras)
    if fresh is None:
        return UNKNOWN_MASK
    if input_shape is None:  # the one rank a recurrent layer accepts
        input_shape = (None,) * (3 + CONV_LSTM_DIMS.get(kind, 0))
    one_step = len(input_shape) >= 3 and input_shape[1] == 1
    over_time = "fresh-each-step" if fresh and not one_step else "same-every-step"
    gates = GATES.get(kind, 1)
    if argument == "recurrent_dropout":
        # recurrent_dropout > 0 forces implementation=1: one state mask per gate.
        if kind in CONV_LSTM_KINDS:
            return Mask(None, "elements", True, over_time, gates)
        units = core.args.get("units", UNKNOWN)
        units = units if known(units) and isinstance(units, int) else None
        state = (None, units)
        return Mask(state, _drops_from_shape(state, state), True, over_time, gates)
    if len(input_shape) < 3 \
            or (kind not in CONV_LSTM_KINDS and len(input_shape) != 3):
        return UNKNOWN_MASK
    # one step's shape, or the whole sequence when drawn anew at every step
    mask = (input_shape[0], input_shape[1] if fresh else 1) + tuple(input_shape[2:])
    channels_first = kind in CONV_LSTM_KINDS and core.args.get("data_format") == "channels_first"
    drops = _drops_from_shape(mask, input_shape, channels_first, 1)
    cell_path = _uses_cell_path(layer, keras)
    masks = None if cell_path is None else \
        (_input_mask_count(layer, keras) if cell_path else 1)
    return Mask(mask, drops, True, _time_of(mask, input_shape), masks)


def explain(layer: Layer, input_shape: Shape | None, keras: KerasVersion,
            argument: str | None = None) -> Mask:
    """The mask of a dropout site: a dropout layer (argument None), TimeDistributed(dropout),
    or the `dropout` / `recurrent_dropout` argument of a recurrent layer."""
    if argument is not None:
        mask = _rnn_mask(layer, input_shape, keras, argument)
    elif layer.kind == "TimeDistributed" and layer.inner is not None and layer.inner.is_dropout:
        mask = _time_distributed_mask(layer, input_shape, keras)
    else:
        mask = _layer_mask(layer, input_shape, keras)
    note = getattr(input_shape, "note", None)
    if note and argument != "recurrent_dropout":
        rate_note = f"; {mask.note}" if mask.note == UNKNOWN_RATE_NOTE else ""
        return replace(mask, note=f"input {note}{rate_note}")
    return mask
