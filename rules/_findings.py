"""What rules share in making findings: one finding per message, and the fixes several rules
offer (Dropout -> SpatialDropout1D, a new noise_shape).

Not a rule: the leading underscore keeps it out of ALL_RULES.
"""
from __future__ import annotations

import functools

from droplint import fixes
from droplint.graph import UNKNOWN, Graph, Layer
from droplint.keras_version import KerasVersion
from droplint.report import Fix
from droplint.semantics import fmt_rate, fmt_shape


def once_per_message(check):
    """Decorator for a rule's check(): drop repeated findings, so that a layer applied twice
    to the same shape is one finding."""
    @functools.wraps(check)
    def deduplicated(rule, ctx):
        seen = set()
        for f in check(rule, ctx):
            key = (f.line, f.column, f.layer_name, f.message, f.help)
            if key not in seen:
                seen.add(key)
                yield f
    return deduplicated


# Arguments Keras 3's SpatialDropout1D accepts; tf.keras 2 takes any base-Layer keyword.
SPATIAL1D_ARGS_KERAS3 = frozenset({"rate", "seed", "name", "dtype"})


def spatial_fix(graph: Graph, layer: Layer, keras: KerasVersion) -> Fix | None:
    """Unsafe fix: `Dropout(r)` -> `SpatialDropout1D(r)` (noise_shape=None removed)."""
    args = set(layer.args) - {"noise_shape"}
    if keras.is_keras3 and not args <= SPATIAL1D_ARGS_KERAS3:
        # e.g. input_shape=: Keras 3's SpatialDropout1D would raise TypeError
        extra = ", ".join(sorted(args - SPATIAL1D_ARGS_KERAS3))
        return fixes.refuse(f"Keras 3's SpatialDropout1D takes no {extra}=")
    why = fixes.rank_precondition(graph, layer, 3, "SpatialDropout1D")
    if why:
        return fixes.refuse(why)
    edits = fixes.rename_layer(graph, layer, "SpatialDropout1D")
    if fixes.refused(edits):
        return edits
    if edits and "noise_shape" in layer.args:
        removal = fixes.remove_argument(layer, "noise_shape")
        if removal is None:
            return None
        edits = edits + removal
    rate = fmt_rate(layer.args.get("rate", UNKNOWN))
    return fixes.fix("unsafe", f"use SpatialDropout1D({rate}): drop whole features", edits)


def noise_shape_fix(layer: Layer, new: tuple, applicability: str) -> Fix | None:
    text = fmt_shape(new)
    return fixes.fix(applicability, f"use noise_shape={text}",
                     fixes.replace_argument_value(layer, "noise_shape", text))
