"""Calls of Keras things: layer constructors, Input, merge functions, functional dropout
(`tf.nn.dropout`), training guards (`tf.cond`, `K.in_train_phase`), and applying a layer to
tensors.

A constructor becomes a Layer with its arguments mapped to keywords (a wrapped layer is
reached through `.inner`, not listed itself); an application becomes a Node with edges from
the known producers of its inputs and a static output shape (shapes.py).
"""
from __future__ import annotations

from typing import Any

import libcst as cst

from ...graph import UNKNOWN, FunctionCall, Layer, Node, Origin
from ...shapes import input_layer_shape, output_shape
from ..keras_names import (CALL_PARAMS, KERAS1_ARGUMENTS, KERAS1_RENAMED, MULTI_INPUT,
                           SIGNATURES, STATE_COUNT, WRAPPERS)
from ..values import ALWAYS, TRAINING, FuncModel, Instance, LayerObj, SeqModel, Tensor, plain
from .syntax import dotted, hide, mentions_training, negates_training, same_args


class Alternatives(Tensor):
    """A tensor that is one of several, by a condition droplint cannot decide: `arms` are
    their producer nodes (a shape-only link: the consumer gets no edge from them)."""

    __slots__ = ("arms",)

    def __init__(self, shape, arms: tuple):
        super().__init__(None, shape)
        self.arms = arms


def arms_of(tensor: Tensor) -> tuple | None:
    """The producers a tensor may come from (None: one of them is not known)."""
    if isinstance(tensor, Alternatives):
        return tensor.arms
    return None if tensor.node is None else (tensor.node,)


class KerasCalls:
    """Keras constructors and layer applications."""

    def keras_call(self, found, node: cst.Call):
        category, name, api = found
        if category == "guard":
            return self.guard_call(name, node)
        values = self.args(node)
        if category in ("layer", "merge_fn"):
            self.mark_parts(v for _, v in values)
        if category == "layer":
            self.vote(api)
            memo = self.memo
            if memo is None:
                return LayerObj(self.construct(name, api, node, values), node)
            # Unrolling a loop: one Layer per distinct arguments of this constructor call.
            args, _, inner, _ = self.map_args(name, values)
            inner = getattr(inner, "layer", None)
            for obj in memo.get(id(node), ()):
                if same_args(obj.layer.args, args) and obj.layer.inner is inner:
                    return obj
            obj = LayerObj(self.construct(name, api, node, values), node)
            memo.setdefault(id(node), []).append(obj)
            return obj
        if category == "input":
            self.vote(api)
            layer = self.construct("InputLayer", api, node, values, signature="Input")
            shape = input_layer_shape(layer.args)
            n = self.new_node(layer, [], None, shape, self.frame.context)
            return Tensor(n, shape)
        if category == "model":
            self.vote(api)
            return self.build_model(name, api, node, values)
        if category == "merge_fn":
            self.vote(api)
            inputs = [(a, v) for a, v in values if a.keyword is None and not a.star][:1]
            rest = [(a, v) for a, v in values if a.keyword is not None
                    and a.keyword.value != "inputs"]
            layer = self.construct(name, api, node, rest)
            given = [(a, v) for a, v in values if a.keyword is not None
                     and a.keyword.value == "inputs"]
            return self.apply(layer, node, inputs or given, spans=False)
        if category == "dropout_fn":
            call = FunctionCall(name, None, self.frame.in_call, self.is_guarded())
            self.graph.calls.append(call)
            self.want_call(node)
            self.unplaced_calls.append((call, node))
            first = values[0][1] if values else None
            return Tensor(None, first.shape if isinstance(first, Tensor) else None)
        return UNKNOWN

    @staticmethod
    def mark_parts(values):
        """Models given to a layer or merge (Keras 1 `Merge([left, right])`, `concatenate([a,
        b])`) are parts of a bigger model, like a layer: their outputs are not the model's
        (DL401). Each container is visited once: values may share one tuple many times over
        (`t = (t, t, t, t)` twenty times is 4**20 paths but 21 objects)."""
        todo, seen = [values], set()
        while todo:
            container = todo.pop()
            if id(container) in seen:
                continue
            seen.add(id(container))
            for value in container.values() if isinstance(container, dict) else container:
                if isinstance(value, (SeqModel, FuncModel)):
                    value.sub = True
                elif isinstance(value, (tuple, list, dict)):
                    todo.append(value)

    def guard_call(self, name, node):
        """tf.cond / smart_cond / K.switch / in_train_phase: the branch that runs only in
        training counts as guarded (the true one when the predicate mentions `training`, the
        false one for `not training`; in_train_phase's first)."""
        args = list(node.args)
        if not args:
            return UNKNOWN
        positional = [a for a in args if a.keyword is None and not a.star]
        keyword = {a.keyword.value: a for a in args if a.keyword is not None}
        train = None
        if name == "in_train_phase":
            train = positional[0] if positional else keyword.get("x")
        else:
            pred = keyword.get("pred") or keyword.get("condition") or keyword.get("training") \
                or (positional[0] if positional else None)
            rest = [a for a in positional if a is not pred]
            true = keyword.get("true_fn") or keyword.get("then_expression") or \
                (rest[0] if rest else None)
            false = keyword.get("false_fn") or keyword.get("else_expression") or \
                (rest[1] if len(rest) > 1 else None)
            if pred is not None and mentions_training(pred.value):
                train = false if negates_training(pred.value) else true
        for arg in args:
            if arg is train:
                self.guarded(ALWAYS, lambda a=arg: self.eval(a.value))
            else:
                self.eval(arg.value)
        return UNKNOWN

    def is_guarded(self) -> bool:
        frame = self.frame
        if frame.guarded_rest:
            return True
        return any(g is ALWAYS or mentions_training(g) for g in frame.guards)

    def map_args(self, kind, values, signature=None):
        """Constructor arguments mapped to keywords: (args, arg nodes, inner value, its node)."""
        params = SIGNATURES.get(signature or kind, ())
        args: dict[str, Any] = {}
        arg_nodes: dict[str, cst.Arg] = {}
        inner_value = inner_node = None
        hidden = False
        position = 0
        for arg, value in values:
            if arg.star == "*":
                if isinstance(value, (tuple, list)):
                    for v in value:
                        if position < len(params):
                            args[params[position]] = plain(v)
                        position += 1
                else:
                    # an unpacked sequence of unknown length fills positional parameters
                    # only (`Embedding(*matrix.shape)`): those from here on are unknown,
                    # never a keyword that is not positional (Keras 1 `dropout=`)
                    for name in params[position:]:
                        args[name] = UNKNOWN
                    position = len(params)
                continue
            if arg.star == "**":
                if isinstance(value, dict) and all(isinstance(k, str) for k in value):
                    for k, v in value.items():
                        args[k] = plain(v)
                else:
                    hidden = True
                continue
            if arg.keyword is not None:
                key = arg.keyword.value
            elif position < len(params):
                key = params[position]
                position += 1
            else:
                position += 1
                continue
            if key in ("layer", "cell") and (kind in WRAPPERS or kind == "RNN"):
                inner_value, inner_node = value, arg
                continue
            args[key] = plain(value)
            arg_nodes[key] = arg
        if hidden:
            hide(args)
        for old, new in KERAS1_ARGUMENTS.get(kind, ()):
            if old in args and new not in args:  # DL309; the site keeps the modern meaning
                args[new] = args[old]
                if old in arg_nodes:
                    arg_nodes[new] = arg_nodes[old]
        for old, new in KERAS1_RENAMED.get(kind, ()):
            if old in args and new not in args:
                args[new] = args[old]
        return args, arg_nodes, inner_value, inner_node

    def construct(self, kind, api, node, values, signature=None, user=False) -> Layer:
        """A Layer from a constructor call: args mapped to keywords, spans requested."""
        args, arg_nodes, inner_value, inner_node = self.map_args(kind, values, signature)
        backward = next((v for a, v in values if a.keyword is not None
                         and a.keyword.value == "backward_layer"), None)
        if isinstance(backward, LayerObj):
            self.unlist(backward.layer)  # part of the wrapper, like its `layer`
        origin = Origin(self.path)
        layer = Layer(kind, args, origin, api=api)
        if isinstance(inner_value, (LayerObj, Instance)) and inner_value.layer is not None:
            layer.inner = inner_value.layer
            self.unlist(inner_value.layer)
        self.graph.layers.append(layer)
        self.want_call(node)
        name_node = node.func.attr if isinstance(node.func, cst.Attribute) else node.func
        origin.callee = None if node.func.lpar else dotted(node.func)
        if user:  # a user's subclass: renaming its class name would be no fix
            name_node = origin.callee = None
        self.unplaced_layers.append((origin, node, name_node, arg_nodes, inner_node))
        return layer

    def unlist(self, layer: Layer):
        """A layer wrapped by another is reached through `.inner`, not graph.layers."""
        layers = self.graph.layers
        if not any(n.layer is layer for n in self.graph.nodes):
            for i in range(len(layers) - 1, -1, -1):
                if layers[i] is layer:
                    del layers[i]
                    break

    def new_node(self, layer, inputs, input_shape, out_shape, context) -> Node:
        node = Node(layer, inputs, input_shape, out_shape, context=context)
        self.graph.nodes.append(node)
        return node

    def tensors(self, value) -> list[Tensor]:
        if isinstance(value, Tensor):
            return [value]
        if isinstance(value, (tuple, list)):
            return [t for v in value for t in self.tensors(v)]
        if isinstance(value, dict):
            return [t for v in value.values() for t in self.tensors(v)]
        return []

    def apply(self, layer: Layer, call: cst.Call, values, spans=True) -> Any:
        """One application of a layer object: a Node with edges from known producers."""
        positional = [(a, v) for a, v in values if a.keyword is None and not a.star]
        inputs_value = positional[0][1] if positional else UNKNOWN
        multi = layer.kind in MULTI_INPUT
        params = CALL_PARAMS.get(layer.kind, ())
        named = [] if multi else list(zip(params, positional[1:]))
        named += [(a.keyword.value, (a, v)) for a, v in values if a.keyword is not None]
        call_args: dict[str, Any] = {}
        call_spans: dict[str, cst.Arg] = {}
        for key, (arg, value) in named:
            if key == "inputs" and not positional:
                inputs_value = value
                continue
            call_args[key] = "training" if value is TRAINING else plain(value)
            if spans:
                call_spans[key] = arg
                self.want_call(call)
        self.mark_parts([inputs_value])
        if isinstance(inputs_value, (tuple, list)):
            items = list(inputs_value)
        else:
            items = [inputs_value]
        if multi:
            items += [v for _, v in positional[1:]]
        shapes = [v.shape if isinstance(v, Tensor) else None for v in items]
        producers = []
        for v in self.tensors(items):
            if v.node is not None and all(p is not v.node for p in producers):
                producers.append(v.node)
        in_shape = shapes[0] if shapes else None
        out = output_shape(layer.kind, layer.args, shapes, layer.inner)
        node = self.new_node(layer, producers, in_shape, out, self.frame.context)
        node.call_args = call_args
        if not multi and isinstance(items[0], Alternatives) and items[0].node is None:
            node.alternatives = list(items[0].arms)
        if call_spans:
            self.unplaced_call_args.append((node, call_spans))
        return self.layer_result(layer, node, out)

    def layer_result(self, layer: Layer, node: Node, out):
        core = layer.inner if layer.kind in ("Bidirectional", "RNN") and layer.inner else layer
        holder = layer if layer.kind != "Bidirectional" else core
        state = holder.args.get("return_state", False)
        if layer.kind == "RNN":
            state = layer.args.get("return_state", False)
        if state is False or layer.kind not in ("LSTM", "GRU", "SimpleRNN", "CuDNNLSTM",
                                                "CuDNNGRU", "RNN", "Bidirectional"):
            return Tensor(node, out)
        if state is not True:
            return UNKNOWN
        n = STATE_COUNT.get(core.kind)
        units = core.args.get("units")
        if n is None:
            return UNKNOWN
        if layer.kind == "Bidirectional":
            n *= 2
        batch = out[0] if out else None
        unit = units if isinstance(units, int) else None
        return [Tensor(node, out)] + [Tensor(node, (batch, unit)) for _ in range(n)]
