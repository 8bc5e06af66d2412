"""Static shape inference for the layers droplint cares about.

`output_shape(kind, args, input_shapes, inner=None)` -> Shape | None. Pure: a Keras class name,
its arguments as plain values (UNKNOWN where unresolved), the input shapes (a Shape, or None
when even the rank is unknown) and, for wrappers, the wrapped Layer. A size that cannot be
known is None; an unknown rank is None for the whole shape. The batch axis is whatever the
input says (None unless a batch size was given).
"""
from __future__ import annotations

from math import prod
from typing import Any

from .graph import SHAPE_PRESERVING_KINDS, Shape, known

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
}


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
    Embedding `input_length=`), batch axis included; None when it declares none."""
    batch = _dims(args.get("batch_input_shape", args.get("batch_shape")))
    if batch is not None:
        return batch
    shape = _dims(args.get("input_shape"))
    if shape is not None:
        return (None,) + shape
    dim = _int(args.get("input_dim"))
    if dim is not None and kind != "Embedding":
        return (None, dim)
    length = args.get("input_length")
    if kind == "Embedding" and "input_length" in args and (length is None or _int(length)):
        return (None, length)
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


def _concatenate(args: dict, shapes: list) -> Shape | None:
    if not shapes or any(s is None for s in shapes):
        return None
    rank = len(shapes[0])
    axis = _int(args.get("axis", -1))
    if axis is None or any(len(s) != rank for s in shapes) or not -rank <= axis < rank:
        return None
    axis %= rank
    sizes = [s[axis] for s in shapes]
    total = None if None in sizes else sum(sizes)
    out = list(shapes[0])
    for i in range(rank):
        if i != axis and any(s[i] != out[i] for s in shapes):
            out[i] = None
    out[axis] = total
    return tuple(out)


def output_shape(kind: str, args: dict, input_shapes: list, inner=None) -> Shape | None:
    """The static output shape of one application of a layer (see module docstring)."""
    shape = input_shapes[0] if input_shapes else None
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
    if kind == "Reshape":
        return _reshape(args, shape)
    if kind == "RepeatVector":
        if shape is None or len(shape) != 2:
            return None
        return (shape[0], _int(args.get("n")), shape[1])
    if shape is None:
        return None
    if kind in PRESERVING:
        return tuple(shape)
    if kind in MERGE_SAME:
        return tuple(shape) if all(s == shape for s in input_shapes) else None
    if kind == "Embedding":
        return tuple(shape) + (_int(args.get("output_dim")),)
    if kind == "Dense":
        return tuple(shape[:-1]) + (_int(args.get("units")),)
    if kind == "Flatten":
        rest = shape[1:]
        return (shape[0], None if None in rest else prod(rest))
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
    return None
