"""Expression evaluation: a libcst expression to an abstract value.

Constants, containers, arithmetic and comparisons of known values are computed; names are looked
up in the frame's scope; anything else is UNKNOWN. A call dispatches on what is called: a Keras
name (keras_calls.py), a layer, a model or a bound method (models.py), a user function or class
(user_code.py), or a few pure builtins.
"""
from __future__ import annotations

import ast
from contextlib import contextmanager
from typing import Any

import libcst as cst

from ...graph import UNKNOWN
from ..keras_names import classify
from ..values import (BUILTINS, COMPARE, CONST_TYPES, MISSING, NUMBER, SUPER, Bound, FuncModel,
                      Instance, LayerObj, QName, Scope, SeqModel, Tensor, UserClass, UserFunc,
                      arith, builtin, known_const, merge)
from .syntax import literal_string


TYPE_NAMES = {"tuple": tuple, "list": list, "dict": dict, "int": int, "float": float,
              "str": str, "bool": bool}


class Expressions:
    """`eval(node)`: one handler per expression type (EXPR)."""

    def eval(self, node) -> Any:
        handler = self.EXPR.get(type(node))
        if handler is None:
            return UNKNOWN
        return handler(self, node)

    def e_name(self, node):
        name = node.value
        if name == "True":
            return True
        if name == "False":
            return False
        if name == "None":
            return None
        return self.frame.scope.lookup(name)

    def e_attr(self, node):
        obj = self.eval(node.value)
        attr = node.attr.value
        if isinstance(obj, QName):
            return QName(obj.path + "." + attr)
        if isinstance(obj, Instance):
            if attr in obj.attrs:
                return obj.attrs[attr]
            method = obj.cls.method(attr)
            if method is not None:
                return Bound(obj, attr)
            found = obj.cls.attribute(attr)
            if found is MISSING:
                return Bound(obj, attr)  # a Keras method: build, fit, ...
            return UNKNOWN if isinstance(found, UserFunc) else found
        if isinstance(obj, UserClass):
            found = obj.attribute(attr)
            if found is MISSING:
                method = obj.method(attr)
                return method if method is not None and self.is_static(method.node) \
                    else UNKNOWN
            return found
        if isinstance(obj, Tensor) and attr == "shape":
            if obj.shape is None:
                return UNKNOWN
            return tuple(UNKNOWN if d is None else d for d in obj.shape)
        if attr in ("output", "outputs") and isinstance(obj, (SeqModel, FuncModel)):
            return self.model_output(obj, attr)
        if isinstance(obj, (SeqModel, FuncModel, list, dict)) or obj is SUPER:
            return Bound(obj, attr)
        return UNKNOWN

    @staticmethod
    def model_output(model, attr):
        """`model.output(s)`: the tensors it ends in, read to feed another model (so they are
        not that model's outputs for DL401: the model is a part, like a layer)."""
        outputs = model.last if isinstance(model, SeqModel) else model.outputs
        if not isinstance(outputs, (Tensor, list, tuple)):
            return UNKNOWN
        model.sub = True
        if attr == "output" and isinstance(outputs, (list, tuple)):
            return outputs[0] if len(outputs) == 1 else list(outputs)
        if attr == "outputs" and isinstance(outputs, Tensor):
            return [outputs]
        return outputs

    def e_int(self, node):
        try:
            return int(node.value, 0)
        except ValueError:
            try:
                return ast.literal_eval(node.value)
            except (ValueError, SyntaxError):
                return UNKNOWN

    def e_float(self, node):
        try:
            return float(node.value)
        except ValueError:
            return UNKNOWN

    def e_imag(self, node):
        try:
            return complex(node.value.replace("_", ""))
        except ValueError:
            return UNKNOWN

    def e_string(self, node):
        return literal_string(node)

    def e_concat(self, node):
        left, right = self.eval(node.left), self.eval(node.right)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        return UNKNOWN

    def e_fstring(self, node):
        for part in node.parts:
            if isinstance(part, cst.FormattedStringExpression):
                self.eval(part.expression)
        return UNKNOWN

    def elements(self, node) -> list | None:
        """The values of a tuple/list/set display; None when a starred part is unknown (then
        `partial_lists` keeps, by id(node), the values before and after the first such part:
        `Sequential([Embedding(...), Dropout(r), *(a if c else b), Dense(1)])` still chains
        its known head)."""
        out = []
        unknown_at = None
        for element in node.elements:
            value = self.eval(element.value)
            if isinstance(element, cst.StarredElement):
                if isinstance(value, (tuple, list)):
                    out.extend(value)
                elif unknown_at is None:
                    unknown_at = len(out)
            else:
                out.append(value)
        if unknown_at is None:
            return out
        self.partial_lists[id(node)] = (out[:unknown_at], out[unknown_at:])
        return None

    def e_tuple(self, node):
        values = self.elements(node)
        return UNKNOWN if values is None else tuple(values)

    def e_list(self, node):
        values = self.elements(node)
        return UNKNOWN if values is None else values

    def e_set(self, node):
        self.elements(node)
        return UNKNOWN

    def e_dict(self, node):
        out = {}
        whole = True
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key, value = self.eval(element.key), self.eval(element.value)
                if isinstance(key, CONST_TYPES):
                    out[key] = value
                else:
                    whole = False
            else:
                value = self.eval(element.value)
                if isinstance(value, dict):
                    out.update(value)
                else:
                    whole = False
        return out if whole else UNKNOWN

    def e_subscript(self, node):
        value = self.eval(node.value)
        keys = []
        for element in node.slice:
            s = element.slice
            if isinstance(s, cst.Index):
                keys.append(self.eval(s.value))
            else:
                parts = [None if p is None else self.eval(p) for p in (s.lower, s.upper, s.step)]
                if all(p is None or isinstance(p, int) for p in parts):
                    keys.append(slice(*parts))
                else:
                    keys.append(UNKNOWN)
        if isinstance(value, Tensor):
            return Tensor(None, None)
        if len(keys) != 1:
            return UNKNOWN
        key = keys[0]
        try:
            if isinstance(value, (tuple, list, str)) and isinstance(key, (int, slice)) \
                    and not isinstance(key, bool):
                return value[key]
            if isinstance(value, dict) and isinstance(key, CONST_TYPES):
                return value.get(key, UNKNOWN)
        except (IndexError, TypeError, ValueError):
            return UNKNOWN
        return UNKNOWN

    def e_binop(self, node):
        return arith(node.operator, self.eval(node.left), self.eval(node.right))

    def e_unary(self, node):
        value = self.eval(node.expression)
        op = type(node.operator)
        if op is cst.Not:
            return not value if isinstance(value, CONST_TYPES + (tuple, list)) else UNKNOWN
        if not isinstance(value, NUMBER):
            return UNKNOWN
        if op is cst.Minus:
            return -value
        if op is cst.Plus:
            return +value
        if op is cst.BitInvert and isinstance(value, int):
            return ~value
        return UNKNOWN

    def e_boolop(self, node):
        left = self.eval(node.left)
        if not known_const(left):
            self.eval(node.right)
            return UNKNOWN
        is_and = isinstance(node.operator, cst.And)
        if bool(left) != is_and:
            return left
        return self.eval(node.right)

    def e_compare(self, node):
        left = self.eval(node.left)
        result = True
        for target in node.comparisons:
            right = self.eval(target.comparator)
            fn = COMPARE.get(type(target.operator))
            if fn is None or not known_const(left) or not known_const(right):
                result = UNKNOWN
            elif result is not UNKNOWN:
                try:
                    result = result and fn(left, right)
                except TypeError:
                    result = UNKNOWN
            left = right
        return result

    def e_ifexp(self, node):
        test = self.eval(node.test)
        if self.decided(node.test, test):
            return self.eval(node.body if test else node.orelse)
        body = self.guarded(node.test, lambda: self.eval(node.body))
        return merge(body, self.eval(node.orelse))

    @contextmanager
    def inner_scope(self):
        """A scope of its own inside the current frame (a lambda's parameters, a
        comprehension's targets), dropped afterwards."""
        outer = self.frame
        saved = outer.scope
        outer.scope = Scope(saved)
        try:
            yield outer.scope
        finally:
            outer.scope = saved

    def e_lambda(self, node):
        with self.inner_scope() as scope:
            for param in self.all_params(node.params):
                scope.vars[param.name.value] = UNKNOWN
            self.eval(node.body)
        return UNKNOWN

    def e_comp(self, node):
        with self.inner_scope():
            clause = node.for_in
            while clause is not None:
                self.eval(clause.iter)
                self.bind(clause.target, UNKNOWN)
                for cond in clause.ifs:
                    self.eval(cond.test)
                clause = clause.inner_for_in
            if isinstance(node, cst.DictComp):
                self.eval(node.key)
                self.eval(node.value)
            else:
                self.eval(node.elt)
        return UNKNOWN

    def e_await(self, node):
        self.eval(node.expression)
        return UNKNOWN

    def e_yield(self, node):
        value = node.value
        if value is not None:
            self.eval(value.item if isinstance(value, cst.From) else value)
        return UNKNOWN

    def e_walrus(self, node):
        value = self.eval(node.value)
        self.bind(node.target, value)
        return value

    def e_call(self, node: cst.Call):
        func = self.eval(node.func)
        if isinstance(func, QName):
            found = classify(func.path)
            if found is not None:
                return self.keras_call(found, node)
        values = self.args(node)
        if isinstance(func, LayerObj):
            return self.apply(func.layer, node, values)
        if isinstance(func, (SeqModel, FuncModel)):
            return self.apply_model(func, node, values)
        if isinstance(func, Bound):
            return self.method_call(func, node, values)
        if isinstance(func, UserFunc):
            return self.invoke(func, values, None)
        if isinstance(func, UserClass):
            return self.instantiate(func, node, values)
        if isinstance(func, Instance):
            return self.call_instance(func, node, values)
        if isinstance(node.func, cst.Name) and not self.frame.scope.has(node.func.value):
            name = node.func.value
            if name == "super":
                return SUPER
            if name == "isinstance" and len(values) == 2:
                return self.isinstance_of(values[0][1], node.args[1].value)
            if name in BUILTINS and all(not a.star and a.keyword is None for a, _ in values):
                return builtin(name, [v for _, v in values])
        return UNKNOWN

    def isinstance_of(self, value, types_node):
        """`isinstance(value, tuple)` / `(list, tuple)` with builtin type names (not rebound)
        on a known value; UNKNOWN otherwise."""
        names = [e.value for e in types_node.elements] if isinstance(types_node, cst.Tuple) \
            else [types_node]
        types = []
        for n in names:
            if not isinstance(n, cst.Name) or n.value not in TYPE_NAMES or \
                    self.frame.scope.has(n.value):
                return UNKNOWN
            types.append(TYPE_NAMES[n.value])
        if value is None or isinstance(value, CONST_TYPES + (tuple, list, dict)):
            return isinstance(value, tuple(types))
        return UNKNOWN

    def args(self, node: cst.Call) -> list[tuple[cst.Arg, Any]]:
        return [(arg, self.eval(arg.value)) for arg in node.args]

    EXPR = {
        cst.Name: e_name, cst.Attribute: e_attr, cst.Call: e_call, cst.Integer: e_int,
        cst.Float: e_float, cst.Imaginary: e_imag, cst.SimpleString: e_string,
        cst.ConcatenatedString: e_concat, cst.FormattedString: e_fstring,
        cst.Tuple: e_tuple, cst.List: e_list, cst.Set: e_set, cst.Dict: e_dict,
        cst.Subscript: e_subscript, cst.BinaryOperation: e_binop,
        cst.UnaryOperation: e_unary, cst.BooleanOperation: e_boolop,
        cst.Comparison: e_compare, cst.IfExp: e_ifexp, cst.Lambda: e_lambda,
        cst.ListComp: e_comp, cst.SetComp: e_comp, cst.GeneratorExp: e_comp,
        cst.DictComp: e_comp, cst.Await: e_await, cst.Yield: e_yield,
        cst.NamedExpr: e_walrus, cst.Ellipsis: lambda self, node: Ellipsis,
    }
