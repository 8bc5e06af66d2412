"""Statements and control flow, interpreted abstractly.

Both branches of an undecided `if` run from the same state and their bindings merge; a decided
condition runs only its branch. Loops with a known count are unrolled (a large one as the first
iteration plus one standing for the rest), others run once and merge with the state before the
loop. `try`, `with` and `match` run their blocks as alternatives. `def` and `class` record user
functions and classes (user_code.py analyzes them where called, or at the end).
"""
from __future__ import annotations

import libcst as cst

from ...graph import UNKNOWN
from ..keras_names import classify, keras_api
from .keras_calls import Alternatives, arms_of
from ..values import (MAX_UNROLL, MAX_UNROLL_COUNT, MAX_UNROLL_WORK, MISSING, Frame, QName, Scope,
                      SeqModel, Tensor, UserClass, UserFunc, arith, holds_layer, known_const,
                      merge)
from .syntax import has_jump, names_in, negates_training, terminates


REMOVED_LAYERS = {"CuDNNLSTM": "LSTM", "CuDNNGRU": "GRU"}  # gone in Keras 3 -> what replaced it


def merge_names(a, b):
    """The value of a name after two branches (values.merge), except that a removed CuDNN
    class and the layer that replaced it (`if gpus: from keras.layers import CuDNNLSTM as
    LSTM` / `else: from keras.layers import LSTM`) merge to the current one: what the name
    builds is analyzed as LSTM, and DL303 reports the conditional import."""
    if isinstance(a, QName) and isinstance(b, QName) and a.path != b.path:
        last_a, last_b = a.path.rpartition(".")[2], b.path.rpartition(".")[2]
        if REMOVED_LAYERS.get(last_a) == last_b and keras_api(b.path):
            return b
        if REMOVED_LAYERS.get(last_b) == last_a and keras_api(a.path):
            return a
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.shape != b.shape \
            and a.shape is not None and b.shape is not None and len(a.shape) == len(b.shape):
        # two tensors of one known rank (`Dense(...)(x)` / `MaxoutDense(...)(x)`): no edge
        # when the producers differ, but the rank stays, and the sizes both arms agree on
        common = tuple(d if d == e else None for d, e in zip(a.shape, b.shape))
        if a.node is b.node:
            return Tensor(a.node, common)
        return _alternatives(a, b, common)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.node is not b.node:
        return _alternatives(a, b, merge(a, b).shape)
    return merge(a, b)


def _alternatives(a, b, shape):
    """Two tensors from different producers: no edge, but the producers are remembered
    (shape only: engine fills the consumer's rank when every arm ends with one rank)."""
    arms_a, arms_b = arms_of(a), arms_of(b)
    if arms_a is None or arms_b is None:
        return Tensor(None, shape)
    return Alternatives(shape, tuple(dict.fromkeys(arms_a + arms_b)))


class Statements:
    """Statements: `stmt` runs one, `block` a list; True when it ends in return/raise."""

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
        early_exit = self.frame.in_call and negates_training(node.test)
        # Decided by default parameter values only: the branch the defaults exclude runs with
        # those parameters unknown (a caller passed something else), the other as usual.
        defaults = self.defaults_in(node.test) if known_const(test) else ()
        then = self.without(defaults if not test else (), lambda: self.body(node.body))
        other = self.without(defaults if test else (), lambda: self.run_orelse(node.orelse))
        branches = [lambda: self.guarded(node.test, then), other]
        ended = self.alternatives(branches)
        if early_exit and terminates(node.body):
            self.frame.guarded_rest = True  # `if not training: return x`: the rest trains
        return ended

    def defaults_in(self, test_node) -> list[str]:
        soft = self.frame.soft
        return [n for n in names_in(test_node) if n in soft] if soft else []

    def without(self, names, fn):
        """`fn` run with `names` unknown; those it does not rebind get their value back."""
        if not names:
            return fn
        def run():
            scope = self.frame.scope.vars
            saved = {n: scope.get(n, UNKNOWN) for n in names}
            for n in names:
                scope[n] = UNKNOWN
            ended = fn()
            for n, value in saved.items():
                if self.frame.scope.vars.get(n) is UNKNOWN:
                    self.frame.scope.vars[n] = value
            return ended
        return run

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
                vars_[k] = merge_names(vars_.get(k, MISSING), other[0].get(k, MISSING))
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
        if count and not has_jump(node.body):
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
