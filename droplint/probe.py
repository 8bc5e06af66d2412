"""Measure what a real Keras dropout site masks, by running it.

`measure(layer, input_shape)` takes a real layer object (Keras 3 on the TensorFlow backend, or
tf_keras; on JAX or PyTorch only the dropout layers, read from zeros in their output, and an
RNN's masks raise ProbeError saying they need the TensorFlow backend), runs it in training mode on ones and reads which input entries the output no longer
depends on: an entry is *dropped* when the gradient of the summed output with respect to it is
exactly zero. From many draws it reads along which axes that zero pattern is constant (the mask
shape), whether it differs between samples and between timesteps, and, from the fraction
dropped, how many independent masks are applied (k masks of rate r leave an entry's gradient
zero with probability r**k). `compare(claimed, measured)` lists the disagreements with
`semantics.explain` in plain words. TensorFlow and Keras are imported only inside functions.

Recurrent layers run with a random non-zero initial state (with a zero carry, an LSTM's forget
gate and a GRU's reset gate do not depend on the first step's input, which would read as
spurious drops). Where a fact can only be read from the code path, `Measured.notes` says so.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import asdict, dataclass, field

DEFAULT_SIZE = 6  # stands in for sizes not known statically (other than the batch)
DRAWS = 64  # training-mode calls per measurement, each with a fresh mask
MIN_DROPS_TO_COUNT = 20  # dropped entries needed before the number of masks is estimated
PICTURE_MAX = 64  # rows and columns kept in Measured.picture


class ProbeError(Exception):
    """The layer could not be measured as asked; the message says why."""


@dataclass
class Measured:
    layer: str  # class name of the layer that was run
    argument: str | None  # None, "dropout" or "recurrent_dropout"
    input_shape: tuple  # the concrete shape it ran on (state shape for recurrent_dropout)
    output_shape: tuple | None
    mask_shape: tuple | None  # per axis: 1 where the zero pattern is constant, else the size
    drops: str  # semantics' words, plus "all" (every entry dropped: no pattern to read)
    per_sample: bool | None  # False when one pattern is shared by the whole batch
    over_time: str | None  # "fresh-each-step" | "same-every-step" | None
    masks: int | None  # independent masks applied, estimated from the fraction dropped
    dropped_fraction: float | None
    draws: int
    picture: list | None = None  # one sample of the first draw, 2-D: 1 kept, 0 dropped
    fingerprint: str | None = None  # digest of every draw's pattern: equal digests, equal masks
    directions_identical: bool | None = None  # Bidirectional: the same masks in both directions
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------------------------------
# Framework


def _framework(layer):
    """(tensorflow, keras module) for the layer's Keras: Keras 3 or tf_keras."""
    roots = {cls.__module__.split(".")[0] for cls in type(layer).__mro__}
    if "tf_keras" in roots:
        import tensorflow as tf
        import tf_keras as keras
        return tf, keras
    if "keras" in roots:
        import keras
        if keras.backend.backend() != "tensorflow":
            return None, keras  # JAX, PyTorch: measured from outputs (_output_draws)
        import tensorflow as tf
        return tf, keras
    raise ProbeError(f"{type(layer).__name__} is not a Keras layer")


def _is_keras3(keras) -> bool:
    return keras.__name__.split(".")[0] == "keras"


def _kind(layer) -> str:
    return type(layer).__name__


def _is_recurrent(layer) -> bool:
    return hasattr(layer, "cell") or hasattr(layer, "forward_layer")


def concrete_shape(input_shape, batch: int) -> tuple:
    """The shape to run on: the batch from `batch` when unknown, other unknowns DEFAULT_SIZE."""
    if input_shape is None:
        raise ProbeError("the input shape is unknown")
    return tuple(d if isinstance(d, int) and d > 0 else (batch if i == 0 else DEFAULT_SIZE)
                 for i, d in enumerate(input_shape))


def _dtype(layer) -> str:
    dtype = getattr(layer, "compute_dtype", None) or "float32"
    return dtype if isinstance(dtype, str) else getattr(dtype, "name", "float32")


def _build(tf, layer, shape) -> None:
    if layer.built:
        return
    try:
        layer.build(shape)
    except Exception:  # noqa: BLE001 - some build only when called: call once, in inference
        layer(tf.ones(shape, _dtype(layer)), training=False)


def _reason(exc: Exception) -> str:
    """The line of a Keras/TensorFlow error that says what went wrong."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for i, line in enumerate(lines[:-1]):
        if "Exception encountered when calling" in line:
            return lines[i + 1]
    return lines[0] if lines else ""


def _run(what: str, fn):
    try:
        return fn()
    except ProbeError:
        raise
    except Exception as exc:  # Keras raises many types: report any of them plainly
        raise ProbeError(f"{what}: {type(exc).__name__}: {_reason(exc)}") from exc


# ------------------------------------------------------------------------------------------
# Draws: run the layer and read which entries the output does not depend on


@dataclass
class _Setup:
    """How to run: the framework modules, the number of draws, graph or eager, the rng."""

    tf: object
    keras: object
    draws: int
    eager: bool
    rng: object


def _gradient_draws(setup: _Setup, layer, x, wrt, initial_state=None):
    """Call the layer `setup.draws` times in training mode, each call drawing fresh masks, in
    graph mode (one tf.function, as `fit` runs it) or eagerly; return (the dropped pattern of
    `wrt` for every draw, the first output of every draw)."""
    tf = setup.tf

    def draw():
        with tf.GradientTape() as tape:
            tape.watch(wrt)
            kwargs = {"training": True}
            if initial_state is not None:
                kwargs["initial_state"] = initial_state
            flat = tf.nest.flatten(layer(x, **kwargs))
            total = tf.add_n([tf.reduce_sum(tf.cast(t, "float32")) for t in flat])
        grad = tape.gradient(total, wrt, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return tf.equal(grad, 0), flat[0]

    if not setup.eager:
        draw = tf.function(draw, autograph=False)
    dropped, outputs = [], []
    for _ in range(setup.draws):
        d, y = draw()
        dropped.append(d.numpy())
        outputs.append(y.numpy())
    return dropped, outputs


def _output_draws(setup: _Setup, layer, shape):
    """Backends other than TensorFlow (no GradientTape): call the layer eagerly on ones,
    `setup.draws` times; an entry is dropped where the output is 0 (AlphaDropout: where it is
    not the kept value, the largest)."""
    import numpy as np

    ops = setup.keras.ops
    x = ops.ones(shape, _dtype(layer))
    outputs = [np.asarray(ops.convert_to_numpy(layer(x, training=True)), "float64")
               for _ in range(setup.draws)]
    if "AlphaDropout" in _kind(layer):
        return [~np.isclose(y, y.max()) for y in outputs], outputs
    return [y == 0 for y in outputs], outputs


BACKEND_ONLY = ("not measured on the {backend} backend: an RNN's masks are read from gradients "
                "through the layer (tf.GradientTape), which the probe runs on the TensorFlow "
                "backend only; run with KERAS_BACKEND=tensorflow to measure it")


def _initial_state(setup: _Setup, layer, x):
    """The layer's zero initial state plus random values: every gate then depends on every
    step's input."""
    if _is_keras3(setup.keras):
        states = layer.get_initial_state(batch_size=x.shape[0])
    else:
        states = layer.get_initial_state(x)
    return [setup.tf.constant(setup.rng.uniform(-1.0, 1.0, tuple(s.shape)), dtype=s.dtype) + s
            for s in setup.tf.nest.flatten(states)]


# ------------------------------------------------------------------------------------------
# Reading a set of draws


def _varying_axes(patterns) -> list[bool]:
    import numpy as np

    rank = patterns[0].ndim
    return [any(bool(np.any(p != np.take(p, [0], axis=a))) for p in patterns)
            for a in range(rank)]


def _word(varies: list[bool], channel_axis: int | None, state: bool) -> str:
    """semantics' word for a pattern that changes along the axes marked in `varies`."""
    rest = varies[1:]
    if not any(rest):
        return "samples"
    if state:
        return "units" if len(varies) == 2 else "elements"
    if len(varies) == 2:
        return "units"
    if len(varies) == 3:
        t, f = rest
        return "elements" if t and f else ("features" if f else "timesteps")
    if channel_axis is not None and sum(rest) == 1 and varies[channel_axis]:
        return "channels"
    return "elements"


def _estimate_masks(fraction: float, dropped: int, rate) -> int | None:
    if not isinstance(rate, (int, float)) or not 0 < rate < 1 or dropped < MIN_DROPS_TO_COUNT:
        return None
    return max(1, round(math.log(fraction) / math.log(rate)))


def _fingerprint(patterns) -> str:
    import numpy as np

    digest = hashlib.sha1()
    for p in patterns:
        digest.update(np.packbits(p).tobytes())
    return digest.hexdigest()[:16]


def _picture(pattern) -> list:
    """One sample of one draw as a 2-D list (1 kept, 0 dropped), cropped to PICTURE_MAX."""
    sample = ~pattern[0]
    if sample.ndim == 0:
        grid = sample.reshape(1, 1)
    elif sample.ndim == 1:
        grid = sample.reshape(1, -1)
    else:
        grid = sample.reshape(sample.shape[0], -1)
    return grid[:PICTURE_MAX, :PICTURE_MAX].astype(int).tolist()


def _summarize(kind, argument, shape, patterns, *, rate, time_axis, channel_axis,
               state=False, output_shape=None, notes=None) -> Measured:
    """Measured from a list of dropped patterns (booleans in `shape`)."""
    import numpy as np

    notes = list(notes or [])
    stacked = np.stack(patterns)
    fraction = float(stacked.mean())
    common = {"layer": kind, "argument": argument, "input_shape": tuple(shape),
              "output_shape": output_shape, "dropped_fraction": fraction,
              "draws": len(patterns), "picture": _picture(patterns[0]),
              "fingerprint": _fingerprint(patterns), "notes": notes}
    if fraction == 0:
        return Measured(mask_shape=tuple(shape), drops="none", per_sample=None, over_time=None,
                        masks=0, **common)
    if fraction == 1:
        notes.append("every entry was dropped in every draw: no pattern to read")
        return Measured(mask_shape=None, drops="all", per_sample=None, over_time=None,
                        masks=None, **common)
    varies = _varying_axes(patterns)
    mask_shape = tuple(n if v else 1 for n, v in zip(shape, varies))
    over_time = None
    if time_axis is not None:
        over_time = "fresh-each-step" if varies[time_axis] else "same-every-step"
    distinct = math.prod(mask_shape) * len(patterns)
    dropped = round(fraction * distinct)
    masks = _estimate_masks(fraction, dropped, rate)
    if masks is None and isinstance(rate, (int, float)) and 0 < rate < 1:
        notes.append(f"only {dropped} distinct entries dropped: too few to count the masks")
    return Measured(mask_shape=mask_shape, drops=_word(varies, channel_axis, state),
                    per_sample=varies[0] if shape[0] > 1 else None, over_time=over_time,
                    masks=masks, **common)


# ------------------------------------------------------------------------------------------
# Dropout layers and TimeDistributed(dropout)


def _channel_axis(layer, rank: int) -> int | None:
    inner = getattr(layer, "layer", None)
    offset = 1 if inner is not None else 0
    target = inner if inner is not None else layer
    if rank < 4 + offset:
        return None
    if getattr(target, "data_format", None) == "channels_first":
        return 1 + offset
    return rank - 1


def _noise(kind, shape, outputs, time_axis) -> Measured | None:
    """Measured for a layer that zeroes nothing but changes the values (Gaussian layers)."""
    import numpy as np

    changed = [~np.isclose(y, 1.0) for y in outputs]
    if not any(c.any() for c in changed):
        return None
    varies = _varying_axes(outputs)
    over_time = None if time_axis is None else \
        ("fresh-each-step" if varies[time_axis] else "same-every-step")
    return Measured(kind, None, tuple(shape), tuple(shape),
                    tuple(n if v else 1 for n, v in zip(shape, varies)), "noise",
                    varies[0] if shape[0] > 1 else None, over_time, 1, 0.0, len(outputs),
                    fingerprint=_fingerprint(changed),
                    notes=["no entry is zeroed; the output is noisy"])


def _measure_layer(setup: _Setup, layer, shape) -> Measured:
    kind = _kind(layer)
    inner = getattr(layer, "layer", None)
    _run(f"{kind} cannot be built on {shape}",
         lambda: _build(setup.tf or setup.keras.ops, layer, shape))
    if setup.tf is None:
        draws = lambda: _output_draws(setup, layer, shape)  # noqa: E731
    else:
        x = setup.tf.ones(shape, _dtype(layer))
        draws = lambda: _gradient_draws(setup, layer, x, x)  # noqa: E731
    patterns, outputs = _run(f"{kind} fails in training on {shape}", draws)
    out_shape = tuple(outputs[0].shape)
    time_axis = 1 if (len(shape) == 3 or inner is not None) else None
    if out_shape != tuple(shape):
        note = (f"the output shape {out_shape} differs from the input shape {tuple(shape)}: "
                "the mask adds axes (noise_shape longer than the input's rank)")
        return Measured(kind, None, tuple(shape), out_shape, None, "unknown", None, None, None,
                        None, len(patterns), notes=[note])
    if not any(p.any() for p in patterns):
        noisy = _noise(kind, shape, outputs, time_axis)
        if noisy is not None:
            return noisy
    rate = getattr(inner if inner is not None else layer, "rate", None)
    return _summarize(kind, None, shape, patterns, rate=rate, time_axis=time_axis,
                      channel_axis=_channel_axis(layer, len(shape)), output_shape=out_shape)


# ------------------------------------------------------------------------------------------
# Recurrent layers


def _measure_rnn_input(setup: _Setup, layer, shape) -> Measured:
    kind = _kind(layer)
    x = setup.tf.ones(shape, _dtype(layer))
    _run(f"{kind} cannot be built on {shape}", lambda: _build(setup.tf, layer, shape))
    state = _run(f"{kind}: no initial state", lambda: _initial_state(setup, layer, x))
    patterns, outputs = _run(f"{kind} fails in training on {shape}",
                             lambda: _gradient_draws(setup, layer, x, x, state))
    channels_first = getattr(layer, "data_format", None) == "channels_first"
    channel = None if len(shape) < 4 else (2 if channels_first else len(shape) - 1)
    rate = getattr(layer.cell, "dropout", None)
    return _summarize(kind, "dropout", shape, patterns, rate=rate, time_axis=1,
                      channel_axis=channel, output_shape=tuple(outputs[0].shape),
                      notes=[INPUT_NOTE])


INPUT_NOTE = ("dropped input entries: those whose gradient is zero, i.e. dropped by every "
              "mask applied to them (one per gate where there are several)")


def _generated_state_masks(setup: _Setup, layer, h0, count: int) -> list:
    """The state masks as the cell generates them for one call (dropped entries True)."""
    cell = layer.cell
    if _is_keras3(setup.keras):
        masks = cell.get_recurrent_dropout_mask(h0)
    else:
        masks = cell.get_recurrent_dropout_mask_for_cell(h0, True, count=count)
    cell.reset_recurrent_dropout_mask()
    masks = masks if isinstance(masks, (list, tuple)) else [masks]
    return [m.numpy() == 0 for m in masks]


def _gru_state_patterns(setup: _Setup, layer, h0, notes) -> tuple[list, int | None]:
    """GRU keeps its previous state unmasked in the update (h = z*h_prev + (1-z)*h_new), so no
    gradient shows the state masks: read them from the cell's generation instead."""
    import numpy as np

    cell = layer.cell
    count = 3 if cell.implementation == 1 else 1
    notes.append("GRU uses its previous state unmasked in its update, so its state masks are "
                 "read from the cell's mask generation, and how many it applies "
                 f"({count}, implementation={cell.implementation}) from the code path")
    if not 0 < cell.recurrent_dropout < 1:
        return [np.zeros(tuple(h0.shape), bool)], None
    patterns = [np.logical_and.reduce(_generated_state_masks(setup, layer, h0, count))
                for _ in range(setup.draws)]
    return patterns, count


def _measure_rnn_state(setup: _Setup, layer, shape) -> Measured:
    kind = _kind(layer)
    x = setup.tf.ones(shape, _dtype(layer))
    _run(f"{kind} cannot be built on {shape}", lambda: _build(setup.tf, layer, shape))
    state = _run(f"{kind}: no initial state", lambda: _initial_state(setup, layer, x))
    h0 = state[0]
    rate = getattr(layer.cell, "recurrent_dropout", None)
    notes = []
    masks = None
    if "GRU" in kind:
        patterns, masks = _gru_state_patterns(setup, layer, h0, notes)
    else:
        patterns, _ = _run(f"{kind} fails in training on {shape}",
                           lambda: _gradient_draws(setup, layer, x, h0, state))
        notes.append("dropped state entries: those of the initial state whose gradient is "
                     "zero, i.e. dropped by every state mask at the first step")
    result = _summarize(kind, "recurrent_dropout", tuple(h0.shape), patterns, rate=rate,
                        time_axis=None, channel_axis=None, state=True, notes=notes)
    if result.drops not in ("none", "all"):
        result.masks = masks or result.masks
        result.over_time = _state_mask_over_time(setup, rate, result.notes)
    return result


_OVER_TIME: dict = {}  # (Keras module, rate, eager) -> what the wired SimpleRNN showed


def _state_mask_over_time(setup: _Setup, rate, notes) -> str | None:
    """Whether the state mask is the same at every step (None when no mask is applied)."""
    notes.append("over_time of the state mask: observed on a SimpleRNN of the same Keras wired "
                 "to show its state mask (the per-call mask cache all its RNN cells share); "
                 "that this layer's cell reads that cache at every step is from the code path")
    if not isinstance(rate, (int, float)) or not 0 < rate < 1:
        return None
    key = (setup.keras.__name__, float(rate), setup.eager)
    if key not in _OVER_TIME:
        _OVER_TIME[key] = _observe_state_mask_over_time(setup, rate)
    return _OVER_TIME[key]


def _observe_state_mask_over_time(setup: _Setup, rate) -> str:
    """Run a real SimpleRNN wired so that its output shows its state mask: kernel 0,
    recurrent kernel I, no bias, linear, initial state 1, so h_t = h_(t-1) * mask_t. Its
    dropped units are then the union of the masks so far: constant over time exactly when
    the mask is."""
    import numpy as np

    tf, keras = setup.tf, setup.keras
    batch, steps, units = 4, 6, 8
    rnn = keras.layers.SimpleRNN(units, activation=None, use_bias=False,
                                 recurrent_dropout=rate, return_sequences=True)
    x = tf.ones((batch, steps, 1))
    rnn(x, training=False)
    rnn.set_weights([np.zeros((1, units), "float32"), np.eye(units, dtype="float32")])
    h0 = [tf.ones((batch, units))]

    def draw():
        return tf.equal(rnn(x, initial_state=h0, training=True), 0)

    if not setup.eager:
        draw = tf.function(draw, autograph=False)
    zeros = [draw().numpy() for _ in range(16)]
    fresh = any(bool(np.any(z != z[:, :1, :])) for z in zeros)
    return "fresh-each-step" if fresh else "same-every-step"


def _measure_rnn(setup: _Setup, layer, shape, argument) -> Measured:
    if argument == "recurrent_dropout":
        return _measure_rnn_state(setup, layer, shape)
    return _measure_rnn_input(setup, layer, shape)


def _measure_bidirectional(setup: _Setup, layer, shape, argument) -> Measured:
    _run(f"Bidirectional cannot be built on {shape}", lambda: _build(setup.tf, layer, shape))
    forward = _measure_rnn(setup, layer.forward_layer, shape, argument)
    backward = _measure_rnn(setup, layer.backward_layer, shape, argument)
    forward.layer = "Bidirectional"
    forward.directions_identical = forward.fingerprint == backward.fingerprint
    forward.notes.append(
        "Bidirectional: its forward and backward layers were measured one after the other, "
        "with the same number of draws; the fields describe the forward layer")
    return forward


# ------------------------------------------------------------------------------------------
# Public


def measure(layer, input_shape, *, seed: int = 0, argument: str | None = None,
            batch: int = 4, draws: int = DRAWS, eager: bool = False) -> Measured:
    """Run a real Keras layer in training mode on ones of `input_shape` and read what it drops.

    `argument` picks an RNN's "dropout" (the default for recurrent layers) or
    "recurrent_dropout". A None batch runs with `batch`; other unknown sizes with
    DEFAULT_SIZE. The layer runs in graph mode, as `fit` runs it, unless `eager`. Raises
    ProbeError when the layer cannot run on that shape."""
    import numpy as np

    import random

    tf, keras = _framework(layer)
    shape = concrete_shape(input_shape, batch)
    # Seeded for repeatable pictures; the Python and NumPy global generators are put back
    # afterwards so that a probe inside fit (DroplintCallback) does not reseed the user's
    # data shuffling. TensorFlow's global seed stays set: it has no getter to restore from.
    py_state, np_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(seed)
    try:
        return _measure(tf, keras, layer, input_shape, shape, seed, argument, draws, eager)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def _measure(tf, keras, layer, input_shape, shape, seed, argument, draws, eager) -> Measured:
    import numpy as np

    setup = _Setup(tf, keras, draws, eager, np.random.default_rng(seed))
    notes = [f"ran {'eagerly' if eager else 'in graph mode (tf.function), as fit runs it'}"]
    if tf is None:
        backend = keras.backend.backend()
        if _is_recurrent(layer):
            raise ProbeError(BACKEND_ONLY.format(backend=backend))
        notes = [f"ran eagerly on the {backend} backend; dropped entries read where the "
                 "output of ones is zeroed (no gradients)"]
    if any(not isinstance(d, int) for d in tuple(input_shape)[1:]):
        notes.append(f"sizes unknown statically ran as {DEFAULT_SIZE}")
    if _is_recurrent(layer):
        argument = argument or "dropout"
        if hasattr(layer, "forward_layer"):
            result = _measure_bidirectional(setup, layer, shape, argument)
        else:
            result = _measure_rnn(setup, layer, shape, argument)
    else:
        if argument is not None:
            raise ProbeError(f"{_kind(layer)} has no {argument!r} argument to measure")
        result = _measure_layer(setup, layer, shape)
    result.notes = notes + result.notes
    return result


# ------------------------------------------------------------------------------------------
# Comparing with semantics.explain


def _category(drops: str) -> str:
    if drops in ("none", "noise", "unknown"):
        return drops
    return "drops"


def _axis_name(axis: int, rank: int, time: bool) -> str:
    if axis == 0:
        return "the batch axis"
    if time and axis == 1:
        return "the time axis"
    if axis == rank - 1:
        return "the last (feature/channel) axis"
    return f"axis {axis}"


def _varies_claimed(dim) -> bool:
    return dim is None or dim != 1


def compare(claimed, measured: Measured) -> list[str]:
    """Where semantics' Mask and the measurement disagree, in plain words ([] if they agree).
    Unknown on either side is no claim; a measurement that dropped everything agrees with any
    mask that drops something."""
    if claimed.drops == "unknown" or measured.drops == "unknown":
        return []
    said, seen = _category(claimed.drops), _category(measured.drops)
    if said != seen:
        what = {"drops": f"drops {measured.drops} ({measured.dropped_fraction:.0%} of entries)"
                if measured.dropped_fraction is not None else f"drops {measured.drops}",
                "none": "dropped nothing", "noise": "zeroed nothing but added noise"}[seen]
        return [f"droplint says the mask drops {claimed.drops}; running it, Keras {what}"]
    if said != "drops" or measured.drops == "all":
        return []
    out = []
    shape = measured.input_shape
    time = measured.over_time is not None or claimed.over_time is not None
    if claimed.mask_shape is not None and measured.mask_shape is not None:
        if len(claimed.mask_shape) != len(measured.mask_shape):
            out.append(f"droplint's mask has rank {len(claimed.mask_shape)}; the measured one "
                       f"{len(measured.mask_shape)}")
        else:
            for axis, (c, m) in enumerate(zip(claimed.mask_shape, measured.mask_shape)):
                if shape[axis] <= 1 or _varies_claimed(c) == (m != 1):
                    continue
                said_axis = "changes" if _varies_claimed(c) else "is constant"
                seen_axis = "changes" if m != 1 else "is constant"
                out.append(f"along {_axis_name(axis, len(shape), time)} the pattern "
                           f"{said_axis} according to droplint but {seen_axis} in Keras")
    if None not in (claimed.per_sample, measured.per_sample) \
            and claimed.per_sample != measured.per_sample:
        out.append(f"per sample: droplint says {claimed.per_sample}, Keras shows "
                   f"{measured.per_sample}")
    if None not in (claimed.over_time, measured.over_time) \
            and claimed.over_time != measured.over_time:
        out.append(f"over time: droplint says {claimed.over_time}, Keras shows "
                   f"{measured.over_time}")
    if None not in (claimed.masks, measured.masks) and claimed.masks != measured.masks:
        out.append(f"masks applied: droplint says {claimed.masks}, Keras shows about "
                   f"{measured.masks}")
    if claimed.drops != measured.drops:
        out.append(f"droplint says it drops {claimed.drops}; Keras drops {measured.drops}")
    return out
