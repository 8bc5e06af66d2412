"""Reading a probe's draws: boolean patterns (True where an entry was dropped) -> `Measured`,
the facts semantics.explain claims (mask shape, what is dropped in semantics' words, per
sample, over time, how many masks). Pure: NumPy in, plain data out; never imports Keras.
droplint/probe.py makes the draws; probe_compare.py compares the result with the claim.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field

from .semantics import _drops_from_shape as drops_word

DEFAULT_SIZE = 6  # stands in for sizes not known statically (other than the batch)
MIN_DROPS_TO_COUNT = 20  # dropped entries needed before the number of masks is estimated
PICTURE_MAX = 64  # rows and columns kept in Measured.picture


class ProbeError(Exception):
    """The layer could not be measured as asked; the message says why."""


@dataclass
class Measured:
    layer: str  # class name of the layer that was run
    argument: str | None  # None, "dropout" or "recurrent_dropout"
    input_shape: tuple  # the concrete shape it ran on (state shape for recurrent_dropout)
    output_shape: tuple | None
    mask_shape: tuple | None  # per axis: 1 where the zero pattern is constant, else the size
    drops: str  # semantics' words, plus "all" (every entry dropped: no pattern to read)
    per_sample: bool | None  # False when one pattern is shared by the whole batch
    over_time: str | None  # "fresh-each-step" | "same-every-step" | None
    masks: int | None  # independent masks applied, estimated from the fraction dropped
    dropped_fraction: float | None
    draws: int
    picture: list | None = None  # one sample of the first draw, 2-D: 1 kept, 0 dropped
    fingerprint: str | None = None  # digest of every draw's pattern: equal digests, equal masks
    directions_identical: bool | None = None  # Bidirectional: the same masks in both directions
    notes: list = field(default_factory=list)
    rate: float | None = None  # the rate of one mask (the layer's), for probe_certainty
    masks_counted: bool = False  # the number of masks is from the code path, not estimated
    masks_evidence: tuple | None = None  # (dropped, independent entries) the count rests on
    over_time_doubt: float | None = None  # chance a fresh-each-step mask read as the same

    def to_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------------------------------
# Reading a set of draws (one draw: a boolean array, True where dropped)


def varying_axes(patterns) -> list[bool]:
    import numpy as np

    rank = patterns[0].ndim
    return [any(bool(np.any(p != np.take(p, [0], axis=a))) for p in patterns)
            for a in range(rank)]


def _word(varies: list[bool], channel_axis: int | None, state: bool) -> str:
    """semantics' word for a pattern that changes along the axes marked in `varies` (the same
    function that names droplint's claims, so the two are compared word for word). A state
    of rank > 2, or a rank > 3 input without a channel axis, has no coarser word: elements."""
    rank = len(varies)
    if any(varies[1:]) and ((state and rank > 2) or (rank > 3 and channel_axis is None)):
        return "elements"
    sizes = tuple(2 if v else 1 for v in varies)  # varies along an axis <=> size > 1 there
    channels_first = channel_axis is not None and channel_axis != rank - 1
    return drops_word(sizes, sizes, channels_first,
                      channel_axis - 1 if channels_first else 0)


def _estimate_masks(fraction: float, dropped: int, rate) -> int | None:
    if not isinstance(rate, (int, float)) or not 0 < rate < 1 or dropped < MIN_DROPS_TO_COUNT:
        return None
    return max(1, round(math.log(fraction) / math.log(rate)))


def fingerprint(patterns) -> str:
    import numpy as np

    digest = hashlib.sha1()
    for p in patterns:
        digest.update(np.packbits(p).tobytes())
    return digest.hexdigest()[:16]


def _picture(pattern) -> list:
    """One sample of one draw as a 2-D list (1 kept, 0 dropped), cropped to PICTURE_MAX."""
    sample = ~pattern[0]
    if sample.ndim == 0:
        grid = sample.reshape(1, 1)
    elif sample.ndim == 1:
        grid = sample.reshape(1, -1)
    else:
        grid = sample.reshape(sample.shape[0], -1)
    return grid[:PICTURE_MAX, :PICTURE_MAX].astype(int).tolist()


def summarize(kind, argument, shape, patterns, *, rate, time_axis, channel_axis,
               state=False, output_shape=None, notes=None) -> Measured:
    """Measured from a list of dropped patterns (booleans in `shape`)."""
    import numpy as np

    notes = list(notes or [])
    stacked = np.stack(patterns)
    fraction = float(stacked.mean())
    common = {"layer": kind, "argument": argument, "input_shape": tuple(shape),
              "output_shape": output_shape, "dropped_fraction": fraction,
              "draws": len(patterns), "picture": _picture(patterns[0]),
              "fingerprint": fingerprint(patterns), "notes": notes,
              "rate": float(rate) if isinstance(rate, (int, float)) else None}
    if fraction == 0:
        return Measured(mask_shape=tuple(shape), drops="none", per_sample=None, over_time=None,
                        masks=0, **common)
    if fraction == 1:
        notes.append("every entry was dropped in every draw: no pattern to read")
        return Measured(mask_shape=None, drops="all", per_sample=None, over_time=None,
                        masks=None, **common)
    varies = varying_axes(patterns)
    mask_shape = tuple(n if v else 1 for n, v in zip(shape, varies))
    over_time = None
    if time_axis is not None:
        over_time = "fresh-each-step" if varies[time_axis] else "same-every-step"
    distinct = math.prod(mask_shape) * len(patterns)
    dropped = round(fraction * distinct)
    masks = _estimate_masks(fraction, dropped, rate)
    if masks is None and isinstance(rate, (int, float)) and 0 < rate < 1:
        notes.append(f"only {dropped} distinct entries dropped: too few to count the masks")
    return Measured(mask_shape=mask_shape, drops=_word(varies, channel_axis, state),
                    per_sample=varies[0] if shape[0] > 1 else None, over_time=over_time,
                    masks=masks, **common)

def noise(kind, shape, outputs, time_axis) -> Measured | None:
    """Measured for a layer that zeroes nothing but changes the values (Gaussian layers)."""
    import numpy as np

    changed = [~np.isclose(y, 1.0) for y in outputs]
    if not any(c.any() for c in changed):
        return None
    varies = varying_axes(outputs)
    over_time = None if time_axis is None else \
        ("fresh-each-step" if varies[time_axis] else "same-every-step")
    return Measured(kind, None, tuple(shape), tuple(shape),
                    tuple(n if v else 1 for n, v in zip(shape, varies)), "noise",
                    varies[0] if shape[0] > 1 else None, over_time, 1, 0.0, len(outputs),
                    fingerprint=fingerprint(changed),
                    notes=["no entry is zeroed; the output is noisy"])
