"""Runs the selected rules over one Graph: sites first (semantics), then each rule."""
from __future__ import annotations

from typing import Iterable, Sequence

from .graph import UNKNOWN, Graph, known
from .keras_version import KerasVersion
from .report import Finding, Site
from .rule import Context, Rule, SiteInfo
from .semantics import explain, rate_of, rnn_dropout_arguments
from .shapes import infer_from_consumers


def collect_sites(graph: Graph, keras: KerasVersion) -> list[SiteInfo]:
    """Every application of a dropout layer and every non-zero RNN dropout argument."""
    infer_from_consumers(graph)  # ranks from consumers (shapes.py)
    sites: list[SiteInfo] = []
    for node in graph.nodes:
        layer = node.layer
        td_dropout = layer.kind == "TimeDistributed" and layer.inner is not None \
            and layer.inner.is_dropout
        if layer.is_dropout or td_dropout:
            rate = rate_of(layer.inner if td_dropout else layer)
            mask = explain(layer, node.input_shape, keras)
            sites.append(SiteInfo(len(sites), node, None, mask, rate))
        elif layer.is_recurrent:
            for argument in rnn_dropout_arguments(layer):
                mask = explain(layer, node.input_shape, keras, argument)
                sites.append(SiteInfo(len(sites), node, argument, mask,
                                      layer.core.args.get(argument, UNKNOWN)))
    return sites


def run(graph: Graph, keras: KerasVersion, rules: Sequence[Rule]) -> tuple[list[Finding], Context]:
    ctx = Context(graph, keras, collect_sites(graph, keras))
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(rule.check(ctx))
    return findings, ctx


def to_sites(ctx: Context, offset: int = 0) -> list[Site]:
    """SiteInfo -> report Sites (ids shifted by `offset` so they are unique in a report)."""
    out = []
    for s in ctx.sites:
        origin = s.node.layer.origin
        span = origin.span
        if s.argument is not None:
            span = origin.arg_spans.get(s.argument) or span
        m = s.mask
        input_shape = s.node.input_shape
        if s.argument == "recurrent_dropout":
            input_shape = m.mask_shape
        out.append(Site(
            id=s.id + offset, path=origin.path,
            line=span.line if span else None, column=span.column if span else None,
            layer=s.node.layer.kind, argument=s.argument,
            rate=float(s.rate) if known(s.rate) and isinstance(s.rate, (int, float)) else None,
            input_shape=_list(input_shape), mask_shape=_list(m.mask_shape),
            drops=m.drops, per_sample=m.per_sample, over_time=m.over_time, masks=m.masks,
            layer_name=origin.layer_name, description=m.description, keras=str(ctx.keras)))
    return out


def _list(shape) -> list | None:
    return None if shape is None else list(shape)


def shift_findings(findings: Iterable[Finding], offset: int) -> list[Finding]:
    out = []
    for f in findings:
        if f.site is not None:
            f.site += offset
        out.append(f)
    return out
