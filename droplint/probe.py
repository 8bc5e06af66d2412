"""Measure what a real Keras dropout site masks, by running it (needs Keras).

`measure(layer, input_shape)` takes a real layer object (Keras 3 on the TensorFlow backend, or
tf_keras; on JAX or PyTorch only the dropout layers, read from zeros in their output, and an
RNN's masks raise ProbeError saying they need the TensorFlow backend), runs it in training
mode on ones and reads which input entries the output no longer depends on: an entry is
*dropped* when the gradient of the summed output with respect to it is exactly zero.
TensorFlow and Keras are imported only inside functions.

The probe in three modules: this one makes the draws; probe_reading.py (pure) reads them
(along which axes the zero pattern is constant: the mask shape, whether it differs between
samples and between timesteps, and, from the fraction dropped, how many independent masks are
applied: k masks of rate r leave an entry's gradient zero with probability r**k), in
semantics' words; probe_compare.py (pure) lists the disagreements with `semantics.explain` in
plain words (`compare(claimed, measured)`, re-exported here).

Recurrent layers run with a random non-zero initial state (with a zero carry, an LSTM's forget
gate and a GRU's reset gate do not depend on the first step's input, which would read as
spurious drops). Where a fact can only be read from the code path, `Measured.notes` says so.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

# probe.compare and probe.Measured, as callers know them:
from .probe_certainty import draws_to_see_a_drop, likeliest_masks
from .probe_compare import compare  # noqa: F401
from .probe_reading import DEFAULT_SIZE, Measured, ProbeError, noise, summarize  # noqa: F401

DRAWS = 64  # training-mode calls per measurement, each with a fresh mask
MAX_DRAWS = 4000  # at most, when nothing was dropped (see _more_draws)


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


def _gradient_draws(setup: _Setup, layer, x, wrt, initial_state=None, rate=None):
    """Call the layer `setup.draws` times in training mode, each call drawing fresh masks, in
    graph mode (one tf.function, as `fit` runs it) or eagerly; return (the dropped pattern of
    `wrt` for every draw, the first output of every draw). When nothing was dropped and the
    `rate` is known, more draws, until one mask of that rate would have dropped something
    with near certainty (probe_certainty.draws_to_see_a_drop)."""
    return _more_draws(setup, _draw_function(setup, layer, x, wrt, initial_state), rate)


def _more_draws(setup: _Setup, draw, rate, entries_per_draw: int = 1):
    """Run `draw` setup.draws times, and on until a mask of `rate` would show (see above)."""
    dropped, outputs = [], []
    total = setup.draws
    while len(dropped) < total:
        d, y = draw()
        dropped.append(d.numpy())
        outputs.append(y.numpy())
        if len(dropped) == total and not any(p.any() for p in dropped):
            total = max(total, draws_to_see_a_drop(rate, entries_per_draw, MAX_DRAWS))
    return dropped, outputs


def _draw_function(setup: _Setup, layer, x, wrt, initial_state=None):
    """One training-mode call as a function: (dropped pattern of `wrt`, first output)."""
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
    return draw


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




def _measure_layer(setup: _Setup, layer, shape) -> Measured:
    kind = _kind(layer)
    inner = getattr(layer, "layer", None)
    _run(f"{kind} cannot be built on {shape}",
         lambda: _build(setup.tf or setup.keras.ops, layer, shape))
    rate = getattr(inner if inner is not None else layer, "rate", None)
    if setup.tf is None:
        draws = lambda: _output_draws(setup, layer, shape)  # noqa: E731
    else:
        x = setup.tf.ones(shape, _dtype(layer))
        zeroes = "Gaussian" not in kind  # Gaussian layers add noise, never zero an entry
        draws = lambda: _gradient_draws(setup, layer, x, x,  # noqa: E731
                                        rate=rate if zeroes else None)
    patterns, outputs = _run(f"{kind} fails in training on {shape}", draws)
    out_shape = tuple(outputs[0].shape)
    time_axis = 1 if (len(shape) == 3 or inner is not None) else None
    if out_shape != tuple(shape):
        note = (f"the output shape {out_shape} differs from the input shape {tuple(shape)}: "
                "the mask adds axes (noise_shape longer than the input's rank)")
        return Measured(kind, None, tuple(shape), out_shape, None, "unknown", None, None, None,
                        None, len(patterns), notes=[note])
    if not any(p.any() for p in patterns):
        noisy = noise(kind, shape, outputs, time_axis)
        if noisy is not None:
            return noisy
    return summarize(kind, None, shape, patterns, rate=rate, time_axis=time_axis,
                      channel_axis=_channel_axis(layer, len(shape)), output_shape=out_shape)


# ------------------------------------------------------------------------------------------
# Recurrent layers


def _measure_rnn_input(setup: _Setup, layer, shape) -> Measured:
    kind = _kind(layer)
    x = setup.tf.ones(shape, _dtype(layer))
    _run(f"{kind} cannot be built on {shape}", lambda: _build(setup.tf, layer, shape))
    state = _run(f"{kind}: no initial state", lambda: _initial_state(setup, layer, x))
    rate = getattr(layer.cell, "dropout", None)
    channels_first = getattr(layer, "data_format", None) == "channels_first"
    channel = None if len(shape) < 4 else (2 if channels_first else len(shape) - 1)
    read = lambda runs: [summarize(  # noqa: E731
        kind, "dropout", shape, patterns, rate=rate, time_axis=1, channel_axis=channel,
        output_shape=tuple(outputs[0].shape), notes=[INPUT_NOTE]) for patterns, outputs in runs]
    # Every step's output counts: each input then reaches the output without passing a state
    # mask (a dropped unit of a 1-unit state would otherwise hide all earlier inputs).
    sequences = getattr(layer, "return_sequences", None)
    if sequences is False:
        layer.return_sequences = True
    try:
        return _gate_by_gate(setup, layer, x, x, state, "kernel", rate, read)
    finally:
        if sequences is False:
            layer.return_sequences = False


INPUT_NOTE = ("dropped input entries: those whose gradient is zero; each gate was run on its "
              "own (the other gates' kernel columns zero), so each gate's mask is read alone; "
              "how many masks: from the fraction dropped when every gate is on (dropped by "
              "every mask: rate**masks)")


def _gate_count(cell, weight: str) -> int:
    var = getattr(cell, weight, None)
    size = getattr(cell, "units", None) or getattr(cell, "filters", None)
    if var is None or not isinstance(size, int) or size <= 0:
        return 1
    return max(1, int(var.shape[-1]) // size)


def _gate_runs(setup: _Setup, layer, draw, weight: str, rate) -> list:
    """(patterns, outputs) of one run per gate: `weight` (the cell's kernel or recurrent
    kernel) zero but for that gate's columns, so that the gradient shows that gate's mask
    alone. The weight is put back exactly afterwards."""
    import numpy as np

    var = getattr(layer.cell, weight)
    original = np.array(var.numpy())
    gates = _gate_count(layer.cell, weight)
    width = original.shape[-1] // gates
    each = replace(setup, draws=max(6, -(-setup.draws // gates)))  # the draws shared out
    runs = []
    try:
        for g in range(gates):
            only = np.zeros_like(original)
            only[..., g * width:(g + 1) * width] = original[..., g * width:(g + 1) * width]
            var.assign(only)
            runs.append(_more_draws(each, draw, rate))
    finally:
        var.assign(original)
    return runs


def _gate_by_gate(setup: _Setup, layer, x, wrt, state, weight: str, rate, read) -> Measured:
    """Measure each gate's mask on its own (`read`: runs -> one Measured per run); the fields
    come from the first gate that dropped something, the number of masks from the fraction
    dropped with every gate on."""
    kind = _kind(layer)
    draw = _run(f"{kind} fails in training", lambda: _draw_function(setup, layer, x, wrt, state))
    several = _gate_count(layer.cell, weight) > 1
    both = _run(f"{kind} fails in training on {tuple(x.shape)}",
                lambda: (_more_draws(setup, draw, None) if several else None,
                         _gate_runs(setup, layer, draw, weight, rate)))
    combined, runs = both
    per_gate = read(runs)
    result = next((m for m in per_gate if m.drops != "none"), per_gate[0])
    if result.drops in ("none", "all") or len(per_gate) == 1:
        return result
    whole = read([combined])[0]
    entries = math.prod(result.mask_shape) * whole.draws
    dropped = round((whole.dropped_fraction or 0.0) * entries)
    result.masks = likeliest_masks(dropped, entries, rate, len(per_gate))
    result.masks_evidence = (dropped, entries)
    result.notes.append(f"{len(per_gate)} gates measured one by one; with all on, "
                        f"{dropped} of {entries} independent entries dropped")
    return result


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
    patterns = [_generated_state_masks(setup, layer, h0, count)[0]
                for _ in range(setup.draws)]
    return patterns, count


def _measure_rnn_state(setup: _Setup, layer, shape) -> Measured:
    kind = _kind(layer)
    x = setup.tf.ones(shape, _dtype(layer))
    _run(f"{kind} cannot be built on {shape}", lambda: _build(setup.tf, layer, shape))
    state = _run(f"{kind}: no initial state", lambda: _initial_state(setup, layer, x))
    h0 = state[0]
    rate = getattr(layer.cell, "recurrent_dropout", None)
    read_state = lambda runs: [summarize(  # noqa: E731
        kind, "recurrent_dropout", tuple(h0.shape), patterns, rate=rate, time_axis=None,
        channel_axis=None, state=True, notes=list(notes)) for patterns, _ in runs]
    notes = []
    if "GRU" in kind:
        patterns, masks = _gru_state_patterns(setup, layer, h0, notes)
        result = read_state([(patterns, None)])[0]
        result.masks = masks if result.drops not in ("none", "all") else result.masks
        result.masks_counted = masks is not None
    else:
        notes.append("dropped state entries: those of the initial state whose gradient is "
                     "zero at the first step")
        result = _gate_by_gate(setup, layer, x, h0, state, "recurrent_kernel", rate,
                               read_state)
    if result.drops not in ("none", "all"):
        steps = shape[1] if len(shape) > 2 else 1
        unroll = getattr(layer, "unroll", False) is True
        result.over_time, result.over_time_doubt = _state_mask_over_time(
            setup, rate, steps, unroll, result.notes)
    return result


_OVER_TIME: dict = {}  # (Keras module, rate, eager, steps, unroll) -> (reading, doubt)


def _state_mask_over_time(setup: _Setup, rate, steps: int, unroll: bool, notes):
    """(whether the state mask is the same at every step, the chance that a fresh mask at
    every step would have looked the same); (None, None) when no mask is applied."""
    notes.append(f"over_time of the state mask: observed on a SimpleRNN of the same Keras wired "
                 f"to show its state mask ({steps} steps, unroll={unroll}, as this layer; the "
                 "per-call mask cache all its RNN cells share); that this layer's cell reads "
                 "that cache at every step is from the code path")
    if not isinstance(rate, (int, float)) or not 0 < rate < 1:
        return None, None
    key = (setup.keras.__name__, float(rate), setup.eager, steps, unroll)
    if key not in _OVER_TIME:
        _OVER_TIME[key] = _observe_state_mask_over_time(setup, rate, steps, unroll)
    return _OVER_TIME[key]


def _observe_state_mask_over_time(setup: _Setup, rate, steps: int, unroll: bool):
    """Run a real SimpleRNN wired so that its output shows its state mask: kernel 0,
    recurrent kernel I, no bias, linear, initial state 1, so h_t = h_(t-1) * mask_t. Its
    dropped units are then the union of the masks so far: constant over time exactly when
    the mask is. Batch sized so that a fresh mask would show (probe_certainty)."""
    import numpy as np

    tf, keras = setup.tf, setup.keras
    units, draws = 8, 16
    # a (sample, unit) line looks constant under fresh masks when dropped at the first step
    # or never: rate + (1 - rate)**(steps - 1) * (1 - rate)
    one_line = rate + (1 - rate) ** steps if steps > 1 else 1.0
    batch = 4
    while batch < 256 and one_line < 1 and one_line ** (batch * units * draws) > 1e-7:
        batch *= 2
    doubt = one_line ** (batch * units * draws)
    rnn = keras.layers.SimpleRNN(units, activation=None, use_bias=False, unroll=unroll,
                                 recurrent_dropout=rate, return_sequences=True)
    x = tf.ones((batch, steps, 1))
    rnn(x, training=False)
    rnn.set_weights([np.zeros((1, units), "float32"), np.eye(units, dtype="float32")])
    h0 = [tf.ones((batch, units))]

    def draw():
        return tf.equal(rnn(x, initial_state=h0, training=True), 0)

    if not setup.eager:
        draw = tf.function(draw, autograph=False)
    zeros = [draw().numpy() for _ in range(draws)]
    fresh = any(bool(np.any(z != z[:, :1, :])) for z in zeros)
    return ("fresh-each-step", None) if fresh else ("same-every-step", doubt)


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
