"""Graph walks and dropout sites that several rules share: what feeds a node through
shape-preserving layers, who consumes it, each layer with its applications, recurrent layers
with their wrappers, and the sites of a kind.

Not a rule: the leading underscore keeps it out of ALL_RULES.
"""
from __future__ import annotations

from typing import Any, Iterator

from droplint.graph import (CUDNN_KINDS, RNN_KINDS, SHAPE_PRESERVING_KINDS, Graph, Layer, Node,
                            Origin)

from ._values import is_plain_dropout, noise_shape_of


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


def function_call_layer(graph: Graph, call) -> Layer:
    """A FunctionCall (tf.nn.dropout, ...) as a Layer-shaped record, so ctx.report can
    locate it."""
    return Layer(call.func, {}, Origin(graph.path, span=call.span))


def layer_sites(ctx):
    """The sites that are dropout layers (not the dropout= arguments of recurrent layers)."""
    return (site for site in ctx.sites if site.argument is None)


def known_mask(site) -> bool:
    """A site whose mask is known (worth describing in a message)."""
    return site is not None and site.mask.drops != "unknown"


def rnn_site(ctx, layer: Layer, wrapper: Layer | None, argument: str):
    """The first site of `argument` of a recurrent layer (applied directly or via its wrapper)."""
    target = wrapper or layer
    for site in ctx.sites:
        if site.node.layer is target and site.argument == argument:
            return site
    return None


def input_rank(node: Node | None) -> int | None:
    """The input's rank, or None when unknown."""
    if node is None or node.input_shape is None:
        return None
    return len(node.input_shape)


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
