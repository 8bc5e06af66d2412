"""The Loader: the analysis state and the driver of one pass over a module.

`Loader` combines the parts of the interpretation (one mixin per module, read in this order):
statements.py (statements and control flow), names.py (imports and binding), expressions.py
(expressions to abstract values), keras_calls.py (Keras constructors and layer applications),
models.py (Sequential and functional models, method calls), user_code.py (user functions and
classes, inlined where called), spans.py (positions of what is reported). All of them work on
the state set up here; `run` reads the module's statements in order, then what was never
reached through a call (deferred functions and classes), marks the models' outputs and fills
the positions.
"""
from __future__ import annotations

import libcst as cst

from ...graph import Graph, Layer, Node
from ..values import Frame, Instance, Scope, SeqModel, Tensor, UserClass, UserFunc
from .expressions import Expressions
from .idioms import tf1_idioms
from .keras_calls import KerasCalls
from .models import Models
from .names import Names
from .spans import Spans
from .statements import Statements
from .syntax import called_names, source_order
from .user_code import UserCode


def layer_signature(layer: Layer) -> tuple | None:
    """What makes two Layers copies of one: the same constructor call (position), kind,
    arguments and wrapped layer. None without a position (never a copy)."""
    span = layer.origin.span
    if span is None:
        return None
    inner = layer_signature(layer.inner) if layer.inner is not None else None
    return (layer.kind, span, repr(sorted(layer.args.items(), key=lambda kv: kv[0])), inner)


class Loader(Statements, Names, Expressions, KerasCalls, Models, UserCode, Spans):
    """The analysis of one module. The state below is shared by every part (mixin)."""

    MAX_DEPTH = 12  # nested inlined user-function calls
    MAX_INLINE = 4  # calls of one function analyzed with their arguments (each builds anew)

    def __init__(self, text: str, path: str):
        self.text = text
        self.graph = Graph(path)
        self.path = path
        self.wanted: dict[int, cst.CSTNode] = {}
        # Nodes awaiting positions (filled by spans.py after the pass):
        self.unplaced_layers: list[tuple] = []  # (origin, call, name, {kw: Arg}, inner Arg)
        self.unplaced_call_args: list[tuple] = []  # (node, {kw: Arg})
        self.unplaced_calls: list[tuple] = []  # (FunctionCall, call)
        self.unplaced_imports: list[tuple] = []  # (ImportedName, name node, statement)
        self.models: list = []
        self.classes: list[UserClass] = []
        self.funcs: list[UserFunc] = []
        self.depth = 0
        self.api_votes: dict[str, int] = {}
        self.frame = self.root_frame = Frame(Scope())
        self.notes: set[str] = set()
        self.memo: dict | None = None  # constructor call -> [LayerObj] while unrolling loops
        self.unroll_budget = 1  # body runs per run of the innermost unrolled loop body
        self.super_calls: list | None = None  # super().__init__ arguments (construct_subclass)
        self.top = 0  # the module-level statement being analyzed
        self.cur_stmt = None  # the innermost statement being analyzed (for positions)
        self.calls: list[tuple] = []  # (wanted call, its statement)
        self.imports: list[tuple] = []  # (wanted ImportFrom, name node)
        self.last_top = -1  # the last module-level statement holding a wanted node
        self.inlined_layers: list[Layer] = []  # blocks' opaque layers where call() was inlined
        self.called_cache: dict[int, set[str]] = {}  # id(UserFunc) -> names its body calls
        self.partial_lists: dict[int, tuple] = {}  # list display -> (head, tail) (elements)

    # -- driver ---------------------------------------------------------------------------

    def run(self, module: cst.Module) -> Graph:
        for self.top, stmt in enumerate(module.body):
            try:
                if self.stmt(stmt):
                    break
            except RecursionError:
                self.too_deep()
        try:
            self.finish_deferred()
        except RecursionError:
            self.too_deep()
        self.drop_inlined_layers()
        self.mark_outputs()
        try:
            self.fill_positions(module)
        except RecursionError:
            self.too_deep()
        self.drop_copies()
        g = self.graph
        g.layers.sort(key=source_order)  # analysis order differs (deferred functions)
        g.calls.sort(key=source_order)
        if self.api_votes:
            g.api = max(self.api_votes, key=lambda k: self.api_votes[k])
        g.notes.extend(sorted(self.notes))
        g.idioms = tf1_idioms(self.text)
        return g

    def drop_copies(self):
        """Each site once: a function called several times with the same arguments, or a
        loop, builds identical copies (same constructor call, arguments, inputs, shapes);
        keep the first copy of each node and layer, counting in `Node.copies` how many it
        stands for. A loop unrolled with the same constructor call reuses one Layer object,
        so an identical application of the same object is a copy too; a layer object
        applied to different inputs stays two nodes."""
        g = self.graph
        canon: dict[int, Node] = {}
        seen: dict[tuple, Node] = {}
        kept, copies = [], 0
        for n in g.nodes:
            if canon:
                n.inputs = [canon.get(id(i), i) for i in n.inputs]
            sig = layer_signature(n.layer)
            key = (sig, tuple(id(i) for i in n.inputs), n.input_shape, n.output_shape,
                   repr(sorted(n.call_args.items())), n.context)
            first = seen.get(key) if sig is not None else None
            if first is not None:
                canon[id(n)] = first
                first.model_output = first.model_output or n.model_output
                first.copies += n.copies
                copies += 1
                continue
            seen.setdefault(key, n)
            kept.append(n)
        applied = {id(n.layer) for n in kept}
        known = {layer_signature(lay) for lay in g.layers if id(lay) in applied}
        layers = []
        for lay in g.layers:
            sig = layer_signature(lay)
            if id(lay) not in applied and sig is not None and sig in known:
                continue  # a copy built again, or one whose nodes were copies
            known.add(sig)
            layers.append(lay)
        calls, seen_calls = [], set()
        for c in g.calls:
            key = (c.func, c.span, c.in_call, c.guarded)
            if c.span is None or key not in seen_calls:
                seen_calls.add(key)
                calls.append(c)
        if copies or len(layers) < len(g.layers) or len(calls) < len(g.calls):
            self.notes.add("layers that a function builds identically at several calls are "
                           "reported once")
        g.nodes, g.layers, g.calls = kept, layers, calls
        g._consumers = None

    def too_deep(self):
        self.frame = self.root_frame
        self.depth = 0
        self.notes.add("some code is nested too deeply to analyze; it was skipped")

    def drop_inlined_layers(self):
        """A block applied only through its call() (inlined) is no layer of its own."""
        if not self.inlined_layers:
            return
        applied = {id(n.layer) for n in self.graph.nodes}
        gone = {id(lay) for lay in self.inlined_layers if id(lay) not in applied}
        self.graph.layers = [lay for lay in self.graph.layers if id(lay) not in gone]

    def finish_deferred(self):
        """Analyze what was never reached through a call: functions (which may instantiate
        classes and so tell their arguments), classes, then functions their methods define.
        A block not instantiated yet waits for the other classes: one of them may build and
        apply it (inlined there; reading it first would build its layers twice)."""
        self.deferred_functions()
        waiting = []
        for cls in self.classes:
            if cls.is_block and not cls.instances:
                waiting.append(cls)
            else:
                self.analyze_class(cls)
        for cls in waiting:
            self.analyze_class(cls)
        self.deferred_functions()

    def deferred_functions(self):
        """Functions never called, read with their default values: callers first, so that a
        helper that another never-called function calls is read there, with the arguments
        it gets (read on its own, its parameters would be unknown: a second, unknown copy
        of every site it builds); then whatever is still not read."""
        for callers_first in (True, False):
            i = 0
            while i < len(self.funcs):  # analyzing a function may define nested ones
                func = self.funcs[i]
                i += 1
                if func.done or callers_first and self.called_by_waiting(func):
                    continue
                self.invoke(func, [], None, deferred=True)

    def called_by_waiting(self, func) -> bool:
        """Whether another function not read yet calls `func` by name."""
        name = func.node.name.value
        for other in self.funcs:
            if other is not func and not other.done and name in self.calls_of(other):
                return True
        return False

    def calls_of(self, func) -> set[str]:
        cache = self.called_cache
        if id(func) not in cache:
            cache[id(func)] = called_names(func.node.body)
        return cache[id(func)]

    def analyze_class(self, cls: UserClass):
        """Methods in the order Keras runs them. `__init__` gets the arguments of the only
        instantiation (defaults otherwise); `call` the input shape all uses agree on."""
        order = ["__init__", "build", "call"]
        order += [n for n in cls.methods if n not in order]
        self_obj = cls.instances[0] if len(cls.instances) == 1 else Instance(cls)
        shapes = cls.input_shapes
        shape = shapes[0] if shapes and all(s == shapes[0] for s in shapes) else None
        for name in order:
            func = cls.methods.get(name)
            if func is None or func.done:
                continue
            if name == "__init__" and len(cls.inits) == 1:
                self.initialize(self_obj)
                continue
            result = self.invoke(func, [], self_obj, deferred=True, input_shape=shape)
            if name == "call":
                cls.returns.append(result)

    def mark_outputs(self):
        for model in self.models:
            if model.sub:
                continue
            if isinstance(model, SeqModel):
                if isinstance(model.last, Tensor) and model.last.node is not None:
                    model.last.node.model_output = True
            else:
                for t in self.tensors(model.outputs):
                    if t.node is not None:
                        t.node.model_output = True
        for cls in self.classes:
            if cls.is_model and not cls.sub:
                for value in cls.returns:
                    for t in self.tensors(value):
                        if t.node is not None:
                            t.node.model_output = True
                # Called in a functional graph: an output unless something consumes it.
                for value in cls.inlined:
                    for t in self.tensors(value):
                        if t.node is not None and not self.graph.consumers(t.node):
                            t.node.model_output = True
