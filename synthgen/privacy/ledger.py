"""What each differentially private release costs, added up by basic composition.

A model trained with `train.privacy.epsilon` releases its encoder's state, its sampling counts and
its weights; each comes from one mechanism that spends part of the budget. The ledger lists them,
so config.json, metrics.json and the report say what was spent on what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def default_delta(n_rows: int) -> float:
    """delta below one in ten rows (and at most 1e-5): a mechanism that failed with probability delta
    would not expose even one row of a table this size, in expectation."""
    return min(1e-5, 1.0 / (10 * max(n_rows, 1)))


@dataclass
class Ledger:
    """Releases and their (epsilon, delta); totals by sequential composition."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def spend(self, what: str, mechanism: str, epsilon: float, delta: float = 0.0) -> None:
        self.entries.append({"what": what, "mechanism": mechanism, "epsilon": float(epsilon), "delta": float(delta)})

    @property
    def epsilon(self) -> float:
        return float(sum(e["epsilon"] for e in self.entries))

    @property
    def delta(self) -> float:
        return float(sum(e["delta"] for e in self.entries))

    def to_dict(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon, "delta": self.delta, "releases": list(self.entries)}


@dataclass
class PrivateFit:
    """The preprocessing budget handed to the encoders: `epsilon` and `delta` per release, a seeded
    noise source, what the user declared public (bounds, category sets) and the ledger to record in.

    The noise comes from `noise_seed`: fresh OS entropy unless train.privacy.noise_seed is set, and never
    the run's seed, which config.json publishes (whoever knows the noise can subtract it). DP-SGD's
    noise and Poisson batches are drawn from streams derived from it too. Like Opacus without
    secure_mode, numpy's and torch's generators are not cryptographically secure sources."""

    epsilon: float
    delta: float
    rng: np.random.Generator
    noise_seed: int
    ledger: Ledger
    total_delta: float = 0.0  # the whole run's delta (train.privacy.delta or default_delta)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    categories: dict[str, list[Any]] = field(default_factory=dict)
