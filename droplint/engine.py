"""Runs the selected rules over one Graph: sites first (semantics), then each rule."""
from __future__ import annotations

from typing import Iterable, Sequence

from .graph import UNKNOWN, Graph, known
from .keras_version import KerasVersion
from .report import Finding, Site
from .rule import Context, Rule, SiteInfo
from .semantics import explain, rate_of, rnn_dropout_arguments
from .shapes import fill_from_alternatives, forward, infer_from_consumers


def collect_sites(graph: Graph, keras: KerasVersion) -> list[SiteInfo]:
    """Every application of a dropout layer and every non-zero RNN dropout argument."""
    infer_from_consumers(graph)  # ranks from consumers (shapes.py)
    if fill_from_alternatives(graph):  # ranks common to the arms of a condition
        forward(graph)
    sites: list[SiteInfo] = []
    for node in graph.nodes:
        layer = node.layer
        td_dropout = layer.kind == "TimeDistributed" and layer.inner is not None \
            and layer.inner.is_dropout
        if layer.is_dropout or td_dropout:
            rate = rate_of(layer.inner if td_dropout else layer)
            mask = explain(layer, node.input_shape, keras)
            sites.append(SiteInfo(len(sites), node, None, mask, rate, node.copies))
        elif layer.is_recurrent:
            for argument in rnn_dropout_arguments(layer):
                mask = explain(layer, node.input_shape, keras, argument)
                sites.append(SiteInfo(len(sites), node, argument, mask,
                                      layer.core.args.get(argument, UNKNOWN), node.copies))
    return sites


def run(graph: Graph, keras: KerasVersion, rules: Sequence[Rule]) -> tuple[list[Finding], Context]:
    """Sites, then every rule over them; then each site and each finding once: sites equal
    in every reported field are merged (the rules saw them all), two findings with one code
    at one position keep the first (they can differ only in wording)."""
    ctx = Context(graph, keras, collect_sites(graph, keras))
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(rule.check(ctx))
    ctx.sites, renumber = merge_sites(ctx.sites)
    for f in findings:
        if f.site is not None:
            f.site = renumber.get(f.site, f.site)
    return unique_findings(findings), ctx


def merge_sites(sites: list[SiteInfo]) -> tuple[list[SiteInfo], dict[int, int]]:
    """One site for sites identical in every reported field (a layer object applied to two
    inputs of one shape, the state dropout of a layer built in a loop over input sizes);
    its `copies` add up. Returns the kept sites, renumbered 0.., and old id -> new id."""
    kept: dict[tuple, SiteInfo] = {}
    renumber: dict[int, int] = {}
    for s in sites:
        key = tuple((k, tuple(v) if isinstance(v, list) else v)
                    for k, v in _fields(s).items())
        first = kept.get(key)
        if first is None:
            kept[key] = first = s
            first_id, s.id = s.id, len(kept) - 1
            renumber[first_id] = s.id
        else:
            first.copies += s.copies
            renumber[s.id] = first.id
    return list(kept.values()), renumber


def unique_findings(findings: list[Finding]) -> list[Finding]:
    """Never two findings with one code at one position: the first is kept."""
    seen: set[tuple] = set()
    out = []
    for f in findings:
        key = (f.path, f.cell, f.line, f.column, f.code, f.layer_name)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _fields(s: SiteInfo) -> dict:
    """What a report Site says about `s`, but its id, description and Keras version."""
    origin = s.node.layer.origin
    span = origin.span
    if s.argument is not None:
        span = origin.arg_spans.get(s.argument) or span
    m = s.mask
    input_shape = s.node.input_shape
    if s.argument == "recurrent_dropout":
        input_shape = m.mask_shape
    return dict(
        path=origin.path, line=span.line if span else None,
        column=span.column if span else None, layer=s.node.layer.kind, argument=s.argument,
        rate=float(s.rate) if known(s.rate) and isinstance(s.rate, (int, float)) else None,
        input_shape=_list(input_shape), mask_shape=_list(m.mask_shape),
        drops=m.drops, per_sample=m.per_sample, over_time=m.over_time, masks=m.masks,
        layer_name=origin.layer_name)


def to_sites(ctx: Context, offset: int = 0) -> list[Site]:
    """SiteInfo -> report Sites (ids shifted by `offset` so they are unique in a report)."""
    out = []
    for s in ctx.sites:
        fields = _fields(s)
        for k in ("input_shape", "mask_shape"):  # fresh lists: a caller may edit its Site
            fields[k] = _list(fields[k])
        out.append(Site(id=s.id + offset, description=s.mask.description + _copies(s.copies),
                        keras=str(ctx.keras), **fields))
    return out


def _copies(n: int) -> str:
    if n < 2:
        return ""
    return (f"; one site for {n} identical copies (the same call runs {n} times: a loop, "
            f"a function called again, or a layer applied again to the same shape)")


def _list(shape) -> list | None:
    return None if shape is None else list(shape)


def shift_findings(findings: Iterable[Finding], offset: int) -> list[Finding]:
    out = []
    for f in findings:
        if f.site is not None:
            f.site += offset
        out.append(f)
    return out
