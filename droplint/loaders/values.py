"""The abstract values the source loader binds names to, and how they combine.

Constants are plain Python values; everything else is one of the small classes below. UNKNOWN
(from droplint.graph) is any value that cannot be known statically.
"""
from __future__ import annotations

from typing import Any

import libcst as cst

from ..graph import UNKNOWN, Layer, Node
from .keras_names import STAR_NAMES, keras_api


# ---------------------------------------------------------------------------------------------
# Abstract values.

class QName:
    """A dotted name rooted in an import (`tensorflow.keras.layers`)."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path


class Tensor:
    """A symbolic tensor: the node that produced it (None: unknown) and its static shape."""

    __slots__ = ("node", "shape")

    def __init__(self, node: Node | None, shape):
        self.node, self.shape = node, shape


class LayerObj:
    __slots__ = ("layer", "call")

    def __init__(self, layer: Layer, call: cst.Call | None):
        self.layer, self.call = layer, call


class SeqModel:
    """A Sequential model being built: `last` is the output so far (START before any layer)."""

    __slots__ = ("call", "api", "last", "nodes", "sub", "layer", "build_shape", "stmt")

    def __init__(self, call, api):
        self.call, self.api = call, api
        self.last: Any = START
        self.nodes: list[Node] = []
        self.sub = False  # used as a layer of another model
        self.layer: Layer | None = None
        self.build_shape = None
        self.stmt = None  # the statement that built it (for positions)


class FuncModel:
    __slots__ = ("call", "api", "outputs", "sub", "layer", "stmt")

    def __init__(self, call, api, outputs):
        self.call, self.api, self.outputs = call, api, outputs
        self.sub = False
        self.layer: Layer | None = None
        self.stmt = None  # the statement that built it (for positions)


class UserFunc:
    __slots__ = ("node", "scope", "cls", "defaults", "done", "top", "calls", "active", "in_call")

    def __init__(self, node, scope, cls, defaults, top):
        self.node, self.scope, self.cls, self.defaults = node, scope, cls, defaults
        self.done = False  # analyzed (inlined at a call, or at the end)
        self.calls = 0  # times inlined at a call
        self.active = False  # being analyzed (recursion)
        self.top = top  # index of the module-level statement it is defined in
        self.in_call = False  # defined inside a subclassed call(): runs inside it


class UserClass:
    __slots__ = ("node", "name", "bases", "keras", "methods", "scope", "sub", "returns", "body",
                 "api", "inits", "input_shapes", "instances", "inlined")

    def __init__(self, node, name, bases, keras, scope):
        self.node, self.name, self.bases, self.scope = node, name, bases, scope
        self.keras = keras  # None | "Model" | "Layer" | a Keras layer kind it subclasses
        self.methods: dict[str, UserFunc] = {}
        self.sub = False
        self.returns: list = []
        self.body: Scope | None = None  # class-level names
        self.api = "keras"
        self.inits: list = []  # the arguments of each instantiation
        self.input_shapes: list = []  # shapes it was built or called with
        self.instances: list = []  # Instance objects made by calling it
        self.inlined: list = []  # what its call() returned where inlined in a functional graph

    def lineage(self):
        """This class, then its user-defined bases, depth first, left to right: the order
        `attribute` and `method` look a name up in."""
        yield self
        for base in self.bases:
            if isinstance(base, UserClass):
                yield from base.lineage()

    def attribute(self, name: str) -> Any:
        return next((c.body.vars[name] for c in self.lineage()
                     if c.body is not None and name in c.body.vars), MISSING)

    def method(self, name: str) -> UserFunc | None:
        return next((c.methods[name] for c in self.lineage() if name in c.methods), None)

    @property
    def is_model(self) -> bool:
        return self.keras == "Model"

    @property
    def is_block(self) -> bool:
        """A subclass of plain `keras.layers.Layer` with a `call`: inlined where applied."""
        return self.keras == "Layer" and self.method("call") is not None


class Instance:
    __slots__ = ("cls", "attrs", "layer", "init_values", "ready", "built")

    def __init__(self, cls: UserClass, layer: Layer | None = None):
        self.cls, self.layer = cls, layer
        self.attrs: dict[str, Any] = {}
        self.init_values: list = []  # the arguments it was made with
        self.ready = False  # its __init__ has run on it
        self.built = False  # its build() has run on it (before its first inlined call)


class Bound:
    """An attribute of one of our objects, about to be called (`model.add`)."""

    __slots__ = ("obj", "name")

    def __init__(self, obj, name):
        self.obj, self.name = obj, name


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


START = _Marker("START")
MISSING = _Marker("MISSING")
TRAINING = _Marker("training")  # the `training` argument, passed through
SUPER = _Marker("super")
ALWAYS = _Marker("guard")  # a guard that holds whatever its predicate (in_train_phase)
CONST_TYPES = (int, float, str, bool, type(None), complex, bytes)


# --- caps: the evaluator computes only small values -------------------------------------------
# Anything larger is UNKNOWN, never computed: `sum(range(10**15))`, `s = s + s` x40, repeated
# squaring or `enumerate(range(10**10))` would otherwise take minutes or gigabytes.
MAX_INT_BITS = 3322  # ~1,000 decimal digits (str() refuses > 4,300; float() > 308)
MAX_ITEMS = 10_000  # elements of a tuple, list, dict or range; characters of a str/bytes
FLOAT_MAX_BITS = 1023  # an int of more bits does not convert to float (OverflowError)


def small(value: Any, budget: int = MAX_ITEMS) -> bool:
    """Whether a value is within the caps, looking at no more than `budget` items (nested
    containers count all their items; shared ones each time they appear)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int):
            if v.bit_length() > MAX_INT_BITS:
                return False
        elif isinstance(v, (str, bytes)):
            budget -= len(v)
        elif isinstance(v, range):
            budget -= len(v) if _range_len(v) <= MAX_ITEMS else MAX_ITEMS + 1
        elif isinstance(v, (tuple, list)):
            budget -= len(v)
            if budget >= 0:
                stack.extend(v)
        elif isinstance(v, dict):
            budget -= len(v)
            if budget >= 0:
                stack.extend(v.keys())
                stack.extend(v.values())
        if budget < 0:
            return False
    return True


def _range_len(r: range) -> int:
    try:
        return len(r)
    except OverflowError:  # len() of a range is limited to sys.maxsize
        return MAX_ITEMS + 1


def capped(value: Any) -> Any:
    """`value` if it is within the caps, else UNKNOWN."""
    return value if small(value) else UNKNOWN


def fits_float(value: Any) -> bool:
    """Whether a number converts to float without OverflowError (every rule reads numeric
    arguments as floats: an int rate of 10**309 would crash them)."""
    return not isinstance(value, int) or value.bit_length() <= FLOAT_MAX_BITS


def plain(value: Any) -> Any:
    """A value as plain Python data for Layer.args / Node.call_args (UNKNOWN otherwise). An
    int too large for a float is UNKNOWN: rules format and compare arguments as floats."""
    if isinstance(value, int) and not fits_float(value):
        return UNKNOWN
    if isinstance(value, CONST_TYPES):
        return value
    if not small(value):
        return UNKNOWN
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return UNKNOWN


def merge(a: Any, b: Any) -> Any:
    """The value of a name after two alternative paths."""
    if a is b or b is MISSING:
        return a
    if a is MISSING:
        return b
    if isinstance(a, CONST_TYPES + (tuple,)) and type(a) is type(b):
        if isinstance(a, tuple) and not (small(a) and small(b)):
            return UNKNOWN
        try:
            if a == b:
                return a
        except Exception:  # noqa: BLE001 - exotic equality
            return UNKNOWN
        return UNKNOWN
    if isinstance(a, QName) and isinstance(b, QName):
        # `try: from tensorflow import keras / except ImportError: import keras`: the same
        # Keras names either way; the first (the `try` body) names the flavour.
        if a.path == b.path or (keras_api(a.path) and keras_api(b.path)
                                and a.path.rpartition(".")[2] == b.path.rpartition(".")[2]):
            return a
        return UNKNOWN
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.node is b.node:
            return Tensor(a.node, a.shape if a.shape == b.shape else None)
        return Tensor(None, a.shape if a.shape == b.shape else None)
    return UNKNOWN


class Scope:
    __slots__ = ("vars", "parent", "star")

    def __init__(self, parent: Scope | None = None):
        self.vars: dict[str, Any] = {}
        self.parent = parent
        self.star: str | None = None  # `from <keras module> import *`

    def has(self, name: str) -> bool:
        scope = self
        while scope is not None:
            if name in scope.vars or (scope.star is not None and name in STAR_NAMES):
                return True
            scope = scope.parent
        return False

    def lookup(self, name: str) -> Any:
        scope = self
        while scope is not None:
            value = scope.vars.get(name, MISSING)
            if value is not MISSING:
                return value
            if scope.star is not None and name in STAR_NAMES:
                return QName(scope.star + "." + name)
            scope = scope.parent
        return UNKNOWN


class Frame:
    """The analysis state of one function (or the module) body."""

    __slots__ = ("scope", "context", "cls", "in_call", "returns", "guards", "guarded_rest",
                 "self_obj", "soft")

    def __init__(self, scope, context="functional", cls=None, in_call=False, self_obj=None):
        self.scope, self.context, self.cls, self.in_call = scope, context, cls, in_call
        self.returns: list = []
        self.guards: list = []  # test expressions of enclosing `if`s / conditional expressions
        self.guarded_rest = False  # after `if not training: return ...`
        self.self_obj = self_obj
        self.soft: set[str] = set()  # parameters bound to their defaults, callers unknown


BINOPS = {
    cst.Add: lambda a, b: a + b, cst.Subtract: lambda a, b: a - b,
    cst.Multiply: lambda a, b: a * b, cst.Divide: lambda a, b: a / b,
    cst.FloorDivide: lambda a, b: a // b, cst.Modulo: lambda a, b: a % b,
    cst.Power: lambda a, b: a ** b if abs(b) < 1024 else UNKNOWN,
}
COMPARE = {
    cst.Equal: lambda a, b: a == b, cst.NotEqual: lambda a, b: a != b,
    cst.LessThan: lambda a, b: a < b, cst.LessThanEqual: lambda a, b: a <= b,
    cst.GreaterThan: lambda a, b: a > b, cst.GreaterThanEqual: lambda a, b: a >= b,
    cst.Is: lambda a, b: a is b, cst.IsNot: lambda a, b: a is not b,
    cst.In: lambda a, b: a in b, cst.NotIn: lambda a, b: a not in b,
}
NUMBER = (int, float, complex)


def arith(op, a, b):
    fn = BINOPS.get(type(op))
    if fn is None:
        return UNKNOWN
    ok = (isinstance(a, NUMBER) and isinstance(b, NUMBER)) or (
        type(op) is cst.Add and type(a) is type(b) and isinstance(a, (str, tuple, list))) or (
        type(op) is cst.Multiply and isinstance(a, (tuple, list, str)) and isinstance(b, int)
        and 0 <= b <= 64)
    if not ok or not _small_result(op, a, b):
        return UNKNOWN
    try:
        return capped(fn(a, b))
    except Exception:  # noqa: BLE001 - e.g. division by zero: not known statically
        return UNKNOWN


def _small_result(op, a, b) -> bool:
    """Whether `a op b` stays within the caps, judged before computing it."""
    t = type(op)
    if isinstance(a, (str, bytes, tuple, list)):  # concatenation or repetition
        size = len(a) + len(b) if t is cst.Add else len(a) * b
        return size <= MAX_ITEMS
    if type(a) is int and type(b) is int:
        if t is cst.Multiply:
            return a.bit_length() + b.bit_length() <= MAX_INT_BITS
        if t is cst.Power:
            return b < 0 or a in (-1, 0, 1) or a.bit_length() * b <= MAX_INT_BITS
    return True


MAX_UNROLL = 32  # a loop over known layer objects
MAX_UNROLL_COUNT = 16  # a loop with a known count (range(n), a known list)
MAX_UNROLL_WORK = 64  # body runs of nested unrolled loops, all together
BUILTINS = frozenset({"len", "range", "enumerate", "zip", "list", "tuple", "reversed", "int",
                      "float", "str", "bool", "abs", "round", "min", "max", "sum"})


def builtin(name: str, args: list) -> Any:
    """A builtin applied to known values (the name not rebound); UNKNOWN otherwise."""
    seqs = (tuple, list, str, range)
    if not all(small(a) for a in args):
        return UNKNOWN  # e.g. sum(range(10**15)), enumerate(range(10**10))
    try:
        if name == "range":
            if 1 <= len(args) <= 3 and all(type(a) is int for a in args):
                return capped(range(*args))
            return UNKNOWN
        if name in ("enumerate", "zip"):
            iterables = args[:1] if name == "enumerate" else args
            if not args or not all(isinstance(a, seqs) for a in iterables):
                return UNKNOWN
            if name == "enumerate":
                start = args[1] if len(args) > 1 and type(args[1]) is int else 0
                return list(enumerate(args[0], start))
            return list(zip(*args))
        if name in ("list", "tuple", "reversed"):
            if len(args) != 1 or not isinstance(args[0], seqs):
                return UNKNOWN
            seq = list(args[0]) if name != "reversed" else list(reversed(args[0]))
            return capped(tuple(seq) if name == "tuple" else seq)
        if not args or not all(known_const(a) or isinstance(a, range) for a in args):
            return UNKNOWN
        if name == "sum" and not all(isinstance(a, NUMBER) for a in _items(args[0])):
            return UNKNOWN  # sum of lists or tuples: quadratic concatenation
        if name == "round" and len(args) == 2 and not -400 <= args[1] <= 400:
            return UNKNOWN
        fn = {"len": len, "int": int, "float": float, "str": str, "bool": bool, "abs": abs,
              "round": round, "min": min, "max": max, "sum": sum}[name]
        return capped(fn(*args))
    except Exception:  # noqa: BLE001 - whatever fails at run time is not known statically
        return UNKNOWN


def _items(value) -> tuple | list | range | str:
    return value if isinstance(value, (tuple, list, range, str)) else ()


def holds_layer(value) -> bool:
    if isinstance(value, (LayerObj, SeqModel, FuncModel)):
        return True
    if isinstance(value, Instance):
        return value.layer is not None or bool(value.cls.keras)
    if isinstance(value, tuple):
        return any(holds_layer(v) for v in value)
    return False


def known_const(value) -> bool:
    if isinstance(value, CONST_TYPES):
        return True
    if isinstance(value, (tuple, list)):
        return small(value) and all(known_const(v) for v in value)
    return False
