"""Static shape inference for the layers droplint cares about.

Shapes are partial knowledge, at three levels: the rank unknown (the shape is None); the rank
known with some sizes unknown (a tuple with None at those axes); everything known. The batch
axis is whatever the input says (None unless a batch size was given).

`output_shape(kind, args, input_shapes, inner=None)` -> Shape | None. Pure: a Keras class name,
its arguments as plain values (UNKNOWN where unresolved), the input shapes and, for wrappers,
the wrapped Layer. A layer that only accepts one input rank (LSTM: 3, Conv2D: 4, ...) knows its
output's rank even when its input is unknown: `Conv1D(48, 5)` on anything gives
(None, None, 48).

`infer_from_consumers(graph)` runs the other way: in a model that builds, an LSTM's input has
rank 3, so the Dropout feeding it (and whatever shape-preserving layers feed that) is on a
(batch, timesteps, features) tensor even when both sizes are unknown. The shapes it fills in
are `Inferred` tuples whose `note` names the consumer; semantics puts it in the site's
description.
"""
from __future__ import annotations

from math import prod
from typing import Any

from .graph import RNN_KINDS, SHAPE_PRESERVING_KINDS, Shape, known

RECURRENT_OUTPUT_KINDS = frozenset({"LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU", "RNN"})
POOLING = {"MaxPooling1D": 1, "AveragePooling1D": 1, "MaxPooling2D": 2, "AveragePooling2D": 2,
           "MaxPooling3D": 3, "AveragePooling3D": 3}
GLOBAL_POOLING = {"GlobalMaxPooling1D": 1, "GlobalAveragePooling1D": 1,
                  "GlobalMaxPooling2D": 2, "GlobalAveragePooling2D": 2,
                  "GlobalMaxPooling3D": 3, "GlobalAveragePooling3D": 3}
CONV = {"Conv1D": 1, "Conv2D": 2, "Conv3D": 3, "SeparableConv1D": 1, "SeparableConv2D": 2,
        "DepthwiseConv1D": 1, "DepthwiseConv2D": 2}
MERGE_SAME = frozenset({"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"})
PRESERVING = SHAPE_PRESERVING_KINDS | {
    "ActivityRegularization", "ThresholdedReLU", "UnitNormalization", "GroupNormalization",
    "Identity", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "Normalization", "RMSNormalization", "SpectralNormalization", "Rescaling",
}
CONV_LSTM = {"ConvLSTM1D": 1, "ConvLSTM2D": 2, "ConvLSTM3D": 3}
SPATIAL_AXES = {**CONV, **POOLING, **GLOBAL_POOLING,
                "Conv1DTranspose": 1, "Conv2DTranspose": 2, "Conv3DTranspose": 3,
                "SpatialDropout1D": 1, "SpatialDropout2D": 2, "SpatialDropout3D": 3,
                "UpSampling1D": 1, "UpSampling2D": 2, "UpSampling3D": 3,
                "ZeroPadding1D": 1, "ZeroPadding2D": 2, "ZeroPadding3D": 3,
                "Cropping1D": 1, "Cropping2D": 2, "Cropping3D": 3}
# Attention layers: the output has the query's shape, its last size from the value / argument.
ATTENTION = frozenset({"Attention", "AdditiveAttention", "MultiHeadAttention",
                       "GroupedQueryAttention"})
KERAS1_MERGE = {"concat": "Concatenate", "sum": "Add", "mul": "Multiply", "ave": "Average",
                "max": "Maximum"}  # Keras 1 `merge(mode=...)`; "dot" / "cos" stay unknown


def required_input_rank(kind: str, args: dict, inner=None) -> int | None:
    """The one input rank a layer accepts (None: any, or not known). Measured on Keras 3.15
    and tf_keras 2.21: recurrent layers take exactly 3, ConvLSTMND N+3, convolutions, pooling
    and SpatialDropoutND N+2, RepeatVector 2. (tf_keras convolutions also take extra leading
    batch axes; droplint reads them as the N+2 form every model here uses.)"""
    if kind in RNN_KINDS:
        return CONV_LSTM[kind] + 3 if kind in CONV_LSTM else 3
    if kind in SPATIAL_AXES:
        return SPATIAL_AXES[kind] + 2
    if kind in ("RepeatVector", "MaxoutDense"):  # MaxoutDense: Keras 1, InputSpec(ndim=2)
        return 2
    if kind == "Bidirectional" and inner is not None:
        return required_input_rank(inner.kind, inner.args, inner.inner)
    if kind == "TimeDistributed" and inner is not None:
        rank = required_input_rank(inner.kind, inner.args, inner.inner)
        return None if rank is None else rank + 1
    if kind == "Permute":
        dims = _dims(args.get("dims"))
        return None if dims is None else len(dims) + 1
    return None


def noise_shape_rank(kind: str, args: dict) -> int | None:
    """The input rank a Dropout's fully known `noise_shape` states (None: no such noise_shape).
    In training (`fit`) Keras needs a noise_shape of the input's rank (DL202 reports a known
    mismatch), so `Dropout(r, noise_shape=(1, 5, 1))` is on a rank-3 input."""
    if kind != "Dropout":
        return None
    value = args.get("noise_shape")
    if not known(value) or not isinstance(value, (tuple, list)) or not value:
        return None
    if any(not (d is None or _int(d) is not None) for d in value):
        return None
    return len(value)


def input_rank_for_output(kind: str, args: dict, out_rank: int, inner=None) -> int | None:
    """The input rank that gives an output of `out_rank` (None: not determined by it)."""
    if kind in PRESERVING or kind in MERGE_SAME or kind in ("Dense", "Concatenate", "Merge",
                                                          "EinsumDense") or kind in ATTENTION:
        return out_rank if kind != "EinsumDense" else None
    if kind == "Embedding":
        return out_rank - 1 if out_rank >= 2 else None
    if kind == "TimeDistributed" and inner is not None and out_rank >= 3:
        step = input_rank_for_output(inner.kind, inner.args, out_rank - 1, inner.inner)
        return None if step is None else step + 1
    return None


def _int(value: Any) -> int | None:
    """A known int (not bool), else None."""
    if known(value) and isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _dims(value: Any) -> tuple | None:
    """A literal shape (tuple/list of ints or None) as a tuple; None when not literal."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if not known(value) or not isinstance(value, (tuple, list)):
        return None
    return tuple(d if _int(d) is not None else None for d in value)


def input_shape_from_args(kind: str, args: dict) -> Shape | None:
    """The input shape a layer declares (`input_shape=`, `batch_input_shape=`, `input_dim=`,
    Embedding `input_length=`), batch axis included; None when it declares none. A declared
    `input_dim=n` fixes the rank even when n is unknown: `Dense(h, input_dim=n)` is on (None, n);
    a recurrent layer or Conv1D's Keras 1/2 `input_dim` / `input_length` is (None, length, dim)."""
    batch = _dims(args.get("batch_input_shape", args.get("batch_shape")))
    if batch is not None:
        return batch
    shape = _dims(args.get("input_shape"))
    if shape is not None:
        return (None,) + shape
    length = args.get("input_length")
    if kind == "Embedding":
        if "input_length" in args:  # an int or None (Keras 1/2): (None, length) either way
            return (None, _int(length) if known(length) else None)
        return None
    if "input_dim" in args:
        dim = _int(args.get("input_dim"))
        rank = required_input_rank(kind, args)
        if rank is None:
            return (None, dim)  # Dense and the other layers that take `input_dim`
        if rank == 3:
            return (None, _int(length), dim)
    return None


def input_layer_shape(args: dict) -> Shape | None:
    """The output shape of `Input(...)` / `InputLayer(...)`."""
    batch = _dims(args.get("batch_shape", args.get("batch_input_shape")))
    if batch is not None:
        return batch
    shape = args.get("shape", args.get("input_shape"))
    dims = _dims(shape)
    if dims is None:
        return None
    size = args.get("batch_size")
    return (_int(size),) + dims


def _window(length, size, stride, padding, dilation=1):
    """Output length of a convolution/pooling window along one axis."""
    if length is None or padding not in ("valid", "same", "causal"):
        return None
    if size is None or stride is None or dilation is None:
        return None
    if padding in ("same", "causal"):
        return -(-length // stride)
    span = dilation * (size - 1) + 1
    return max(0, (length - span) // stride + 1)


def _per_axis(value, n: int):
    if _int(value) is not None:
        return (value,) * n
    dims = _dims(value)
    if dims is not None and len(dims) == n:
        return dims
    return (None,) * n


def _channels_last(args: dict) -> bool:
    fmt = args.get("data_format")
    return fmt is None or fmt == "channels_last"


def _recurrent(kind: str, args: dict, shape: Shape | None, inner) -> Shape | None:
    if kind == "RNN":
        units = _int(inner.args.get("units")) if inner is not None else None
    else:
        units = _int(args.get("units"))
    seq = args.get("return_sequences", False)
    if seq not in (True, False):
        return None
    batch = shape[0] if shape else None
    steps = shape[1] if shape and len(shape) == 3 else None
    if shape is not None and len(shape) != 3:
        return None
    return (batch, steps, units) if seq else (batch, units)


def _bidirectional(args: dict, shape: Shape | None, inner) -> Shape | None:
    if inner is None:
        return None
    out = output_shape(inner.kind, inner.args, [shape], inner.inner)
    if out is None:
        return None
    mode = args.get("merge_mode", "concat")
    if mode in ("sum", "mul", "ave"):
        return out
    if mode == "concat":
        last = out[-1]
        return out[:-1] + (None if last is None else 2 * last,)
    return None


def _time_distributed(shape: Shape | None, inner) -> Shape | None:
    if inner is None or shape is None or len(shape) < 3:
        return None
    step = (shape[0],) + tuple(shape[2:])
    out = output_shape(inner.kind, inner.args, [step], inner.inner)
    if out is None:
        return None
    return (shape[0], shape[1]) + tuple(out[1:])


def _conv(n: int, kind: str, args: dict, shape: Shape) -> Shape | None:
    if len(shape) != n + 2 or not _channels_last(args):
        return None
    sizes = _per_axis(args.get("kernel_size"), n)
    strides = _per_axis(args.get("strides", 1), n)
    dilation = _per_axis(args.get("dilation_rate", 1), n)
    padding = args.get("padding", "valid")
    spatial = tuple(_window(shape[1 + i], sizes[i], strides[i], padding, dilation[i])
                    for i in range(n))
    if kind.startswith("Depthwise"):
        mult = _int(args.get("depth_multiplier", 1))
        channels = None if mult is None or shape[-1] is None else shape[-1] * mult
    else:
        channels = _int(args.get("filters"))
    return (shape[0],) + spatial + (channels,)


def _conv_lstm(n: int, args: dict, shape: Shape) -> Shape | None:
    """ConvLSTMND on (B, T, *spatial, C): each step is convolved like ConvND."""
    if len(shape) != n + 3 or not _channels_last(args):
        return None
    step = _conv(n, "Conv", args, (shape[0],) + tuple(shape[2:]))
    seq = args.get("return_sequences", False)
    if step is None or seq not in (True, False):
        return None
    return (step[0], shape[1]) + tuple(step[1:]) if seq else step


def _pool(n: int, args: dict, shape: Shape) -> Shape | None:
    if len(shape) != n + 2 or not _channels_last(args):
        return None
    sizes = _per_axis(args.get("pool_size", 2), n)
    strides_arg = args.get("strides")
    strides = sizes if strides_arg is None else _per_axis(strides_arg, n)
    padding = args.get("padding", "valid")
    spatial = tuple(_window(shape[1 + i], sizes[i], strides[i], padding) for i in range(n))
    return (shape[0],) + spatial + (shape[-1],)


def _global_pool(n: int, args: dict, shape: Shape) -> Shape | None:
    if len(shape) != n + 2:
        return None
    channels = shape[-1] if _channels_last(args) else shape[1]
    keep = args.get("keepdims", False)
    if keep is True:
        return (shape[0],) + (1,) * n + (channels,) if _channels_last(args) else None
    return (shape[0], channels) if keep is False else None


def _reshape(args: dict, shape: Shape | None) -> Shape | None:
    target = _dims(args.get("target_shape"))
    if target is None:
        return None
    batch = shape[0] if shape else None
    if -1 in target:
        rest = prod(d for d in target if d != -1) if None not in target else None
        total = None
        if shape is not None and all(d is not None for d in shape[1:]):
            total = prod(shape[1:])
        fill = total // rest if total is not None and rest else None
        target = tuple(fill if d == -1 else d for d in target)
    return (batch,) + target


def _agree(sizes) -> int | None:
    """The size of an axis several inputs share: the one known size they all state."""
    known_sizes = {d for d in sizes if d is not None}
    return known_sizes.pop() if len(known_sizes) == 1 else None


def _concatenate(args: dict, shapes: list, axis_arg: str = "axis") -> Shape | None:
    """Concatenation: the known inputs fix the rank (all inputs have the same rank); the joined
    axis is the sum of the sizes when every input is known, the other axes shared."""
    present = [s for s in shapes if s is not None]
    if not present:
        return None
    rank = len(present[0])
    axis = _int(args.get(axis_arg, -1))
    if axis is None or any(len(s) != rank for s in present) or not -rank <= axis < rank:
        return None
    axis %= rank
    sizes = [s[axis] for s in shapes] if len(present) == len(shapes) else [None]
    total = None if None in sizes else sum(sizes)
    out = [_agree([s[i] for s in present]) for i in range(rank)]
    out[axis] = total
    return tuple(out)


def _merge_same(shapes: list) -> Shape | None:
    """Add, Multiply, ...: every input has the output's rank; each size is the one stated."""
    present = [s for s in shapes if s is not None]
    if not present or any(len(s) != len(present[0]) for s in present):
        return None
    return tuple(_agree([s[i] for s in present]) for i in range(len(present[0])))


def _keras1_merge(args: dict, shapes: list) -> Shape | None:
    kind = KERAS1_MERGE.get(args.get("mode", "sum")) if known(args.get("mode", "sum")) else None
    if kind == "Concatenate":
        return _concatenate(args, shapes, "concat_axis")
    return _merge_same(shapes) if kind is not None else None


def _attention(kind: str, args: dict, shapes: list) -> Shape | None:
    """Attention / AdditiveAttention([query, value]) -> the query's shape with the value's
    last size; MultiHeadAttention(query, value) -> the query's shape (last = output_shape)."""
    query = shapes[0] if shapes else None
    if query is None:
        return None
    if kind in ("MultiHeadAttention", "GroupedQueryAttention"):
        last = args.get("output_shape")
        if last is None:
            return tuple(query)
        dims = _dims(last)
        return tuple(query[:-1]) + (dims if dims is not None and len(dims) == 1 else (None,))
    value = shapes[1] if len(shapes) > 1 else None
    return tuple(query[:-1]) + ((value[-1] if value is not None else None),)


def output_shape(kind: str, args: dict, input_shapes: list, inner=None) -> Shape | None:
    """The static output shape of one application of a layer (see module docstring)."""
    shape = input_shapes[0] if input_shapes else None
    if shape is None:
        rank = required_input_rank(kind, args, inner)
        if rank is not None:
            shape = (None,) * rank
    if kind == "InputLayer":
        return input_layer_shape(args)
    if kind in RECURRENT_OUTPUT_KINDS:
        return _recurrent(kind, args, shape, inner)
    if kind == "Bidirectional":
        return _bidirectional(args, shape, inner)
    if kind == "TimeDistributed":
        return _time_distributed(shape, inner)
    if kind == "Concatenate":
        return _concatenate(args, list(input_shapes))
    if kind == "Merge":
        return _keras1_merge(args, list(input_shapes))
    if kind in MERGE_SAME:
        return _merge_same(list(input_shapes))
    if kind in ATTENTION:
        return _attention(kind, args, list(input_shapes))
    if kind == "Reshape":
        return _reshape(args, shape)
    if kind == "Flatten":
        rest = shape[1:] if shape is not None else (None,)
        return (shape[0] if shape else None, None if None in rest else prod(rest))
    if kind == "RepeatVector":
        if shape is None or len(shape) != 2:
            return None
        return (shape[0], _int(args.get("n")), shape[1])
    if shape is None:
        return None
    if kind in PRESERVING:
        return tuple(shape)
    if kind == "Embedding":
        return tuple(shape) + (_int(args.get("output_dim")),)
    if kind == "Dense":
        return tuple(shape[:-1]) + (_int(args.get("units")),)
    if kind == "MaxoutDense":  # Keras 1: (batch, output_dim) from a 2-D input
        return (shape[0], _int(args.get("output_dim")))
    if kind == "Permute":
        dims = _dims(args.get("dims"))
        if dims is None or sorted(dims) != list(range(1, len(shape))):
            return None
        return (shape[0],) + tuple(shape[d] for d in dims)
    if kind in CONV:
        return _conv(CONV[kind], kind, args, shape)
    if kind in POOLING:
        return _pool(POOLING[kind], args, shape)
    if kind in GLOBAL_POOLING:
        return _global_pool(GLOBAL_POOLING[kind], args, shape)
    if kind in CONV_LSTM:
        return _conv_lstm(CONV_LSTM[kind], args, shape)
    return None


# ---------------------------------------------------------------------------------------------
# Ranks from consumers.

class Inferred(tuple):
    """A shape deduced from the layers a tensor feeds (a tuple; `note` says from what)."""

    note: str = ""

    def __new__(cls, dims, note: str):
        obj = super().__new__(cls, dims)
        obj.note = note
        return obj

    def __reduce__(self):
        return (Inferred, (tuple(self), self.note))


def _combine(old: Shape | None, new: Shape | None) -> Shape | None:
    """Two descriptions of the same shape: each size from whichever knows it."""
    if old is None or new is None or len(old) != len(new):
        return old if old is not None else new
    dims = tuple(o if o is not None else n for o, n in zip(old, new))
    if isinstance(old, Inferred):
        return Inferred(dims, old.note)
    return dims


def _consumer_note(node, rank: int) -> str:
    layer = node.layer
    name = layer.kind if layer.inner is None else f"{layer.kind}({layer.inner.kind})"
    return f"rank {rank} from the {name} it feeds (which takes only rank-{rank} inputs)"


def _noise_note(rank: int) -> str:
    return (f"rank {rank} from its noise_shape (in training Keras takes only a noise_shape "
            f"of the input's rank)")


def _single_input(node) -> bool:
    """The node's one producer gives its first input (not a merge of several tensors)."""
    return len(node.inputs) == 1 and node.kind not in MERGE_SAME | ATTENTION | {
        "Concatenate", "Merge"}


def infer_from_consumers(graph) -> None:
    """Fill unknown ranks backwards from the layers that consume them, then recompute the
    shapes downstream (module docstring). Built models already know every shape: untouched.
    Idempotent; only unknown shapes and sizes are filled, never a known one changed."""
    if graph.built or not graph.nodes:
        return
    wanted: dict[int, tuple[int, str] | None] = {}  # producer -> (rank, note); None: conflict

    def want(producer, rank: int, note: str) -> None:
        key = id(producer)
        if key in wanted and (wanted[key] is None or wanted[key][0] != rank):
            wanted[key] = None
        elif key not in wanted:
            wanted[key] = (rank, note)

    filled = False
    for node in reversed(graph.nodes):
        layer = node.layer
        if node.output_shape is None and wanted.get(id(node)):
            rank, note = wanted[id(node)]
            node.output_shape = Inferred(_output_of_rank(node, rank), note)
            filled = True
        required = required_input_rank(layer.kind, layer.args, layer.inner)
        own = None  # a note for the layer's own input, from its own arguments
        noise_rank = noise_shape_rank(layer.kind, layer.args) if required is None else None
        if required is not None:  # the layer's own input: no consumer to name
            rank, note = required, _consumer_note(node, required)
        elif noise_rank is not None:
            rank, own = noise_rank, _noise_note(noise_rank)
            note = f"rank {rank} from the Dropout it feeds (its noise_shape has rank {rank})"
        elif node.output_shape is not None:
            rank = input_rank_for_output(layer.kind, layer.args, len(node.output_shape),
                                         layer.inner)
            note = getattr(node.output_shape, "note", "") or \
                f"rank {rank} from the {layer.kind} it feeds"
        else:
            continue
        if rank is None:
            continue
        if node.input_shape is None:
            inherited = own or (getattr(node.output_shape, "note", "") if required is None
                                else "")
            node.input_shape = Inferred((None,) * rank, inherited) if inherited \
                else (None,) * rank
            filled = True
        if _single_input(node) or layer.kind in MERGE_SAME | {"Concatenate"}:
            for producer in node.inputs:
                want(producer, rank, note)
        if not node.inputs:  # each arm of an undecided condition gives this input
            for producer in node.alternatives:
                want(producer, rank, note)
    if filled:
        forward(graph)


def fill_from_alternatives(graph) -> bool:
    """A node whose input is one of several tensors (Node.alternatives: the arms of a condition
    droplint cannot decide) has their common rank, and the sizes they all agree on; its output
    follows. Run after infer_from_consumers (an arm's rank may come from its consumers), then
    `forward`. True when a shape was filled."""
    filled = False
    for node in graph.nodes:
        if node.input_shape is not None or not node.alternatives:
            continue
        arms = [arm.output_shape for arm in node.alternatives]
        if any(s is None for s in arms) or len({len(s) for s in arms}) != 1:
            continue
        rank = len(arms[0])
        dims = tuple(_agree(list(sizes)) if len(set(sizes)) == 1 else None
                     for sizes in zip(*arms))
        node.input_shape = Inferred(dims, f"rank {rank} from the {len(arms)} branches it may "
                                          f"come from (each gives a rank-{rank} tensor)")
        layer = node.layer
        out = output_shape(layer.kind, layer.args, [node.input_shape], layer.inner)
        node.output_shape = _combine(node.output_shape, out)
        filled = True
    return filled


def _output_of_rank(node, rank: int) -> Shape:
    """The output of `node` when it is known to have `rank`: what the layer itself says about
    its sizes on an input of the matching rank."""
    layer = node.layer
    in_rank = input_rank_for_output(layer.kind, layer.args, rank, layer.inner)
    if in_rank is not None:
        given = node.input_shape if node.input_shape is not None and \
            len(node.input_shape) == in_rank else (None,) * in_rank
        out = output_shape(layer.kind, layer.args, [given], layer.inner)
        if out is not None and len(out) == rank:
            return out
    return (None,) * rank


def forward(graph) -> None:
    """Recompute, in order, the shapes of single-input nodes from their producer's output."""
    for node in graph.nodes:
        if not _single_input(node) or node.kind in ("InputLayer", "Sequential", "Functional"):
            continue
        producer = node.inputs[0].output_shape
        if producer is None:
            continue
        node.input_shape = _combine(node.input_shape, producer)
        layer = node.layer
        out = output_shape(layer.kind, layer.args, [node.input_shape], layer.inner)
        node.output_shape = _combine(node.output_shape, out)
