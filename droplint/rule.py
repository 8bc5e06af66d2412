"""The base of every rule, and the context a rule sees.

A rule is one small class (see rules/): code, name, severity, fix safety, a docstring with the
doc sections of RULES/ruff (What it does / Why is this bad? / Fix safety / References), and
BAD / GOOD source examples. The examples are the rule's tests (tests/test_rule_examples.py)
and its doc's Example / Use instead. `check(ctx)` yields findings; it sees only the Graph.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import ClassVar, Iterable

from .graph import Graph, Layer, Node, Span
from .keras_version import KerasVersion
from .report import Finding, Fix, Severity
from .semantics import Mask

DOC_SECTIONS = ("What it does", "Why is this bad?", "Fix safety", "References")


class Invalid(str):
    """A BAD example with its expected result pinned, as Fixit's `Invalid(code, range,
    expected_message, expected_replacement)`: `line`, the line where the rule's first finding
    (in report order) starts; `count`, how many findings of the rule; `message`, a fragment of
    that first finding's message; `fixed`, the text after `--select CODE --fix` (with
    `--unsafe-fixes` for an unsafe fix), None where the rule offers no fix; `keras`, the
    keras-version when not the rule's EXAMPLE_KERAS; `severity`, when not the rule's default.
    It is the example's source text itself (a str), so code reading BAD as sources and
    `droplint rule CODE` see plain code. tests/test_rule_examples.py checks all of it."""

    line: int
    count: int
    message: str
    fixed: str | None
    keras: str | None
    severity: str | None

    def __new__(cls, source: str, *, line: int, message: str, count: int = 1,
                fixed: str | None = None, keras: str | None = None,
                severity: str | None = None) -> Invalid:
        self = super().__new__(cls, source)
        self.line, self.count, self.message = line, count, message
        self.fixed, self.keras, self.severity = fixed, keras, severity
        return self

    @property
    def source(self) -> str:
        return str.__str__(self)


@dataclass(slots=True, eq=False)
class SiteInfo:
    """A dropout site as rules see it: the node, which argument (None for a layer), its mask."""

    id: int
    node: Node
    argument: str | None
    mask: Mask
    rate: object  # float or UNKNOWN
    copies: int = 1  # identical sites (every reported field) it stands for (engine.run)


@dataclass(slots=True)
class Context:
    graph: Graph
    keras: KerasVersion
    sites: list[SiteInfo] = field(default_factory=list)

    _by_node: dict | None = field(default=None, repr=False)

    def site_of(self, node: Node, argument: str | None = None) -> SiteInfo | None:
        if self._by_node is None:  # rules ask once per site: index, not a scan each time
            self._by_node = {(id(s.node), s.argument): s for s in self.sites}
        return self._by_node.get((id(node), argument))

    def report(self, rule: Rule, node: Node | Layer, message: str, *,
               argument: str | None = None, span: Span | None = None,
               severity: Severity | None = None, fix: Fix | None = None,
               site: SiteInfo | None = None, help: str | None = None) -> Finding:
        """A finding located at the layer's constructor, or at keyword `argument` of it.
        `message`: one sentence, what is wrong here, with the numbers; `help`: why, and what
        to write instead."""
        layer = node.layer if isinstance(node, Node) else node
        origin = layer.origin
        if span is None and argument is not None:
            span = origin.arg_spans.get(argument) or _inner_arg_span(layer, argument)
        if span is None:
            span = origin.span
        return rule.finding_at(origin.path, message, span, severity=severity, fix=fix,
                               layer=layer.kind, site=site.id if site else None,
                               layer_name=origin.layer_name, help=help)


def _inner_arg_span(layer: Layer, argument: str) -> Span | None:
    inner = layer.inner
    while inner is not None:
        if argument in inner.origin.arg_spans:
            return inner.origin.arg_spans[argument]
        inner = inner.inner
    return None


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    fix_safety: ClassVar[str | None] = None  # "safe" | "unsafe" | None (no automatic fix)
    summary: ClassVar[str]  # one line: what fires it
    BAD: ClassVar[tuple[str, ...]] = ()  # sources on which the rule must fire (Invalid: pinned)
    GOOD: ClassVar[tuple[str, ...]] = ()  # sources on which it must not
    EXAMPLE_KERAS: ClassVar[str] = "3"  # keras-version the examples assume
    loader_only: ClassVar[bool] = False  # DL900/DL901: emitted by loaders, cannot be ignored

    def check(self, ctx: Context) -> Iterable[Finding]:
        return ()

    @classmethod
    def finding_at(cls, path: str, message: str, span: Span | None = None, *,
                   severity: Severity | None = None, fix: Fix | None = None,
                   layer: str | None = None, site: int | None = None,
                   layer_name: str | None = None, help: str | None = None) -> Finding:
        """The one way a finding is made, whatever emits it: rules (through Context.report),
        the parser (DL900), the model loader (DL901), the probe (DL902), unused-noqa (DL910).
        The code, name and default severity are the rule's; `span` None: no position."""
        return Finding(
            code=cls.code, name=cls.name, severity=severity or cls.severity, path=path,
            line=span.line if span else None, column=span.column if span else None,
            end_line=span.end_line if span else None,
            end_column=span.end_column if span else None,
            message=message, layer=layer, site=site, fix=fix, layer_name=layer_name,
            help=help)

    @classmethod
    def doc(cls) -> str:
        """The rule's documentation in markdown, as `droplint rule CODE` prints it."""
        body = inspect.cleandoc(cls.__doc__ or "")
        head, sep, tail = body.partition("## Fix safety")
        parts = [f"# {cls.name} ({cls.code})", "",
                 f"Severity: {cls.severity.value}. Fix: {cls.fix_safety or 'none'}.", "",
                 head.rstrip(), ""]
        if cls.BAD:
            parts += ["## Example", "```python", cls.BAD[0].strip("\n"), "```", ""]
        if cls.GOOD:
            parts += ["## Use instead", "```python", cls.GOOD[0].strip("\n"), "```", ""]
        if sep:
            parts += [(sep + tail).strip(), ""]
        return "\n".join(parts)
