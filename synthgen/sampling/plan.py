"""How many rows of each class to generate: by the class prior, by a condition, or to balance."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthgen.data.schema import Schema
from synthgen.errors import SynthgenError


def class_index(schema: Schema, conditions: dict[str, Any]) -> int | None:
    """The class every row must have, or None; only the class target can be conditioned on."""
    if not conditions:
        return None
    if not schema.is_classification:
        reason = (
            f"target {schema.target!r} is numeric, not a class" if schema.target else "it was trained without --target"
        )
        raise SynthgenError(f"cannot condition on {list(conditions)}: {reason}; conditions need a class target")
    extra = [c for c in conditions if c != schema.target]
    if extra:
        raise SynthgenError(
            f"cannot condition on {extra}: conditions are supported on the class target {schema.target!r} only"
        )
    wanted = conditions[schema.target]
    for i, value in enumerate(schema.classes):
        if str(value) == str(wanted):
            return i
    raise SynthgenError(f"{schema.target}={wanted!r} is not a known class; choose one of {schema.classes}")


def balance_counts(class_counts: dict[Any, int], rows: int | None = None) -> dict[Any, int]:
    """Rows per class that bring every class up to the largest one (or share `rows` among them)."""
    largest = max(class_counts.values())
    deficit = {c: largest - n for c, n in class_counts.items()}
    if rows is None or sum(deficit.values()) == 0:
        return deficit
    total = sum(deficit.values())
    counts = {c: int(rows * d // total) for c, d in deficit.items()}
    for c in sorted(deficit, key=lambda c: -deficit[c])[: rows - sum(counts.values())]:
        counts[c] += 1
    return counts


def label_stream(n: int, prior: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`n` class indices in the shares of `prior` (class counts or probabilities), in random order.

    Systematic sampling: one uniform offset over the cumulative shares gives each class the floor or
    the ceiling of its expected count, so a small draw keeps the training class balance instead of
    shifting it by chance (200 rows of a 12% class: 24 or 25, where independent draws give 15 to 33
    in 95% of draws), and each class still gets its expected count on average."""
    shares = np.asarray(prior, dtype=float)
    cumulative = np.cumsum(shares / shares.sum())
    cumulative[-1] = 1.0  # the last edge lands on n exactly, whatever the rounding of the sum
    edges = np.floor(np.concatenate([[0.0], cumulative]) * n + rng.random()).astype(np.int64)
    return rng.permutation(np.repeat(np.arange(len(shares)), np.diff(edges)))
