"""Reading layer arguments: numbers, rates, seeds, noise shapes (plain values in, plain values out).

Not a rule: the leading underscore keeps it out of ALL_RULES.
"""
from __future__ import annotations

from typing import Any

from droplint.graph import DROPOUT_KINDS, Layer


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def number(layer: Layer, argument: str, default: Any = None) -> float | None:
    """A numeric argument, or None when absent-without-default, unresolved or not a number."""
    value = layer.args.get(argument, default)
    return value if is_number(value) else None


def active_rate(layer: Layer, argument: str) -> float | None:
    """A rate argument that drops something: a known number in (0, 1); None when absent,
    unresolved, 0 or out of range."""
    rate = number(layer, argument, 0.0)
    return rate if rate is not None and 0 < rate < 1 else None


def dropout_rate(layer: Layer) -> float | None:
    if layer.kind not in DROPOUT_KINDS or layer.kind == "GaussianNoise":
        return None
    return number(layer, "rate")


def is_plain_dropout(layer: Layer) -> bool:
    """`Dropout(r)` with no noise_shape (or noise_shape=None), r a known number in (0, 1)."""
    return (layer.kind == "Dropout" and layer.args.get("noise_shape") is None
            and active_rate(layer, "rate") is not None)


def rnn_seed(layer: Layer) -> int | None:
    seed = layer.core.args.get("seed")
    return seed if is_int(seed) else None


NOISE_SHAPE_KINDS = frozenset({"Dropout", "AlphaDropout"})


def noise_shape_of(layer: Layer) -> tuple | None:
    """The noise_shape of a Dropout/AlphaDropout when every entry is known (int or None)."""
    if layer.kind not in NOISE_SHAPE_KINDS:
        return None
    ns = layer.args.get("noise_shape")
    if not isinstance(ns, (tuple, list)) or not all(d is None or is_int(d) for d in ns):
        return None
    return tuple(ns)


def right_aligned(noise_shape: tuple, rank: int) -> tuple:
    """The noise_shape padded with 1s to `rank` on the left, as Keras broadcasts it:
    `(8,)` on rank 3 -> `(1, 1, 8)`."""
    return (1,) * (rank - len(noise_shape)) + tuple(noise_shape)


def with_batch_none(noise_shape: tuple, rank: int) -> tuple:
    """The noise_shape padded to `rank` (right-aligned) with None in the batch axis:
    `(1, 30, 1)` -> `(None, 30, 1)`, `(8,)` on rank 3 -> `(None, 1, 8)`."""
    return (None,) + right_aligned(noise_shape, rank)[1:]
