"""Built Keras models -> the same Graph the source loader produces (`build_graph`).

A live model (Keras 3 or tf.keras 2) is walked through the call history Keras records for
functional and Sequential models (`_nodes_by_depth`, each node's input and output tensors):
one graph Node per layer application, real shapes, and layer arguments from
`layer.get_config()` as the plain values the source loader would write (for the kinds rules
read arguments of; see ARG_KINDS). Inner models are
expanded so rules see through them. Where Keras records nothing (the inside of a subclassed
`call()`), the layers are listed one by one and `graph.notes` says so; nothing is guessed.

This module only walks live model objects into a Graph: model files (format, inspection,
loading) live in model_file.py, and droplint/pipeline.py runs the rules and the probe.
"""
from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field
from functools import lru_cache

from ..graph import DROPOUT_KINDS, RNN_KINDS, UNKNOWN, WRAPPER_KINDS, Graph, Layer, Node, Origin
from ..keras_version import KerasVersion, parse

MODEL_PATH = "<model>"
# Config keys that say nothing about dropout and are not plain values a source file would hold.
_SKIP_KEYS = frozenset({"name", "trainable", "dtype", "build_config", "compile_config",
                        "layer", "backward_layer", "cell", "cells", "layers",
                        "input_layers", "output_layers"})
_KERAS_ROOTS = ("keras", "tf_keras")
_CONTAINERS = frozenset({"Functional", "Sequential", "Model"})
# Kinds whose arguments rules and semantics read: their args come from get_config(). Other
# layers (Dense, normalization, ...) keep the plain public attributes named like constructor
# parameters: a get_config() round trip costs about 0.3 ms a layer (it serializes every
# initializer), most of the time on a deep model.
ARG_KINDS = DROPOUT_KINDS | RNN_KINDS | WRAPPER_KINDS | {"Masking", "Embedding"}


# --------------------------------------------------------------------------------------------
# Which Keras a live object belongs to


def _builtin_class(obj) -> type | None:
    """The first class in obj's MRO that Keras itself defines (not a user subclass)."""
    for cls in type(obj).__mro__:
        if cls.__module__.split(".")[0] in _KERAS_ROOTS:
            return cls
    return None


def _layer_api(obj, api: str) -> str:
    """A Keras 3 model's layer from keras.src.legacy (tf.keras' own classes, e.g. its
    AlphaDropout) behaves as tf.keras 2's: its api is "tf.keras"."""
    return "tf.keras" if type(obj).__module__.startswith("keras.src.legacy.") else api


def keras_flavor(model) -> tuple[str, KerasVersion]:
    """("keras" | "tf_keras", the version of the Keras package the model object comes from)."""
    cls = _builtin_class(model)
    root = cls.__module__.split(".")[0] if cls else "keras"
    module = sys.modules.get(root)
    version = parse(getattr(module, "__version__", "3"), source="installed")
    return ("keras" if version.is_keras3 else "tf_keras"), version


def is_keras_model(obj) -> bool:
    cls = _builtin_class(obj)
    return cls is not None and any(c.__name__ == "Model" and c.__module__.split(".")[0]
                                   in _KERAS_ROOTS for c in type(obj).__mro__)


# --------------------------------------------------------------------------------------------
# Keras 3 / tf.keras 2 node access (the two record the same facts under different names)


def _is_keras3_node(node) -> bool:
    return hasattr(node, "operation")  # tf.keras 2 nodes have `layer` instead


def _node_op(node):
    return node.operation if _is_keras3_node(node) else node.layer


def _node_inputs(node) -> list:
    if _is_keras3_node(node):
        return list(node.input_tensors)
    return list(node.keras_inputs)


def _node_outputs(node) -> list:
    if _is_keras3_node(node):
        return list(node.output_tensors)
    import tensorflow as tf  # tf.keras 2 only: TensorFlow is already loaded

    return tf.nest.flatten(node.outputs)


def _node_kwargs(node) -> dict:
    if _is_keras3_node(node):
        return dict(node.arguments.kwargs) if node.arguments is not None else {}
    return dict(getattr(node, "call_kwargs", None) or {})


def _shape(tensor) -> tuple | None:
    """A tensor's shape as a tuple, the batch axis None (RULES.md section 3)."""
    shape = getattr(tensor, "shape", None)
    if shape is None:
        return None
    if hasattr(shape, "as_list"):
        if shape.rank is None:
            return None
        shape = shape.as_list()
    dims = tuple(None if d is None else int(d) for d in shape)
    return (None,) + dims[1:] if dims else dims


def _graph_network(model):
    """The functional network of a model (itself, or a Sequential's), or None if it has none."""
    if getattr(model, "_functional", None) is not None:  # Keras 3 Sequential
        model = model._functional
    if getattr(model, "_is_graph_network", True) is False:  # tf.keras 2 subclassed model
        return None
    if not getattr(model, "_nodes_by_depth", None) or not getattr(model, "inputs", None):
        return None
    return model


def _ordered_nodes(network) -> list:
    """The network's nodes, producers before consumers (Keras' own order: deepest first)."""
    by_depth = network._nodes_by_depth
    return [n for depth in sorted(by_depth, reverse=True) for n in by_depth[depth]]


def _build_shape(layer) -> tuple | None:
    """The input shape a layer was built with, when Keras kept it (batch axis None)."""
    shapes = getattr(layer, "_build_shapes_dict", None)  # Keras 3
    shape = next(iter(shapes.values()), None) if shapes else None
    if shape is None:
        shape = getattr(layer, "_build_input_shape", None)  # tf.keras 2
    if shape is None:
        return None
    try:
        if hasattr(shape, "as_list"):
            shape = shape.as_list()
        dims = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        return None  # several inputs, or a nested structure: not one tensor's shape
    return (None,) + dims[1:] if dims else None


# --------------------------------------------------------------------------------------------
# Layer arguments: get_config() -> the plain values a source file would hold


def _plain(value):
    """A config value as a plain value, or UNKNOWN when it is not one (an object config)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return UNKNOWN if any(v is UNKNOWN for v in items) else tuple(items)
    if isinstance(value, dict) and value.get("class_name") == "function":
        return value.get("config") if isinstance(value.get("config"), str) else UNKNOWN
    return UNKNOWN


def layer_args(layer, config: dict | None = None) -> dict:
    """Plain constructor arguments of a built layer, from its config and a few attributes
    Keras 3 keeps outside the config (`implementation`, `use_cudnn`)."""
    if config is None:
        try:
            config = layer.get_config()
        except Exception:  # noqa: BLE001 - a custom layer without get_config
            config = {}
    args = {}
    for key, value in config.items():
        if key in _SKIP_KEYS:
            continue
        plain = _plain(value)
        if plain is not UNKNOWN or key in ("activation", "recurrent_activation", "noise_shape"):
            args[key] = plain
    cell = getattr(layer, "cell", None)
    if "implementation" not in args and isinstance(getattr(cell, "implementation", None), int):
        args["implementation"] = cell.implementation
    if isinstance(getattr(layer, "use_cudnn", None), (bool, str)):
        args["use_cudnn"] = layer.use_cudnn
    if "noise_shape" not in args and getattr(layer, "noise_shape", None) is not None \
            and _plain(layer.noise_shape) is not UNKNOWN:
        args["noise_shape"] = _plain(layer.noise_shape)  # AlphaDropout keeps it out of config
    return args


@lru_cache(maxsize=None)
def _init_parameters(cls: type) -> frozenset[str]:
    try:
        return frozenset(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
    except (TypeError, ValueError):
        return frozenset()


def _attribute_args(layer) -> dict:
    """Plain public attributes named like constructor parameters (cheap; see ARG_KINDS)."""
    names = _init_parameters(type(layer))
    args = {}
    for key, value in vars(layer).items():
        if key in names and key not in _SKIP_KEYS:
            plain = _plain(value)
            if plain is not UNKNOWN:
                args[key] = plain
    return args


def _cell_args(rnn) -> tuple[dict, str | None]:
    """RNN(cell) / RNN(StackedRNNCells): the cell's dropout arguments on the RNN layer."""
    cell = rnn.cell
    cells = list(getattr(cell, "cells", None) or [cell])
    merged: dict = {}
    for c in cells:
        for key, value in layer_args(c).items():
            if key in merged and merged[key] != value:
                merged[key] = UNKNOWN
            else:
                merged.setdefault(key, value)
    merged["cell"] = type(cell).__name__
    note = None
    if len(cells) > 1 and any(merged.get(k) is UNKNOWN for k in ("dropout", "recurrent_dropout")):
        note = (f"layer '{rnn.name}' stacks cells with different dropout rates; its dropout "
                "sites are reported with an unknown rate")
    return merged, note


# --------------------------------------------------------------------------------------------
# The walk


@dataclass
class Built:
    """A built model's graph, the Keras objects behind its layers (for the probe), and the
    Keras version it runs under."""

    graph: Graph
    keras: KerasVersion
    objects: dict[int, object] = field(default_factory=dict)  # id(graph Layer) -> Keras layer


class _Walker:
    def __init__(self, path: str, api: str):
        self.path = path
        self.api = api
        self.graph = Graph(path=path, api=api, built=True)
        self.layers: dict[int, Layer] = {}  # id(Keras layer) -> graph Layer
        self.objects: dict[int, object] = {}

    # layers -------------------------------------------------------------------------------

    def layer(self, obj, prefix: str = "", wrapped: bool = False) -> Layer:
        """The graph Layer of a Keras layer (one per object). graph.layers holds the layers
        themselves, not those wrapped in Bidirectional/TimeDistributed (reached by .inner),
        as in the source loader."""
        cached = self.layers.get(id(obj))
        if cached is not None:
            return cached
        layer = self._make_layer(obj, prefix)
        self.layers[id(obj)] = layer
        self.objects[id(layer)] = obj
        if not wrapped:
            self.graph.layers.append(layer)
        return layer

    def _make_layer(self, obj, prefix: str) -> Layer:
        name = prefix + obj.name
        cls = _builtin_class(obj)
        kind = cls.__name__ if cls is not None else type(obj).__name__
        if kind in ("Layer", "Model"):
            kind = type(obj).__name__
        elif cls is not type(obj):
            self.graph.notes.append(
                f"layer '{name}' is a {type(obj).__name__}, a subclass of {kind}: it is analyzed "
                f"as a {kind}; its own code is not read")
        args = layer_args(obj) if kind in ARG_KINDS else _attribute_args(obj)
        inner = None
        if kind == "RNN" and getattr(obj, "cell", None) is not None:
            cell_args, note = _cell_args(obj)
            args = {**args, **cell_args}
            if note:
                self.graph.notes.append(note)
        wrapped = None
        if kind == "Bidirectional":
            wrapped = getattr(obj, "forward_layer", None)
        elif kind == "TimeDistributed":
            wrapped = getattr(obj, "layer", None)
        if wrapped is not None:
            inner = self.layer(wrapped, name + "/", wrapped=True)
            if _own_backward_layer(obj):
                args["backward_layer"] = type(obj.backward_layer).__name__
        return Layer(kind=kind, args=args, inner=inner, api=_layer_api(obj, self.api),
                     origin=Origin(path=self.path, layer_name=name))

    # nodes --------------------------------------------------------------------------------

    def add_node(self, obj, prefix: str, inputs: list[Node], input_shape, output_shape,
                 call_args: dict, context: str) -> Node:
        node = Node(layer=self.layer(obj, prefix), inputs=inputs, input_shape=input_shape,
                    output_shape=output_shape, call_args=call_args, context=context)
        self.graph.nodes.append(node)
        return node

    def walk_network(self, network, feeds: list[Node | None], prefix: str,
                     context: str) -> list[Node | None]:
        """Add the nodes of a functional network; `feeds` produce its inputs (None at the top).
        Returns the nodes producing its outputs."""
        produced: dict[int, Node] = {}
        for tensor, feed in zip(network.inputs, feeds):
            if feed is not None:
                produced[id(tensor)] = feed
        for knode in _ordered_nodes(network):
            op = _node_op(knode)
            ins = _node_inputs(knode)
            outs = _node_outputs(knode)
            if ins == [] and all(id(t) in produced for t in outs):
                continue  # an inner model's InputLayer, fed from outside
            sources = [produced.get(id(t)) for t in ins]
            inner_network = _graph_network(op) if _is_model(op) else None
            if inner_network is not None:
                results = self.walk_network(inner_network, sources, prefix + op.name + "/",
                                            _context_of(op))
                for tensor, result in zip(outs, results):
                    if result is not None:
                        produced[id(tensor)] = result
                continue
            kwargs = _node_kwargs(knode)
            training = kwargs.get("training")
            node = self.add_node(
                op, prefix, _producers(ins, sources, kwargs.get("mask")),
                _shape(ins[0]) if ins else None, _shape(outs[0]) if outs else None,
                {"training": True} if training is True else {}, context)
            for tensor in outs:
                produced[id(tensor)] = node
            if _is_model(op) or _is_custom(op):
                self.walk_opaque(op, prefix + op.name + "/")
        return [produced.get(id(t)) for t in network.outputs]

    def walk_unbuilt_sequential(self, model) -> None:
        """A Sequential not built yet: its layers in order, without shapes."""
        previous: Node | None = None
        for child in model.layers:
            previous = self.add_node(child, "", [previous] if previous else [], None, None, {},
                                     "sequential")
        if previous is not None:
            previous.model_output = True

    def walk_opaque(self, obj, prefix: str) -> None:
        """A subclassed model or custom layer: Keras records nothing inside its call(), so its
        layers become unconnected nodes with the shapes they were built with."""
        stack = [(obj, prefix)]
        while stack:
            owner, pre = stack.pop()
            children = _sublayers(owner)
            if not children:
                continue
            names = ", ".join(c.name for c in children)
            self.graph.notes.append(
                f"'{pre.rstrip('/') or owner.name}' ({type(owner).__name__}) is subclassed: "
                "Keras records no connections inside its call(), so its layers "
                f"({names}) are analyzed one by one with the shapes they were built with; "
                "rules that follow connections (what feeds what, model outputs, training= at "
                "a call) cannot see inside it")
            for child in children:
                network = _graph_network(child) if _is_model(child) else None
                if network is not None:
                    self.walk_network(network, [None] * len(network.inputs),
                                      pre + child.name + "/", _context_of(child))
                elif _is_model(child) or _is_custom(child):
                    stack.append((child, pre + child.name + "/"))
                else:
                    shape = _build_shape(child)
                    self.add_node(child, pre, [], shape, None, {}, "subclassed")


def _producers(tensors: list, sources: list, mask) -> list[Node]:
    """The nodes feeding a call, each once, leaving out the Keras mask tensors Keras passes
    along by itself (`mask=`: they are not data the layer transforms)."""
    masks = {id(t) for t in _flatten(mask)}
    out: list[Node] = []
    for tensor, source in zip(tensors, sources):
        if source is not None and id(tensor) not in masks and all(source is not o for o in out):
            out.append(source)
    return out


def _flatten(value) -> list:
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _flatten(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _flatten(v)]
    return [] if value is None else [value]


def _own_backward_layer(bidirectional) -> bool:
    """Whether a Bidirectional's backward layer differs from a copy of its forward layer (what
    `backward_layer=` in the source means; Keras keeps no flag for it)."""
    forward = getattr(bidirectional, "forward_layer", None)
    backward = getattr(bidirectional, "backward_layer", None)
    if forward is None or backward is None:
        return False
    if type(forward) is not type(backward):
        return True
    a, b = layer_args(forward), layer_args(backward)
    a.pop("go_backwards", None)
    b.pop("go_backwards", None)
    return a != b


def _is_model(obj) -> bool:
    return any(c.__name__ in _CONTAINERS and c.__module__.split(".")[0] in _KERAS_ROOTS
               for c in type(obj).__mro__)


def _is_custom(obj) -> bool:
    """A user-written layer (its nearest Keras class is the base Layer) with sublayers."""
    cls = _builtin_class(obj)
    return cls is not None and cls.__name__ == "Layer" and bool(_sublayers(obj))


def _sublayers(obj) -> list:
    try:
        return list(obj._flatten_layers(include_self=False, recursive=False))
    except Exception:  # noqa: BLE001
        return []


def _context_of(model) -> str:
    cls = _builtin_class(model)
    name = cls.__name__ if cls else ""
    return {"Sequential": "sequential", "Functional": "functional"}.get(name, "subclassed")


def build_graph(model, path: str = MODEL_PATH) -> Built:
    """The Graph of a built Keras 3 or tf.keras 2 model."""
    api, version = keras_flavor(model)
    walker = _Walker(path, api)
    network = _graph_network(model)
    if network is not None:
        outputs = walker.walk_network(network, [None] * len(network.inputs), "",
                                      _context_of(model))
        for node in outputs:
            if node is not None:
                node.model_output = True
    else:
        if not getattr(model, "built", False) or _context_of(model) == "sequential":
            walker.graph.notes.append(
                f"model '{model.name}' is not built: its layers have no shapes yet; build it "
                "(model.build(input_shape)) or call it once on data for real shapes")
        if _context_of(model) == "sequential":
            walker.walk_unbuilt_sequential(model)
        else:
            walker.walk_opaque(model, "")
        if not walker.graph.nodes and not _sublayers(model):
            walker.graph.notes.append(f"model '{model.name}' has no layers")
    return Built(walker.graph, version, walker.objects)
