"""The source loader: Python text -> Graph, by reading (never running) the code.

One pass over the libcst tree interprets the statements abstractly (no metadata providers):
names are bound to plain values (constants, imported dotted names, layer objects, symbolic
tensors, models; see values.py), so that `x = layers.Dropout(0.3)(x)` becomes a Layer, a
Node and an edge. Whatever cannot be known statically is UNKNOWN and never guessed: an
ambiguous producer gives no edge. Control flow: both branches of an unknown condition run
and their bindings merge; a loop with a known count is unrolled (a large one runs twice: the
first iteration, then one standing for the rest), one with an unknown count runs once; a
user function is inlined at each call with its arguments (up to MAX_INLINE), and one never
called is read at the end with its default values; a subclassed model called in a
functional graph, and a subclass of plain `Layer` (a block) wherever it is applied, are
inlined there (`__init__` once per instance, `build`, then `call` on the actual inputs); other
classes are read at the end, `__init__` with the arguments of their only instantiation, `call`
with the input shape their uses agree on.

Positions (1-based, end exclusive, columns in characters) are computed after the pass, only
for the nodes reported (positions.py says how, and why that way).
"""
from __future__ import annotations

import ast
import re
from typing import Any

import libcst as cst

from ..graph import UNKNOWN, FunctionCall, Graph, ImportedName, Layer, Node, Origin, Span
from ..shapes import input_layer_shape, input_shape_from_args, output_shape
from . import SourceError
from .keras_names import (CALL_PARAMS, LAYER_NAMES, MULTI_INPUT, SENSITIVE, SIGNATURES,
                          STATE_COUNT, WRAPPERS, classify, keras_api)
from .positions import Positions, locate
from .values import (ALWAYS, BUILTINS, COMPARE, CONST_TYPES, MAX_UNROLL, MAX_UNROLL_COUNT,
                     MAX_UNROLL_WORK, MISSING, NUMBER, START, SUPER, TRAINING, Bound, Frame,
                     FuncModel, Instance, LayerObj, QName, Scope, SeqModel, Tensor, UserClass,
                     UserFunc, arith, builtin, holds_layer, known_const, merge, plain)


# ---------------------------------------------------------------------------------------------
# Small syntax helpers.

def dotted(node) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return None if head is None else head + "." + node.attr.value
    return None


def mentions_training(node) -> bool:
    """Whether an expression reads a name or attribute called `training`."""
    if isinstance(node, cst.Name):
        return node.value == "training"
    if isinstance(node, cst.Attribute):
        return node.attr.value == "training" or mentions_training(node.value)
    return any(mentions_training(c) for c in node.children)


_KEYWORD = re.compile(r"\w+\s*=\s*")
_TRAILING_COMMA = re.compile(r"[ \t]*,")
_LINE_REST = re.compile(r"[ \t]*,?[ \t]*(#[^\n]*)?\n")


def names_in(node) -> list[str]:
    if isinstance(node, cst.Name):
        return [node.value]
    return [n for c in node.children for n in names_in(c)]


def _literal_string(node: cst.SimpleString):
    raw = node.value
    prefix = node.prefix.lower()
    if "b" in prefix:
        return UNKNOWN
    if prefix in ("", "u") and "\\" not in raw:
        quote = 3 if raw[-3:] in ('"""', "'''") and len(raw) >= 6 + len(prefix) else 1
        return raw[len(prefix) + quote:-quote]
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return UNKNOWN


def _negates_training(test) -> bool:
    """`not training`, `training is False/None`, `training == False`: true at inference."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return mentions_training(test.expression)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        value = target.comparator
        return isinstance(target.operator, (cst.Is, cst.Equal)) and \
            isinstance(value, cst.Name) and value.value in ("False", "None") and \
            mentions_training(test.left)
    return False


def _terminates(body) -> bool:
    """Whether a block ends with return/raise (a branch that does not fall through)."""
    stmts = body.body
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, cst.SimpleStatementLine) or isinstance(body, cst.SimpleStatementSuite):
        smalls = last.body if isinstance(last, cst.SimpleStatementLine) else stmts
        return bool(smalls) and isinstance(smalls[-1], (cst.Return, cst.Raise))
    return False


def _has_jump(node) -> bool:
    """Whether a loop body may leave an iteration early (break/continue), nested loops and
    definitions aside."""
    if isinstance(node, (cst.Break, cst.Continue)):
        return True
    if isinstance(node, (cst.For, cst.While, cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        return False
    if isinstance(node, cst.BaseExpression):
        return False
    return any(_has_jump(c) for c in node.children)


def hide(args: dict):
    """`**kwargs` we cannot see may set any argument that matters: those become unknown."""
    for key in SENSITIVE["dropout_layer"] + SENSITIVE["rnn"]:
        args.setdefault(key, UNKNOWN)


def _same(a: dict, b: dict) -> bool:
    """Equal constructor arguments (True and 1 differ)."""
    return a.keys() == b.keys() and all(
        a[k] == b[k] and type(a[k]) is type(b[k]) for k in a)


_POSITIONAL = cst.Arg(cst.Name("inputs"))  # an argument passed by position, for invoke


def _traced(value, values) -> bool:
    """Whether a call() result is made of tensors whose producers are known (a tensor, or a
    tuple/list/dict of them); a tensor of unknown producer only when it is an argument as
    passed (`return x`). A merge of branches (an unknown producer) is not traced."""
    if isinstance(value, Tensor):
        return value.node is not None or any(value is v for _, v in values)
    items = value.values() if isinstance(value, dict) else value
    return isinstance(value, (tuple, list, dict)) and bool(value) and \
        all(_traced(v, values) for v in items)


def _source_order(item) -> tuple:
    span = item.origin.span if isinstance(item, Layer) else item.span
    return (0, span.line, span.column) if span is not None else (1, 0, 0)


# ---------------------------------------------------------------------------------------------
# The loader.

class Loader:
    MAX_DEPTH = 12  # nested inlined user-function calls
    MAX_INLINE = 4  # calls of one function analyzed with their arguments (each builds anew)

    def __init__(self, text: str, path: str):
        self.text = text
        self.graph = Graph(path)
        self.path = path
        self.wanted: dict[int, cst.CSTNode] = {}
        self.layer_sites: list[tuple] = []  # (origin, call, inner_value_node)
        self.call_sites: list[tuple] = []  # (node, {kw: Arg})
        self.func_sites: list[tuple] = []  # (FunctionCall, call)
        self.import_sites: list[tuple] = []  # (ImportedName, name node, statement)
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
        g = self.graph
        g.layers.sort(key=_source_order)  # analysis order differs (deferred functions)
        g.calls.sort(key=_source_order)
        if self.api_votes:
            g.api = max(self.api_votes, key=lambda k: self.api_votes[k])
        g.notes.extend(sorted(self.notes))
        return g

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
        i = 0
        while i < len(self.funcs):  # analyzing a function may define nested ones
            func = self.funcs[i]
            i += 1
            if not func.done:
                self.invoke(func, [], None, deferred=True)

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

    # -- statements -----------------------------------------------------------------------

    def block(self, stmts) -> bool:
        """Run statements; True when the block ends in return/raise on every path."""
        for stmt in stmts:
            if self.stmt(stmt):
                return True
        return False

    def body(self, suite) -> bool:
        return self.block(suite.body)

    def stmt(self, node) -> bool:
        t = type(node)
        if t is cst.SimpleStatementLine:
            for small in node.body:
                self.cur_stmt = small
                if self.small(small):
                    return True
            return False
        handler = self.COMPOUND.get(t)
        if handler is None:
            return False
        self.cur_stmt = node
        return handler(self, node)

    def small(self, node) -> bool:
        t = type(node)
        if t is cst.Expr:
            if type(node.value) is not cst.SimpleString:  # docstrings
                self.eval(node.value)
        elif t is cst.Assign:
            value = self.eval(node.value)
            for target in node.targets:
                self.bind(target.target, value)
        elif t is cst.AnnAssign:
            if node.value is not None:
                self.bind(node.target, self.eval(node.value))
        elif t is cst.AugAssign:
            self.bind(node.target, self.augment(node))
        elif t is cst.Return:
            self.frame.returns.append(None if node.value is None else self.eval(node.value))
            return True
        elif t is cst.Raise:
            if node.exc is not None:
                self.eval(node.exc)
            return True
        elif t is cst.Import:
            self.do_import(node)
        elif t is cst.ImportFrom:
            self.do_import_from(node)
        elif t is cst.Assert:
            self.eval(node.test)
        return False

    def augment(self, node: cst.AugAssign):
        op = {cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract,
              cst.MultiplyAssign: cst.Multiply, cst.DivideAssign: cst.Divide,
              cst.FloorDivideAssign: cst.FloorDivide}.get(type(node.operator))
        target, value = self.eval(node.target), self.eval(node.value)
        if op is None:
            return UNKNOWN
        return arith(op(), target, value)

    def decided(self, test_node, value) -> bool:
        """Whether a condition is statically known. A default parameter value is not enough:
        a caller we cannot see may pass another."""
        if not known_const(value):
            return False
        soft = self.frame.soft
        return not soft or not any(n in soft for n in names_in(test_node))

    def do_if(self, node: cst.If) -> bool:
        self.cur_stmt = node  # also for `elif`
        test = self.eval(node.test)
        if self.decided(node.test, test):
            # A statically known condition: only the branch taken runs.
            if test:
                return self.body(node.body)
            return self.run_orelse(node.orelse)
        early_exit = self.frame.in_call and _negates_training(node.test)
        branches = [lambda: self.guarded(node.test, lambda: self.body(node.body))]
        branches.append(lambda: self.run_orelse(node.orelse))
        ended = self.alternatives(branches)
        if early_exit and _terminates(node.body):
            self.frame.guarded_rest = True  # `if not training: return x`: the rest trains
        return ended

    def run_orelse(self, orelse) -> bool:
        if orelse is None:
            return False
        if isinstance(orelse, cst.If):
            return self.do_if(orelse)
        return self.body(orelse.body)

    def guarded(self, test, fn):
        self.frame.guards.append(test)
        try:
            return fn()
        finally:
            self.frame.guards.pop()

    def snapshot(self):
        frame = self.frame
        models = [(m, m.last) for m in self.models if isinstance(m, SeqModel)]
        attrs = dict(frame.self_obj.attrs) if frame.self_obj is not None else None
        return dict(frame.scope.vars), models, attrs

    def restore(self, snap):
        vars_, models, attrs = snap
        self.frame.scope.vars = dict(vars_)
        for m, last in models:
            m.last = last
        if attrs is not None:
            self.frame.self_obj.attrs = dict(attrs)

    def alternatives(self, branches, prefer_imports=False) -> bool:
        """Run branches from the same state; merge the states of those that fall through."""
        start = self.snapshot()
        outcomes = []
        for i, branch in enumerate(branches):
            if i:
                self.restore(start)
            ended = branch()
            if not ended:
                outcomes.append(self.snapshot())
        if not outcomes:
            return True
        self.merge_states(outcomes, start)
        if prefer_imports:  # `try: import tensorflow as tf / except ImportError: tf = None`
            merged = self.frame.scope.vars
            for k, v in outcomes[0][0].items():
                if isinstance(v, QName) and merged.get(k) is UNKNOWN:
                    merged[k] = v
        return False

    def merge_states(self, outcomes, start):
        vars_ = dict(outcomes[0][0])
        for other in outcomes[1:]:
            for k in set(vars_) | set(other[0]):
                vars_[k] = merge(vars_.get(k, MISSING), other[0].get(k, MISSING))
        self.frame.scope.vars = vars_
        for i, (m, _) in enumerate(start[1]):
            last = outcomes[0][1][i][1]
            for other in outcomes[1:]:
                if other[1][i][1] is not last:
                    last = merge(last, other[1][i][1]) if isinstance(last, Tensor) else UNKNOWN
            m.last = last
        # SeqModels created inside a branch keep their own state.
        if start[2] is not None:
            attrs = dict(outcomes[0][2])
            for other in outcomes[1:]:
                for k in set(attrs) | set(other[2]):
                    attrs[k] = merge(attrs.get(k, MISSING), other[2].get(k, MISSING))
            self.frame.self_obj.attrs = attrs

    def do_loop(self, node) -> bool:
        """Loops. A known iteration count (a range, a known list or tuple) of at most
        MAX_UNROLL_COUNT, with no break/continue, is unrolled: each iteration analyzed in turn,
        so iteration k's output feeds iteration k+1 (a layer built in the body is one Layer per
        distinct arguments; each application is its own Node). A known count above that runs
        the body twice: iteration 1, then one pass standing for every later iteration, fed by
        the first. An unknown count runs the body once and merges with the state before the
        loop (it may not run at all): no edge between iterations is invented."""
        if isinstance(node, cst.While):
            self.eval(node.test)
            return self.loop_once(node, None, UNKNOWN, sure=False)
        iterable = self.eval(node.iter)
        soft = self.frame.soft  # a default parameter value: a caller may pass another
        if not isinstance(iterable, (range, tuple, list, str)) or \
                soft and any(n in soft for n in names_in(node.iter)):
            return self.loop_once(node, node.target, UNKNOWN, sure=False)
        count = len(iterable)
        if count and not _has_jump(node.body):
            budget = self.unroll_budget
            if count <= MAX_UNROLL_COUNT and count * budget <= MAX_UNROLL_WORK or \
                    count <= MAX_UNROLL and any(map(holds_layer, iterable)):
                return self.unroll(node, list(iterable), count)
            if count >= 2 and 2 * budget <= MAX_UNROLL_WORK:
                return self.unroll(node, [iterable[0], UNKNOWN], 2, generic=True)
        item = UNKNOWN
        if iterable:
            first = iterable[0]
            item = first if all(merge(first, v) is first for v in iterable) else UNKNOWN
        return self.loop_once(node, node.target, item, sure=count > 0)

    def loop_once(self, node, target, item, sure: bool) -> bool:
        before = self.snapshot()
        if target is not None:
            self.bind(target, item)
        built = len(self.graph.nodes) + len(self.graph.layers)
        ended = self.body(node.body)
        if len(self.graph.nodes) + len(self.graph.layers) > built:
            self.notes.add("layers built or applied in a loop are analyzed for one iteration")
        if not sure:
            after = self.snapshot()
            outcomes = [before] if ended else [before, after]
            self.merge_states(outcomes, before)
        if node.orelse is not None:
            self.body(node.orelse.body)
        return sure and ended

    def unroll(self, node: cst.For, items: list, count: int, generic=False) -> bool:
        """Run the body once per item. `generic`: the second item stands for every iteration
        after the first; what it leaves behind keeps a shape only where it is a fixed point
        (the same as after the first iteration)."""
        outer, budget = self.memo, self.unroll_budget
        self.memo = {} if outer is None else outer
        self.unroll_budget = budget * count
        try:
            states = []
            for item in items:
                self.bind(node.target, item)
                if self.body(node.body):
                    return True
                if generic:
                    states.append(self.snapshot())
        finally:
            self.memo = outer
            self.unroll_budget = budget
        if generic:
            self.widen(states[0], states[1])
        if node.orelse is not None:
            return self.body(node.orelse.body)
        return False

    def widen(self, first, later):
        """After a loop analyzed as iteration 1 + a generic later iteration: a tensor whose
        shape differs between the two states keeps its producer but not its shape."""
        vars_ = self.frame.scope.vars
        for k, v in later[0].items():
            if isinstance(v, Tensor) and v.shape is not None:
                old = first[0].get(k)
                if not isinstance(old, Tensor) or old.shape != v.shape:
                    vars_[k] = Tensor(v.node, None)
        for (m, last), (_, old) in zip(later[1], first[1]):
            if isinstance(last, Tensor) and m.last is last and \
                    (not isinstance(old, Tensor) or old.shape != last.shape):
                m.last = Tensor(last.node, None)

    def do_try(self, node) -> bool:
        branches = [lambda: self.body(node.body)]
        for handler in node.handlers:
            branches.append(lambda h=handler: self.body(h.body))
        ended = self.alternatives(branches, prefer_imports=True)
        if node.orelse is not None and not ended:
            self.body(node.orelse.body)
        if node.finalbody is not None:
            self.body(node.finalbody.body)
        return ended

    def do_with(self, node) -> bool:
        for item in node.items:
            self.eval(item.item)
            if item.asname is not None:
                self.bind(item.asname.name, UNKNOWN)
        return self.body(node.body)

    def do_match(self, node) -> bool:
        self.eval(node.subject)
        branches = [lambda c=case: self.body(c.body) for case in node.cases]
        branches.append(lambda: False)
        return self.alternatives(branches)

    def do_def(self, node: cst.FunctionDef) -> bool:
        defaults = {}
        for param in self.all_params(node.params):
            if param.default is not None:
                defaults[param.name.value] = self.eval(param.default)
        cls = self.frame.cls if isinstance(self.frame.cls, UserClass) and \
            self.frame.context == "class" else None
        func = UserFunc(node, self.frame.scope if cls is None else self.frame.scope.parent, cls,
                        defaults, self.top)
        func.in_call = cls is None and self.frame.in_call  # a helper defined inside call()
        if cls is not None:
            cls.methods[node.name.value] = func
        else:
            self.funcs.append(func)
            self.frame.scope.vars[node.name.value] = func
        return False

    @staticmethod
    def all_params(params: cst.Parameters):
        out = list(params.posonly_params) + list(params.params)
        if isinstance(params.star_arg, cst.Param):
            out.append(params.star_arg)
        out += list(params.kwonly_params)
        if params.star_kwarg is not None:
            out.append(params.star_kwarg)
        return out

    def do_class(self, node: cst.ClassDef) -> bool:
        bases = [self.eval(arg.value) for arg in node.bases]
        for kw in node.keywords:
            self.eval(kw.value)
        keras, api = None, "keras"
        for base in bases:
            if isinstance(base, UserClass) and base.keras:
                keras = base.keras
                api = base.api
            elif isinstance(base, QName):
                found = classify(base.path)
                if found and found[0] == "model":
                    keras = "Model"
                elif found and found[0] in ("base", "layer"):
                    keras = found[1]
                api = found[2] if found else None
            if keras:
                break
        cls = UserClass(node, node.name.value, bases, keras, self.frame.scope)
        if keras:
            cls.api = api
        self.frame.scope.vars[node.name.value] = cls
        self.classes.append(cls)
        outer = self.frame
        cls.body = Scope(outer.scope)
        self.frame = Frame(cls.body, context="class", cls=cls)
        try:
            self.body(node.body)
        finally:
            self.frame = outer
        return False

    COMPOUND = {
        cst.If: do_if, cst.For: do_loop, cst.While: do_loop, cst.Try: do_try,
        cst.With: do_with, cst.FunctionDef: do_def, cst.ClassDef: do_class,
    }
    if hasattr(cst, "TryStar"):
        COMPOUND[cst.TryStar] = do_try
    if hasattr(cst, "Match"):
        COMPOUND[cst.Match] = do_match

    # -- imports --------------------------------------------------------------------------

    def vote(self, api: str | None):
        if api is not None:
            self.api_votes[api] = self.api_votes.get(api, 0) + 1

    def do_import(self, node: cst.Import):
        for alias in node.names:
            path = dotted(alias.name)
            if path is None:
                continue
            if alias.asname is not None:
                self.bind(alias.asname.name, QName(path))
            else:
                head = path.partition(".")[0]
                self.frame.scope.vars[head] = QName(head)
            api = keras_api(path)
            self.vote(api)
            if path.partition(".")[0] in ("tensorflow", "keras", "tf_keras"):
                asname = alias.asname.name.value if alias.asname and isinstance(
                    alias.asname.name, cst.Name) else None
                self.add_import(node, "", path, asname, alias.name)  # `import tensorflow as tf`

    def do_import_from(self, node: cst.ImportFrom):
        module = dotted(node.module) if node.module is not None else None
        if node.relative or module is None:
            names = node.names
            if not isinstance(names, cst.ImportStar):
                for alias in names:
                    target = alias.asname.name if alias.asname else alias.name
                    if isinstance(target, cst.Name):
                        self.frame.scope.vars[target.value] = QName("." + target.value)
            return
        names = node.names
        is_keras = keras_api(module) is not None or (
            module == "tensorflow" and not isinstance(names, cst.ImportStar)
            and any(dotted(a.name) == "keras" for a in names))
        if is_keras:
            self.vote(keras_api(module) or "tf.keras")
        if isinstance(names, cst.ImportStar):
            if keras_api(module):
                self.frame.scope.star = module
            elif module.partition(".")[0] == "torch":  # defines Dropout, LSTM, ... itself
                self.frame.scope.star = None
            if is_keras:
                self.add_import(node, module, "*", None, names)
            return
        for alias in names:
            name = dotted(alias.name)
            if name is None:
                continue
            asname = alias.asname.name.value if alias.asname and isinstance(
                alias.asname.name, cst.Name) else None
            self.frame.scope.vars[asname or name] = QName(module + "." + name)
            if is_keras:
                self.add_import(node, module, name, asname, alias.name)

    def add_import(self, stmt, module, name, asname, name_node):
        imported = ImportedName(module, name, asname, None, None)
        self.graph.imports.append(imported)
        self.want(stmt, name_node)
        self.imports.append((stmt, name_node))
        self.import_sites.append((imported, name_node, stmt))

    # -- binding --------------------------------------------------------------------------

    def bind(self, target, value):
        t = type(target)
        if t is cst.Name:
            self.frame.scope.vars[target.value] = value
        elif t is cst.Attribute:
            obj = self.eval(target.value)
            if isinstance(obj, Instance):
                obj.attrs[target.attr.value] = value
        elif t is cst.Tuple or t is cst.List:
            elements = target.elements
            starred = any(isinstance(e, cst.StarredElement) for e in elements)
            seq = value if isinstance(value, (tuple, list)) else None
            for i, element in enumerate(elements):
                if isinstance(element, cst.StarredElement):
                    self.bind(element.value, UNKNOWN)
                elif seq is not None and not starred and len(seq) == len(elements):
                    self.bind(element.value, seq[i])
                else:
                    self.bind(element.value, UNKNOWN)
        elif t is cst.Subscript:
            self.eval(target)
        elif t is cst.StarredElement:
            self.bind(target.value, UNKNOWN)

    # -- expressions ----------------------------------------------------------------------

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
        if isinstance(obj, (SeqModel, FuncModel, list, dict)) or obj is SUPER:
            return Bound(obj, attr)
        return UNKNOWN

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
        return _literal_string(node)

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
        out = []
        whole = True
        for element in node.elements:
            value = self.eval(element.value)
            if isinstance(element, cst.StarredElement):
                if isinstance(value, (tuple, list)):
                    out.extend(value)
                else:
                    whole = False
            else:
                out.append(value)
        return out if whole else None

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

    def e_lambda(self, node):
        outer = self.frame
        scope = Scope(outer.scope)
        for param in self.all_params(node.params):
            scope.vars[param.name.value] = UNKNOWN
        saved = outer.scope
        outer.scope = scope
        try:
            self.eval(node.body)
        finally:
            outer.scope = saved
        return UNKNOWN

    def e_comp(self, node):
        outer = self.frame
        saved = outer.scope
        outer.scope = Scope(saved)
        try:
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
        finally:
            outer.scope = saved
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
            if name in BUILTINS and all(not a.star and a.keyword is None for a, _ in values):
                return builtin(name, [v for _, v in values])
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

    # -- calls of Keras things ------------------------------------------------------------

    def keras_call(self, found, node: cst.Call):
        category, name, api = found
        if category == "guard":
            return self.guard_call(name, node)
        values = self.args(node)
        if category == "layer":
            self.vote(api)
            memo = self.memo
            if memo is None:
                return LayerObj(self.construct(name, api, node, values), node)
            # Unrolling a loop: one Layer per distinct arguments of this constructor call.
            args, _, inner, _ = self.map_args(name, values)
            inner = getattr(inner, "layer", None)
            for obj in memo.get(id(node), ()):
                if _same(obj.layer.args, args) and obj.layer.inner is inner:
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
            self.func_sites.append((call, node))
            first = values[0][1] if values else None
            return Tensor(None, first.shape if isinstance(first, Tensor) else None)
        return UNKNOWN

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
                train = false if _negates_training(pred.value) else true
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
                hidden = True
                if isinstance(value, (tuple, list)):
                    for v in value:
                        if position < len(params):
                            args[params[position]] = plain(v)
                        position += 1
                    hidden = False
                else:
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
        self.layer_sites.append((origin, node, name_node, arg_nodes, inner_node))
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
        if call_spans:
            self.call_sites.append((node, call_spans))
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

    def build_model(self, name, api, node, values):
        if name == "Sequential":
            model = SeqModel(node, api)
            model.stmt = self.cur_stmt
            self.models.append(model)
            layers = None
            for arg, value in values:
                if (arg.keyword is None and not arg.star) or \
                        (arg.keyword is not None and arg.keyword.value == "layers"):
                    layers = value
                    break
            if layers is None:
                return model
            if isinstance(layers, (tuple, list)):
                for value in layers:
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
        values = [(_POSITIONAL, value)]
        result = self.inline(obj, values)
        if not isinstance(result, Tensor) or not _traced(result, values):
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
                    isinstance(positional[0], (list, tuple)):
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

    def call_instance(self, obj: Instance, node, values):
        """Calling an instance of a user class. A subclass of plain `Layer` with a `call`
        (a block) is inlined wherever it is applied, and a model subclass called in a
        functional graph: see inline. A block whose call() cannot be traced, and any other
        Keras layer subclass, is applied like a layer (one opaque node); a model elsewhere
        records the input shape it sees."""
        cls = obj.cls
        if cls.is_block and self.frame.context != "class":
            result = self.inline(obj, values)
            if _traced(result, values):
                self.inlined_layers.append(obj.layer)
                return result
        if obj.layer is not None:
            return self.apply(obj.layer, node, values)
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
            self.invoke(build, [(_POSITIONAL, given)], obj)
        return self.invoke(obj.cls.method("call"), values, obj)

    # -- user functions and classes -------------------------------------------------------

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

    # -- positions ------------------------------------------------------------------------

    def want_call(self, call: cst.Call):
        """A call whose position (and its arguments' and callee name's) is reported."""
        if id(call) in self.wanted:
            return
        name = call.func.attr if isinstance(call.func, cst.Attribute) else call.func
        self.want(call, name, call.func, *call.args)
        self.calls.append((call, self.cur_stmt))

    def want(self, *nodes):
        for node in nodes:
            if node is not None:
                self.wanted[id(node)] = node
        self.last_top = max(self.last_top, self.top)

    def fill_positions(self, module: cst.Module):
        if not self.wanted:
            return
        pos: Positions = locate(module, self.text, self.wanted, self.last_top + 1, self.calls,
                                self.imports)
        for origin, call, name_node, arg_nodes, inner_arg in self.layer_sites:
            origin.span = pos.node_span(call)
            origin.name_span = pos.node_span(name_node)
            if origin.callee is not None:
                origin.callee_span = pos.node_span(call.func)
            if inner_arg is not None:
                origin.inner_span = self.value_span(pos, inner_arg)
            args = list(call.args)
            for key, arg in arg_nodes.items():
                self.arg_spans(pos, origin, key, arg, args)
        for node, spans in self.call_sites:
            node.call_spans = {k: pos.node_span(a) for k, a in spans.items()}
        for call, node in self.func_sites:
            call.span = pos.node_span(node)
        for imported, name_node, stmt in self.import_sites:
            imported.span = pos.node_span(name_node)
            imported.statement = pos.node_span(stmt)
            end = pos.offsets(stmt)
            if imported.span is None and imported.name == "*" and end is not None:
                imported.span = pos.span(end[1] - 1, end[1])  # codegen records no `*`

    def value_start(self, pos: Positions, arg: cst.Arg) -> int:
        """Where the value of an argument starts (after `kw=`; parentheses included)."""
        start = pos.offsets(arg)[0]
        if arg.keyword is None:
            return start + len(arg.star)
        match = _KEYWORD.match(self.text, start)
        return match.end() if match else start

    def value_span(self, pos: Positions, arg: cst.Arg) -> Span | None:
        found = pos.offsets(arg)
        return None if found is None else pos.span(self.value_start(pos, arg), found[1])

    def own_lines(self, start: int, end: int) -> tuple[int, int] | None:
        text = self.text
        line_start = text.rfind("\n", 0, start) + 1
        if text[line_start:start].strip():
            return None
        match = _LINE_REST.match(text, end)
        return (line_start, match.end()) if match else None

    def arg_spans(self, pos: Positions, origin: Origin, key, arg, args):
        """`kw=value`, `value`, and `kw=value` with one adjacent comma for removal."""
        found = pos.offsets(arg)
        if found is None:
            return
        start, end = found
        origin.arg_spans[key] = pos.span(start, end)
        origin.arg_value_spans[key] = pos.span(self.value_start(pos, arg), end)
        own_line = self.own_lines(start, end)
        if own_line is not None:  # an argument on lines of its own: remove those lines
            origin.arg_removal_spans[key] = pos.span(*own_line)
            return
        i = next(j for j, a in enumerate(args) if a is arg)
        following = pos.offsets(args[i + 1]) if i + 1 < len(args) else None
        previous = pos.offsets(args[i - 1]) if i > 0 else None
        if following is not None:
            end = following[0]  # `kw=v, ` up to the next argument
        elif previous is not None:
            start = previous[1]  # `, kw=v` after the previous one
        else:  # the only argument: with its trailing comma, if any
            match = _TRAILING_COMMA.match(self.text, end)
            if match:
                end = match.end()
        origin.arg_removal_spans[key] = pos.span(start, end)


def syntax_error(text: str, exc: Exception) -> SourceError:
    """A SourceError for text libcst cannot parse. libcst's native parser often reports 1:1,
    so the position (and wording) come from the stdlib compiler when it agrees."""
    try:
        ast.parse(text)
    except SyntaxError as err:
        return SourceError(f"SyntaxError: {err.msg}", err.lineno or 1, err.offset or 1)
    except (ValueError, MemoryError, RecursionError) as err:
        return SourceError(f"SyntaxError: {err}", 1, 1)
    message = getattr(exc, "message", None) or str(exc)
    return SourceError(f"SyntaxError: {message}", getattr(exc, "editor_line", 1),
                       getattr(exc, "editor_column", 1))


def load(text: str, path: str) -> Graph:
    """Parse Python source and describe the Keras networks it builds. Never executes it."""
    if "\r" in text:
        # Python counts a lone CR (classic Mac) as a line break, as CRLF; give the parsers
        # plain LF so that lines and columns are Python's (one break stays one break).
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        module = cst.parse_module(text)
    except (cst.ParserSyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise syntax_error(text, exc) from None
    return Loader(text, path).run(module)
