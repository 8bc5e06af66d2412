"""Logic that several rules share (not a rule: the leading underscore keeps it out of ALL_RULES).

Plain functions over the Graph: what feeds a node through shape-preserving layers, how to
name a layer and where it is, the alternatives to offer for a sequence dropout, and the
SpatialDropout1D fix.
"""
from __future__ import annotations

import functools
from typing import Any, Iterator

from droplint import fixes
from droplint.graph import (CUDNN_KINDS, DROPOUT_KINDS, RNN_KINDS, SHAPE_PRESERVING_KINDS,
                            UNKNOWN, Graph, Layer, Node, Origin, known)
from droplint.keras_version import KerasVersion
from droplint.report import Fix
from droplint.semantics import explain, fmt_rate, fmt_shape

# Arguments Keras 3's SpatialDropout1D accepts; tf.keras 2 takes any base-Layer keyword.
SPATIAL1D_ARGS_KERAS3 = frozenset({"rate", "seed", "name", "dtype"})


# --- values ---------------------------------------------------------------------------------

def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def number(layer: Layer, argument: str, default: Any = None) -> float | None:
    """A numeric argument, or None when absent-without-default, unresolved or not a number."""
    value = layer.args.get(argument, default)
    return value if is_number(value) else None


def active_rate(layer: Layer, argument: str) -> float | None:
    """A rate argument that drops something: a known number in (0, 1); None when absent,
    unresolved, 0 or out of range."""
    rate = number(layer, argument, 0.0)
    return rate if rate is not None and 0 < rate < 1 else None


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


# --- naming and locating --------------------------------------------------------------------

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


def function_call_layer(graph: Graph, call) -> Layer:
    """A FunctionCall (tf.nn.dropout, ...) as a Layer-shaped record, so ctx.report can
    locate it."""
    return Layer(call.func, {}, Origin(graph.path, span=call.span))


# --- graph walks ----------------------------------------------------------------------------

def producer(node: Node) -> Node | None:
    """What feeds `node`: its first input, looking through shape-preserving layers."""
    current = node.inputs[0] if node.inputs else None
    while current is not None and current.kind in SHAPE_PRESERVING_KINDS and current.inputs:
        current = current.inputs[0]
    return current


def recurrent_consumers(graph: Graph, node: Node) -> list[Node]:
    """Recurrent layers fed by `node` directly or through shape-preserving layers."""
    return [n for n in graph.downstream(node) if n.layer.is_recurrent]


def applications(graph: Graph) -> Iterator[tuple[Layer, list[Node]]]:
    """Every layer built, with the nodes that apply it (empty: built but never applied, or
    wrapped by Bidirectional / TimeDistributed)."""
    by_layer: dict[int, list[Node]] = {}
    for n in graph.nodes:
        by_layer.setdefault(id(n.layer), []).append(n)
    for layer in graph.layers:
        yield layer, by_layer.get(id(layer), [])


def wrappers(graph: Graph) -> dict[int, Layer]:
    """id(wrapped layer) -> its wrapper."""
    return {id(layer.inner): layer for layer in graph.layers if layer.inner is not None}


def recurrent_layers(graph: Graph, kinds=RNN_KINDS) -> Iterator[tuple[Layer, Layer | None]]:
    """Each recurrent layer of `kinds` once, wrapped or not, with its wrapper (or None)."""
    outer = wrappers(graph)
    seen: set[int] = set()
    for layer in graph.layers:
        current: Layer | None = layer
        while current is not None:
            if current.kind in kinds and id(current) not in seen:
                seen.add(id(current))
                yield current, outer.get(id(current))
            current = current.inner


def cudnn_layers(graph: Graph) -> Iterator[tuple[Layer, Layer | None]]:
    return recurrent_layers(graph, CUDNN_KINDS)


def known_mask(site) -> bool:
    """A site whose mask is known (worth describing in a message)."""
    return site is not None and site.mask.drops != "unknown"


def dropout_rate(layer: Layer) -> float | None:
    if layer.kind not in DROPOUT_KINDS or layer.kind == "GaussianNoise":
        return None
    return number(layer, "rate")


def is_plain_dropout(layer: Layer) -> bool:
    """`Dropout(r)` with no noise_shape (or noise_shape=None), r a known number in (0, 1)."""
    return (layer.kind == "Dropout" and layer.args.get("noise_shape") is None
            and active_rate(layer, "rate") is not None)


# --- the sequence-dropout family (DL101, DL102, DL103) --------------------------------------

def sequence_input(node: Node) -> tuple | None:
    """The (B, T, F) input of a plain Dropout node; None unless 3-D with F != 1."""
    shape = node.input_shape
    if not is_plain_dropout(node.layer) or shape is None or len(shape) != 3 or shape[2] == 1:
        return None
    return tuple(shape)


def sequence_sites(ctx) -> Iterator[tuple[Any, tuple, Any]]:
    """(site, (B, T, F) shape, rate) for each plain Dropout layer on a 3-D sequence."""
    for site in layer_sites(ctx):
        shape = sequence_input(site.node)
        if shape is not None:
            yield site, shape, site.node.layer.args["rate"]


def after_recurrent(node: Node) -> Node | None:
    """The recurrent layer whose return_sequences output this node takes (DL102)."""
    src = producer(node)
    if src is not None and src.layer.is_recurrent and node.input_shape is not None \
            and len(node.input_shape) == 3:
        return src
    return None


def after_embedding(node: Node) -> Node | None:
    """The Embedding whose output this node takes (DL103)."""
    src = producer(node)
    return src if src is not None and src.kind == "Embedding" else None


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


def spatial_fix(graph: Graph, layer: Layer, keras: KerasVersion) -> Fix | None:
    """Unsafe fix: `Dropout(r)` -> `SpatialDropout1D(r)` (noise_shape=None removed)."""
    args = set(layer.args) - {"noise_shape"}
    if keras.is_keras3 and not args <= SPATIAL1D_ARGS_KERAS3:
        return None  # e.g. input_shape=: Keras 3's SpatialDropout1D would raise TypeError
    edits = fixes.rename_layer(graph, layer, "SpatialDropout1D")
    if edits and "noise_shape" in layer.args:
        removal = fixes.remove_argument(layer, "noise_shape")
        if removal is None:
            return None
        edits = edits + removal
    rate = fmt_rate(layer.args.get("rate", UNKNOWN))
    return fixes.fix("unsafe", f"use SpatialDropout1D({rate}): drop whole features", edits)


def rnn_seed(layer: Layer) -> int | None:
    seed = layer.core.args.get("seed")
    return seed if is_int(seed) else None


# --- noise_shape (DL201, DL202, DL203) ------------------------------------------------------

NOISE_SHAPE_KINDS = frozenset({"Dropout", "AlphaDropout"})


def noise_shape_of(layer: Layer) -> tuple | None:
    """The noise_shape of a Dropout/AlphaDropout when every entry is known (int or None)."""
    if layer.kind not in NOISE_SHAPE_KINDS:
        return None
    ns = layer.args.get("noise_shape")
    if not isinstance(ns, (tuple, list)) or not all(d is None or is_int(d) for d in ns):
        return None
    return tuple(ns)


def noise_shape_uses(ctx) -> Iterator[tuple[Layer, tuple, Node | None, Any]]:
    """(layer, noise_shape, node, site) for every application of a layer with a known
    noise_shape; node and site None for a layer never applied (or wrapped: its input is one
    step)."""
    for layer, nodes in applications(ctx.graph):
        ns = noise_shape_of(layer)
        if ns is None:
            continue
        for node in nodes or [None]:
            yield layer, ns, node, ctx.site_of(node) if node is not None else None


def noise_shape_call(layer: Layer, noise_shape: tuple) -> str:
    """`Dropout(0.3, noise_shape=(1, 30, 1))`."""
    return (f"{layer.kind}({fmt_rate(layer.args.get('rate'))}, "
            f"noise_shape={fmt_shape(noise_shape)})")


def input_rank(node: Node | None) -> int | None:
    """The input's rank, or None when unknown."""
    if node is None or node.input_shape is None:
        return None
    return len(node.input_shape)


def right_aligned(noise_shape: tuple, rank: int) -> tuple:
    """The noise_shape padded with 1s to `rank` on the left, as Keras broadcasts it:
    `(8,)` on rank 3 -> `(1, 1, 8)`."""
    return (1,) * (rank - len(noise_shape)) + tuple(noise_shape)


def with_batch_none(noise_shape: tuple, rank: int) -> tuple:
    """The noise_shape padded to `rank` (right-aligned) with None in the batch axis:
    `(1, 30, 1)` -> `(None, 30, 1)`, `(8,)` on rank 3 -> `(None, 1, 8)`."""
    return (None,) + right_aligned(noise_shape, rank)[1:]


def noise_shape_fix(layer: Layer, new: tuple, applicability: str) -> Fix | None:
    text = fmt_shape(new)
    return fixes.fix(applicability, f"use noise_shape={text}",
                     fixes.replace_argument_value(layer, "noise_shape", text))


def once_per_message(check):
    """Decorator for a rule's check(): drop repeated findings, so that a layer applied twice
    to the same shape is one finding."""
    @functools.wraps(check)
    def deduplicated(rule, ctx):
        seen = set()
        for f in check(rule, ctx):
            key = (f.line, f.column, f.layer_name, f.message)
            if key not in seen:
                seen.add(key)
                yield f
    return deduplicated


def layer_sites(ctx):
    """The sites that are dropout layers (not the dropout= arguments of recurrent layers)."""
    return (site for site in ctx.sites if site.argument is None)


# --- recurrent layers -----------------------------------------------------------------------

def rnn_site(ctx, layer: Layer, wrapper: Layer | None, argument: str):
    """The first site of `argument` of a recurrent layer (applied directly or via its wrapper)."""
    target = wrapper or layer
    for site in ctx.sites:
        if site.node.layer is target and site.argument == argument:
            return site
    return None


def rnn_nodes(graph: Graph, layer: Layer, wrapper: Layer | None) -> list[Node]:
    target = wrapper or layer
    return [n for n in graph.nodes if n.layer is target]


def inside(wrapper: Layer | None) -> str:
    return f" inside {wrapper.kind}" if wrapper is not None else ""
