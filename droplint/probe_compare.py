"""Comparing a probe's measurement with droplint's claim (semantics.explain's Mask): the
disagreements in plain words (DL902). Pure: plain data in, plain data out."""
from __future__ import annotations

import math

from .probe_certainty import (ALPHA, certainty, fraction_differs, looks_constant,
                              nothing_dropped)
from .probe_reading import Measured


def _category(drops: str) -> str:
    if drops in ("none", "noise", "unknown"):
        return drops
    return "drops"


def _axis_name(axis: int, rank: int, time: bool) -> str:
    if axis == 0:
        return "the batch axis"
    if time and axis == 1:
        return "the time axis"
    if axis == rank - 1:
        return "the last (feature/channel) axis"
    return f"axis {axis}"


def _varies_claimed(dim) -> bool:
    return dim is None or dim != 1


def compare(claimed, measured: Measured) -> list[str]:
    """Where semantics' Mask and the measurement disagree, in plain words ([] if they agree).
    Unknown on either side is no claim; a measurement that dropped everything agrees with any
    mask that drops something. A difference is listed only when it is statistically certain
    (its chance if the claim were right below probe_certainty.ALPHA), with that chance."""
    return [f"{text} ({certainty(chance)})" for text, chance in differences(claimed, measured)
            if chance < ALPHA]


def _claimed_sizes(claimed, measured: Measured) -> tuple:
    """The claimed mask shape in the sizes the probe ran on (unknown sizes: the run's)."""
    shape = measured.input_shape
    mask = claimed.mask_shape
    if mask is None or len(mask) != len(shape):
        return tuple(shape)
    return tuple(s if m is None else min(m, s) for m, s in zip(mask, shape))


def _entries(claimed, measured: Measured) -> int:
    """Independent entries of one claimed mask over all the draws."""
    return math.prod(_claimed_sizes(claimed, measured)) * measured.draws


def _rate(measured: Measured):
    rate = measured.rate
    return rate if isinstance(rate, (int, float)) and 0 < rate < 1 else None


def _constant_chance(claimed, measured: Measured, axis: int) -> float:
    """Chance that a pattern changing along `axis`, as claimed, looks constant along it."""
    rate = _rate(measured)
    if rate is None:
        return 1.0
    sizes = _claimed_sizes(claimed, measured)
    length = sizes[axis] if axis < len(sizes) else 1
    if length <= 1:
        length = measured.input_shape[axis]
    lines = max(1, math.prod(sizes) // max(1, sizes[axis])) * measured.draws
    return looks_constant(rate, length, lines)


def differences(claimed, measured: Measured) -> list[tuple[str, float]]:
    """Every difference between claim and measurement with its chance if the claim were
    right (0: impossible)."""
    if claimed.drops == "unknown" or measured.drops == "unknown":
        return []
    said, seen = _category(claimed.drops), _category(measured.drops)
    rate = _rate(measured)
    if said != seen:
        what = {"drops": f"drops {measured.drops} ({measured.dropped_fraction:.0%} of entries)"
                if measured.dropped_fraction is not None else f"drops {measured.drops}",
                "none": f"dropped nothing in {measured.draws} draws",
                "noise": "zeroed nothing but added noise"}[seen]
        chance = 0.0
        if said == "drops" and seen == "none":
            chance = 1.0 if rate is None else nothing_dropped(rate, _entries(claimed, measured))
        return [(f"droplint says the mask drops {claimed.drops}; running it, Keras {what}",
                 chance)]
    if said != "drops" or measured.drops == "all":
        return []
    out = []
    shape = measured.input_shape
    time = measured.over_time is not None or claimed.over_time is not None
    axis_chances = []
    if claimed.mask_shape is not None and measured.mask_shape is not None:
        if len(claimed.mask_shape) != len(measured.mask_shape):
            out.append((f"droplint's mask has rank {len(claimed.mask_shape)}; the measured one "
                        f"{len(measured.mask_shape)}", 0.0))
        else:
            for axis, (c, m) in enumerate(zip(claimed.mask_shape, measured.mask_shape)):
                if shape[axis] <= 1 or _varies_claimed(c) == (m != 1):
                    continue
                said_axis = "changes" if _varies_claimed(c) else "is constant"
                seen_axis = "changes" if m != 1 else "is constant"
                chance = _constant_chance(claimed, measured, axis) if _varies_claimed(c) \
                    else 0.0
                axis_chances.append(chance)
                out.append((f"along {_axis_name(axis, len(shape), time)} the pattern "
                            f"{said_axis} according to droplint but {seen_axis} in Keras",
                            chance))
    if None not in (claimed.per_sample, measured.per_sample) \
            and claimed.per_sample != measured.per_sample:
        chance = _constant_chance(claimed, measured, 0) if claimed.per_sample else 0.0
        out.append((f"per sample: droplint says {claimed.per_sample}, Keras shows "
                    f"{measured.per_sample}", chance))
    if None not in (claimed.over_time, measured.over_time) \
            and claimed.over_time != measured.over_time:
        chance = 0.0
        if claimed.over_time == "fresh-each-step":
            chance = measured.over_time_doubt if measured.over_time_doubt is not None \
                else _constant_chance(claimed, measured, 1)
        out.append((f"over time: droplint says {claimed.over_time}, Keras shows "
                    f"{measured.over_time}", chance))
    if None not in (claimed.masks, measured.masks) and claimed.masks != measured.masks:
        out.append((f"masks applied: droplint says {claimed.masks}, Keras shows "
                    f"{'' if measured.masks_counted else 'about '}{measured.masks}",
                    _masks_chance(claimed, measured)))
    if claimed.drops != measured.drops:
        out.append((f"droplint says it drops {claimed.drops}; Keras drops {measured.drops}",
                    min(axis_chances) if axis_chances else 0.0))
    return out


def _masks_chance(claimed, measured: Measured) -> float:
    """Chance of the measured number of masks if the claimed number were right."""
    rate = _rate(measured)
    if rate is None:
        return 1.0
    if measured.masks_counted:  # from the code path: no sampling doubt
        return 0.0
    if measured.masks_evidence is not None:
        dropped, entries = measured.masks_evidence
    else:
        entries = math.prod(measured.mask_shape or measured.input_shape) * measured.draws
        dropped = round((measured.dropped_fraction or 0.0) * entries)
    return fraction_differs(dropped, entries, rate ** claimed.masks)
