"""User functions and classes.

A user function is inlined at each call with its actual arguments (up to MAX_INLINE calls), or,
never called, read at the end with its default values. Calling a user class instantiates it: a
Keras layer subclass becomes a Layer (with the arguments of its one `super().__init__` call when
it has its own `__init__`). A subclass of plain `Layer` with a `call` (a block), and a subclassed
model called in a functional graph, are inlined where applied: `__init__` once per instance,
`build` with the input shape, then `call` on the actual inputs.
"""
from __future__ import annotations

import libcst as cst

from ...graph import UNKNOWN, Layer
from ..keras_names import LAYER_NAMES
from ..values import (TRAINING, Frame, Instance, LayerObj, Scope, Tensor, UserClass, UserFunc,
                      merge)
from .syntax import POSITIONAL, dotted, hide, traced


class UserCode:
    """User functions and classes: invoke, instantiate, inline."""

    def call_instance(self, obj: Instance, node, values):
        """Calling an instance of a user class. A subclass of plain `Layer` with a `call`
        (a block) is inlined wherever it is applied, and a model subclass called in a
        functional graph: see inline. A block whose call() cannot be traced, and any other
        Keras layer subclass, is applied like a layer (one opaque node); a model elsewhere
        records the input shape it sees."""
        cls = obj.cls
        if cls.is_block and self.frame.context != "class":
            result = self.inline(obj, values)
            if traced(result, values):
                self.inlined_layers.append(obj.layer)
                return result
        if obj.layer is not None:
            result = self.apply(obj.layer, node, values)
            if isinstance(result, Tensor) and result.shape is None and result.node is not None:
                shape = self.declared_output_shape(obj, result.node.input_shape)
                if shape is not None:
                    result.node.output_shape = shape
                    result = Tensor(result.node, shape)
            return result
        if not cls.keras:
            return UNKNOWN
        positional = [v for a, v in values if a.keyword is None and not a.star]
        if cls.is_model and cls.method("call") is not None and \
                self.frame.context == "functional":
            result = self.inline(obj, values)
            if result is not UNKNOWN and result is not None:
                cls.inlined.append(result)
                return result
        if positional and isinstance(positional[0], Tensor):
            obj.cls.input_shapes.append(positional[0].shape)
        return Tensor(None, None)

    def declared_output_shape(self, obj: Instance, input_shape):
        """The output rank a user layer's own `compute_output_shape` declares for this input
        (read, never run): a tuple or list of known length, every size None (Keras traces
        call() for shapes; the sizes the method computes from attributes set in build()
        are not trusted, its rank is the author's word). None when it has none, or returns
        anything else."""
        method = obj.cls.method("compute_output_shape")
        if method is None:
            return None
        given = UNKNOWN if input_shape is None else tuple(
            UNKNOWN if d is None else d for d in input_shape)
        saved = method.done
        result = self.invoke(method, [(POSITIONAL, given)], obj)
        method.done = saved  # still read at the end like any method (analyze_class)
        if not isinstance(result, (tuple, list)) or not result:
            return None
        return (None,) * len(result)

    def inline(self, obj: Instance, values):
        """Apply a user subclass as Keras does: its `__init__` on this instance (once), its
        `build` with the input shape (once), then its `call` with these arguments. Each
        application is its own set of nodes; the layers are built once per instance."""
        self.initialize(obj)
        build = obj.cls.method("build")
        if build is not None and not obj.built:
            obj.built = True
            positional = [v for a, v in values if a.keyword is None and not a.star]
            first = positional[0] if positional else next(
                (v for a, v in values if a.keyword is not None and a.keyword.value == "inputs"),
                UNKNOWN)
            shape = first.shape if isinstance(first, Tensor) else None
            given = UNKNOWN if shape is None else tuple(UNKNOWN if d is None else d
                                                        for d in shape)
            self.invoke(build, [(POSITIONAL, given)], obj)
        return self.invoke(obj.cls.method("call"), values, obj)

    def instantiate(self, cls: UserClass, node, values):
        obj = Instance(cls)
        obj.init_values = values
        cls.instances.append(obj)
        if cls.keras and cls.keras != "Model":
            kind = cls.keras if cls.keras in LAYER_NAMES else "Layer"
            if kind != "Layer" and cls.method("__init__") is not None:
                obj.layer = self.construct_subclass(kind, obj, node)
            else:
                obj.layer = self.construct(kind, cls.api, node, values, user=True)
        cls.inits.append(values)
        if cls.keras and self.frame.cls is not None and self.frame.cls is not cls \
                and self.frame.cls.keras:
            cls.sub = True
        return obj

    def construct_subclass(self, kind, obj: Instance, node) -> Layer:
        """A subclass of a Keras layer with its own `__init__`: run it on this instance; the
        arguments are those of its one `super().__init__(...)` call (unknown otherwise, never
        Keras' signature applied to the subclass's own parameters)."""
        saved, self.super_calls = self.super_calls, []
        try:
            self.initialize(obj)
            supers = self.super_calls
        finally:
            self.super_calls = saved
        layer = self.construct(kind, obj.cls.api, node, [], user=True)
        if len(supers) == 1:
            args, _, inner, _ = self.map_args(kind, supers[0])
            layer.args = args
            if isinstance(inner, (LayerObj, Instance)) and inner.layer is not None:
                layer.inner = inner.layer
                self.unlist(inner.layer)
        else:
            hide(layer.args)
        return layer

    def initialize(self, obj: Instance):
        """Run the class's `__init__` on this instance, with its arguments, once."""
        if obj.ready:
            return
        obj.ready = True
        init = obj.cls.method("__init__")
        if init is not None:
            self.invoke(init, obj.init_values, obj)

    def super_init(self, values):
        """`super().__init__(...)` in a method: a user base class's `__init__` runs on the
        same instance; a Keras base records the arguments for construct_subclass."""
        cls, self_obj = self.frame.cls, self.frame.self_obj
        if isinstance(cls, UserClass):
            for base in cls.bases:
                func = base.method("__init__") if isinstance(base, UserClass) else None
                if func is not None:
                    self.invoke(func, values, self_obj)
                    return
        if self.super_calls is not None:
            self.super_calls.append(values)

    def invoke(self, func: UserFunc, values, self_obj, deferred=False, input_shape=None):
        """Analyze a user function's body: inlined at each call (with the actual arguments;
        the layers it builds are built anew, as at run time), or, never called, at the end
        with its default values."""
        if func.active or self.depth >= self.MAX_DEPTH or (deferred and func.done) or \
                func.calls >= self.MAX_INLINE:
            return UNKNOWN
        func.done = func.active = True
        func.calls += not deferred
        node = func.node
        saved_top, self.top = self.top, func.top
        saved_stmt = self.cur_stmt
        scope = Scope(func.scope)
        soft: set[str] = set()
        params = list(node.params.posonly_params) + list(node.params.params)
        kwonly = list(node.params.kwonly_params)
        positional = [v for a, v in values if a.keyword is None and not a.star]
        keywords = {a.keyword.value: v for a, v in values if a.keyword is not None}
        spread = any(a.star for a, _ in values)
        is_method = func.cls is not None and not self.is_static(node)
        if is_method and params:
            scope.vars[params[0].name.value] = self_obj if self_obj is not None else UNKNOWN
            params = params[1:]
        for i, param in enumerate(params + kwonly):
            name = param.name.value
            if name == "training":
                scope.vars[name] = TRAINING
            elif i < len(params) and i < len(positional):
                scope.vars[name] = positional[i]
            elif name in keywords:
                scope.vars[name] = keywords[name]
            elif spread and not deferred:
                scope.vars[name] = UNKNOWN
            else:
                scope.vars[name] = func.defaults.get(name, UNKNOWN)
                if deferred:
                    soft.add(name)
        exact = not deferred and not spread  # every argument of the call is known by name
        if isinstance(node.params.star_arg, cst.Param):
            extra = tuple(positional[len(params):])
            scope.vars[node.params.star_arg.name.value] = extra if exact else UNKNOWN
        if node.params.star_kwarg is not None:
            named = {p.name.value for p in params + kwonly}
            extra = {k: v for k, v in keywords.items() if k not in named}
            scope.vars[node.params.star_kwarg.name.value] = extra if exact else UNKNOWN
        cls = func.cls
        keras_cls = cls is not None and cls.keras is not None
        in_call = cls is not None and node.name.value == "call" or func.in_call
        guarded = not deferred and self.is_guarded()  # called under `if training:`
        if keras_cls and node.name.value == "call" and params:
            first = params[0].name.value
            if first not in keywords and not positional:
                scope.vars[first] = Tensor(None, input_shape)
        frame = Frame(scope, "subclassed" if keras_cls else "functional", cls, in_call,
                      self_obj if isinstance(self_obj, Instance) else None)
        frame.soft = soft
        frame.guarded_rest = guarded
        outer = self.frame
        self.frame = frame
        self.depth += 1
        try:
            self.block(node.body.body)
        finally:
            self.depth -= 1
            self.frame = outer
            self.top = saved_top
            self.cur_stmt = saved_stmt
            func.active = False
        returns = frame.returns
        if not returns:
            return None
        result = returns[0]
        for other in returns[1:]:
            result = merge(result, other)
        return result

    @staticmethod
    def is_static(node: cst.FunctionDef) -> bool:
        return any(dotted(d.decorator) in ("staticmethod",) for d in node.decorators)
