"""What a DP sensor fit learns outside the weights, each from a DP mechanism (README "Differential
privacy"). The unit of privacy is the entity: neighbouring data sets differ by one whole recording.

- Channel scale: each channel's bounds (declared in `train.privacy.bounds`, else ApproxBounds over
  every entity's own minimum and maximum, so one entity adds two values and each gets half the
  epsilon); values are clipped to them and scaled so the bounds map to -2 and 2.
- Start times: bounds of the entities' first times (one value each), starts drawn evenly between
  them on the time step's grid.
- Class counts: Laplace noise on the entities per class.
- Integer ids: the fresh ones start at an offset the id dtype alone decides.
- Attributes and lengths: the attributes model trains with its own DP fit on `ATTRIBUTES_SHARE` of
  epsilon and delta; its releases join this fit's ledger.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthgen.config import PrivacyParams
from synthgen.data.sequences import LENGTH, SequenceArrays, SequenceLayout
from synthgen.errors import SynthgenError
from synthgen.privacy import PrivateFit, mechanisms

ATTRIBUTES_SHARE = 0.25  # of epsilon and delta, for the per-entity attributes and lengths
SCALED_HALF_RANGE = 2.0  # a channel's bounds map to -2 and 2


def releases(layout: SequenceLayout, declared: dict[str, tuple[float, float]]) -> int:
    """How many of this fit's own mechanisms spend epsilon: one per channel and for the start times
    without declared bounds, and the class counts."""
    undeclared = [name for name in (*layout.channels, layout.time) if name not in declared]
    return len(undeclared) + bool(layout.target)


def attributes_privacy(privacy: PrivacyParams, private: PrivateFit, layout: SequenceLayout) -> PrivacyParams:
    """The attributes model's share of the budget, with noise of its own drawn from this fit's noise
    seed. Lengths are bounded by the layout's padded length, which is public (outside the guarantee),
    so their bounds spend nothing."""
    if privacy.preprocessing_share + ATTRIBUTES_SHARE >= 0.95:
        share = privacy.preprocessing_share
        raise SynthgenError(
            f"train.privacy.preprocessing_share {share:g} leaves the sequence model's DP-SGD almost nothing (the "
            f"attributes model takes {ATTRIBUTES_SHARE:g}); set it below {0.95 - ATTRIBUTES_SHARE:g}"
        )
    return privacy.model_copy(
        update={
            "epsilon": privacy.epsilon * ATTRIBUTES_SHARE,
            "delta": private.total_delta * ATTRIBUTES_SHARE,
            "bounds": {**privacy.bounds, LENGTH: (1.0, float(layout.length))},
            "noise_seed": int(np.random.SeedSequence([private.noise_seed, 1]).generate_state(1)[0]),
        }
    )


def entity_bounds(name: str, per_entity: Sequence[np.ndarray], private: PrivateFit, where: str) -> tuple[float, float]:
    """Declared bounds, else ApproxBounds over the values each entity gives in `per_entity` (one
    array per value an entity adds, so the sensitivity is their number)."""
    if name in private.bounds:
        low, high = map(float, private.bounds[name])
        return low, high  # PrivacyParams checked low <= high
    found = mechanisms.bounds(np.concatenate(per_entity), private.epsilon / len(per_entity), private.rng)
    private.ledger.spend(f"column {name}: bounds", "ApproxBounds (Laplace)", private.epsilon)
    if found is None:
        raise SynthgenError(
            f"{where}: column {name!r}: {len(per_entity[0])} entities are too few for DP bounds at epsilon "
            f"{private.epsilon:.3g}; declare them in train.privacy.bounds: {{{name}: [low, high]}}"
        )
    return found


def scaling(
    arrays: SequenceArrays, mask: np.ndarray, layout: SequenceLayout, private: PrivateFit, where: str
) -> dict[str, list]:
    """Per channel: bounds, and the mean and std that map them to -2 and 2."""
    real = mask.astype(bool)
    clip = []
    for i, name in enumerate(layout.channels):
        values = np.where(real, arrays.values[:, :, i], np.nan)
        clip.append(entity_bounds(name, [np.nanmin(values, 1), np.nanmax(values, 1)], private, where))
        if clip[-1][0] == clip[-1][1]:
            raise SynthgenError(f"train.privacy.bounds: channel {name!r} has low == high; give a range it can vary in")
    low, high = np.asarray(clip).T
    return {"mean": ((low + high) / 2).tolist(), "std": ((high - low) / (2 * SCALED_HALF_RANGE)).tolist(), "clip": clip}


def starts(arrays: SequenceArrays, layout: SequenceLayout, private: PrivateFit, where: str) -> list[float]:
    """Start times to draw from: 101 points evenly between the DP bounds of the first times, on the
    grid of the time step."""
    low, high = entity_bounds(layout.time, [np.asarray(arrays.starts, dtype=float)], private, where)
    grid = np.round(np.linspace(low, high, 101) / layout.step) * layout.step + 0.0  # + 0.0: no negative zero
    return np.unique(grid).tolist()


def class_counts(counts: list[int], private: PrivateFit, target: str) -> list[int]:
    """Entities per class with Laplace noise (an entity is in one class), at least 1 each."""
    noisy = np.maximum(1, np.round(mechanisms.noisy(np.asarray(counts), private.epsilon, private.rng)))
    private.ledger.spend(f"class counts of {target}", "Laplace", private.epsilon)
    return noisy.astype(int).tolist()


def id_offset(ids: np.ndarray) -> int | None:
    """Where fresh integer ids start: a power of ten the dtype decides, not the data."""
    if not np.issubdtype(ids.dtype, np.integer):
        return None
    largest = min(np.iinfo(ids.dtype).max, 2**62)  # fresh ids are int64
    return 10 ** (len(str(largest)) - 1)
