"""Models: `Sequential([...])`, `Sequential().add(...)`, `Model(inputs, outputs)`, a model used as
a layer, `model.build(shape)`, and method calls on the values the loader tracks (a model's
add/build/pop, dict.get, list.append/extend, a user instance's own methods).
"""
from __future__ import annotations

from ...graph import UNKNOWN, Layer
from ...shapes import input_layer_shape, input_shape_from_args, output_shape
from ..values import (CONST_TYPES, MAX_ITEMS, START, SUPER, Bound, FuncModel, Instance,
                      LayerObj, SeqModel, Tensor)
from .syntax import POSITIONAL, traced


class Models:
    """Sequential and functional models; method calls on known values."""

    def build_model(self, name, api, node, values):
        if name == "Sequential":
            model = SeqModel(node, api)
            model.stmt = self.cur_stmt
            self.models.append(model)
            layers = given = None
            for arg, value in values:
                if (arg.keyword is None and not arg.star) or \
                        (arg.keyword is not None and arg.keyword.value == "layers"):
                    layers, given = value, arg.value
                    break
            if layers is None:
                return model
            partial = self.partial_lists.get(id(given))
            if isinstance(layers, (tuple, list)):
                for value in layers:
                    self.seq_add(model, value)
            elif partial is not None:  # a starred part of unknown length: head, ?, tail
                head, tail = partial
                for value in head:
                    self.seq_add(model, value)
                model.last = UNKNOWN
                for value in tail:
                    self.seq_add(model, value)
            else:
                model.last = UNKNOWN
            return model
        outputs = UNKNOWN
        positional = [v for a, v in values if a.keyword is None and not a.star]
        if len(positional) >= 2:
            outputs = positional[1]
        for arg, value in values:
            if arg.keyword is not None and arg.keyword.value == "outputs":
                outputs = value
        if outputs is UNKNOWN:
            return UNKNOWN
        model = FuncModel(node, api, outputs)
        model.stmt = self.cur_stmt
        self.models.append(model)
        return model

    def seq_add(self, model: SeqModel, value):
        """`model.add(value)` / an element of `Sequential([...])`."""
        last = model.last
        if isinstance(value, Tensor) and last is START and value.node is not None \
                and value.node.kind == "InputLayer":
            value.node.context = "sequential"
            model.last = value
            return
        layer = None
        if isinstance(value, LayerObj):
            layer = value.layer
        elif isinstance(value, Instance):
            layer = value.layer
            value.cls.sub = True
            if value.cls.is_block and self.seq_inline(model, value):
                return
        elif isinstance(value, (SeqModel, FuncModel)):
            value.sub = True
            layer = self.model_layer(value)
        if layer is None:
            model.last = UNKNOWN
            return
        if last is START:
            if layer.kind == "InputLayer":
                shape = input_layer_shape(layer.args)
                n = self.new_node(layer, [], None, shape, "sequential")
                model.nodes.append(n)
                model.last = Tensor(n, shape)
                return
            inputs, in_shape = [], input_shape_from_args(layer.kind, layer.args)
            if in_shape is None and layer.kind == "Embedding":
                # first without input_length: token ids (batch, length); tf.keras 2 and
                # Keras 1/2 declare input_shape=(None,) themselves
                in_shape = (None, None)
        elif isinstance(last, Tensor):
            inputs = [last.node] if last.node is not None else []
            in_shape = last.shape
        else:
            inputs, in_shape = [], None
        out = self.model_output_shape(value, in_shape) if layer.kind in (
            "Sequential", "Functional") else output_shape(layer.kind, layer.args, [in_shape],
                                                          layer.inner)
        n = self.new_node(layer, inputs, in_shape, out, "sequential")
        model.nodes.append(n)
        model.last = Tensor(n, out)

    def seq_inline(self, model: SeqModel, obj: Instance) -> bool:
        """A block in a Sequential model: its call() inlined on the output so far (see
        inline); False (nothing chained) when it returns no single tensor."""
        last = model.last
        if last is START:
            value = Tensor(None, input_shape_from_args(obj.layer.kind, obj.layer.args))
        else:
            value = last if isinstance(last, Tensor) else Tensor(None, None)
        before = len(self.graph.nodes)
        values = [(POSITIONAL, value)]
        result = self.inline(obj, values)
        if not isinstance(result, Tensor) or not traced(result, values):
            return False
        self.inlined_layers.append(obj.layer)
        model.nodes.extend(self.graph.nodes[before:])  # seq_build stops where not a chain
        model.last = result
        return True

    def model_layer(self, model) -> Layer:
        """The Layer standing for a sub-model applied like a layer."""
        if model.layer is None:
            kind = "Sequential" if isinstance(model, SeqModel) else "Functional"
            saved, self.cur_stmt = self.cur_stmt, model.stmt  # built where it was written
            model.layer = self.construct(kind, model.api, model.call, [], signature="-")
            self.cur_stmt = saved
        return model.layer

    def model_output_shape(self, model, in_shape):
        if isinstance(model, SeqModel):
            return model.last.shape if isinstance(model.last, Tensor) else None
        outs = self.tensors(model.outputs)
        return outs[0].shape if len(outs) == 1 and isinstance(model.outputs, Tensor) else None

    def apply_model(self, model, call, values):
        model.sub = True
        layer = self.model_layer(model)
        positional = [v for a, v in values if a.keyword is None and not a.star]
        value = positional[0] if positional else UNKNOWN
        producers = [t.node for t in self.tensors(value) if t.node is not None]
        in_shape = value.shape if isinstance(value, Tensor) else None
        out = self.model_output_shape(model, in_shape)
        n = self.new_node(layer, producers, in_shape, out, self.frame.context)
        return Tensor(n, out)

    def seq_build(self, model: SeqModel, shape):
        """`model.build(shape)`: the input shape of the first layer; shapes re-propagated."""
        if not model.nodes or not isinstance(shape, (tuple, list)):
            return
        shape = tuple(d if isinstance(d, int) and not isinstance(d, bool) else None
                      for d in shape)
        current = shape
        for i, n in enumerate(model.nodes):
            if n.kind == "InputLayer":
                return
            if n.inputs != ([model.nodes[i - 1]] if i else []):
                return  # not a chain (an inlined block with branches, an unknown add)
            n.input_shape = current
            n.output_shape = output_shape(n.kind, n.layer.args, [current], n.layer.inner)
            current = n.output_shape
        if isinstance(model.last, Tensor) and model.last.node is model.nodes[-1]:
            model.last = Tensor(model.last.node, current)

    def method_call(self, bound: Bound, node, values):
        obj, name = bound.obj, bound.name
        positional = [v for a, v in values if a.keyword is None and not a.star]
        if obj is SUPER:
            if name == "__init__":
                self.super_init(values)
            return UNKNOWN
        if isinstance(obj, SeqModel):
            if name == "add" and positional:
                self.seq_add(obj, positional[0])
            elif name == "build":
                keywords = {a.keyword.value: v for a, v in values if a.keyword}
                shape = positional[0] if positional else keywords.get("input_shape")
                self.seq_build(obj, shape)
            elif name == "pop":
                obj.last = UNKNOWN
            return UNKNOWN
        if isinstance(obj, dict):
            if name == "get" and positional and isinstance(positional[0], CONST_TYPES):
                default = positional[1] if len(positional) > 1 else None
                return obj.get(positional[0], default)
            return UNKNOWN
        if isinstance(obj, list):
            if name == "append" and len(positional) == 1:
                obj.append(positional[0])
            elif name == "extend" and len(positional) == 1 and \
                    isinstance(positional[0], (list, tuple)) and \
                    len(obj) + len(positional[0]) <= MAX_ITEMS:  # `l.extend(l)` x40: 2**40
                obj.extend(positional[0])
            return UNKNOWN
        if isinstance(obj, Instance):
            func = obj.cls.method(name)
            if obj is self.frame.self_obj and func is not None:  # self.helper(...)
                return self.invoke(func, values, obj)
            if name == "build" and func is None and positional:
                obj.cls.input_shapes.append(self.shape_value(positional[0]))
        return UNKNOWN

    @staticmethod
    def shape_value(value):
        if not isinstance(value, (tuple, list)):
            return None
        return tuple(d if isinstance(d, int) and not isinstance(d, bool) else None
                     for d in value)
