"""How certain a probe disagreement is: the chance of what was measured if droplint's claim
were right. Pure: numbers in, numbers out; no NumPy, no Keras.

A probe draws a layer's masks a finite number of times, so a mask that drops rarely can look
like no mask, and an axis along which the pattern changes can look constant. DL902 reports a
difference only when its chance under the claim is below ALPHA; each bound here is an upper
bound (a conservative one: the true chance is smaller).
"""
from __future__ import annotations

import math

ALPHA = 1e-6  # a difference is reported only when its chance under the claim is below this


def nothing_dropped(rate: float, entries: int) -> float:
    """Chance that `entries` independent mask entries of one mask of `rate` all survive."""
    if not 0 < rate < 1 or entries <= 0:
        return 1.0
    return math.exp(entries * math.log1p(-rate))


def looks_constant(rate: float, length: int, lines: int) -> float:
    """Chance that a mask changing along an axis of `length` looks constant along it in all of
    `lines` independent lines (each line all dropped or all kept)."""
    if not 0 < rate < 1 or length <= 1 or lines <= 0:
        return 1.0
    one = rate ** length + (1 - rate) ** length
    return math.exp(lines * math.log(one))


def likeliest_masks(dropped: int, entries: int, rate, most: int) -> int | None:
    """The number of independent masks (1 to `most`) that best explains `dropped` of `entries`
    entries dropped by all of them at once (each with chance rate**masks)."""
    if not isinstance(rate, (int, float)) or not 0 < rate < 1 or entries <= 0:
        return None

    def log_likelihood(k: int) -> float:
        p = rate ** k
        return dropped * math.log(p) + (entries - dropped) * math.log1p(-p)

    return max(range(1, most + 1), key=log_likelihood)


def fraction_differs(dropped: int, entries: int, p: float) -> float:
    """Two-sided Chernoff bound on the chance that `entries` independent Bernoulli(p) entries
    give a dropped count at least as far from the mean as `dropped`."""
    if entries <= 0 or not 0 < p < 1:
        return 1.0
    q = min(max(dropped / entries, 0.0), 1.0)
    if abs(q - p) * entries <= 1:
        return 1.0
    return min(1.0, 2 * math.exp(-entries * _kl(q, p)))


def _kl(q: float, p: float) -> float:
    """Kullback-Leibler divergence of Bernoulli(q) from Bernoulli(p)."""
    out = 0.0
    if q > 0:
        out += q * math.log(q / p)
    if q < 1:
        out += (1 - q) * math.log((1 - q) / (1 - p))
    return out


def draws_to_see_a_drop(rate: float, entries_per_draw: int, limit: int) -> int:
    """Draws needed so that one mask of `rate` with `entries_per_draw` independent entries per
    draw drops nothing in all of them with a chance below ALPHA / 10 (at most `limit`)."""
    if not isinstance(rate, (int, float)) or not 0 < rate < 1 or entries_per_draw <= 0:
        return 0
    needed = math.log(ALPHA / 10) / (entries_per_draw * math.log1p(-rate))
    return min(limit, math.ceil(needed))


def certainty(chance: float) -> str:
    """The words DL902 appends to a difference: how likely it would be if droplint were
    right."""
    if chance <= 0:
        return "impossible if droplint were right"
    exponent = math.floor(math.log10(chance)) if chance > 0 else -300
    return f"chance below 1e{exponent + 1} if droplint were right"
