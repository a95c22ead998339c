"""Laplace mechanisms for the encoder's statistics; neighbouring tables differ by one row.

Every statistic here is a histogram in which a row falls in one cell, so its L1 sensitivity is 1
and Laplace noise of scale 1/epsilon makes it epsilon-DP. Anything computed from a noisy histogram
afterwards (a quantile grid, a choice of decimals) costs nothing more.

- Bounds: ApproxBounds over octaves (cells [2^k, 2^(k+1)) and their negatives): the lowest and
  highest cell whose noisy count clears a threshold that an empty cell crosses with probability
  `FALSE_CELL` over all cells. The edges are fixed in advance and shifted off round numbers, so
  they are never a row's own value.
- Quantile grid: a noisy histogram of equal-width cells between the bounds, read as a CDF.
- Categories: the stability-based histogram. Only categories whose noisy count clears
  1 + ln(1 / (2 delta)) / epsilon are kept, so a category that one row holds is released with
  probability at most delta ((epsilon, delta)-DP). Declared categories skip the threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

FALSE_CELL = 1e-3
_SHIFT = 0.0379  # octave edges at 2^(k + _SHIFT): data-independent and off every round number
_MAGNITUDES = 2.0 ** (np.arange(-20, 51) + _SHIFT)  # about 1e-6 to 2e15
EDGES = np.concatenate([-_MAGNITUDES[::-1], _MAGNITUDES])
MAX_DECIMALS = 6


def noisy(counts: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """Counts with Laplace(1/epsilon) noise: epsilon-DP for a histogram (sensitivity 1)."""
    counts = np.asarray(counts, dtype=float)
    return counts + rng.laplace(0.0, 1.0 / epsilon, counts.shape)


def bounds(x: np.ndarray, epsilon: float, rng: np.random.Generator) -> tuple[float, float] | None:
    """DP lower and upper bounds of `x` (octave edges), or None when no cell clears the threshold."""
    counts = np.histogram(np.clip(x, EDGES[0], EDGES[-1]), EDGES)[0]
    threshold = np.log(len(counts) / (2 * FALSE_CELL)) / epsilon
    above = np.flatnonzero(noisy(counts, epsilon, rng) > threshold)
    if not len(above):
        return None
    return float(EDGES[above[0]]), float(EDGES[above[-1] + 1])


def quantile_grid(
    x: np.ndarray, low: float, high: float, epsilon: float, rng: np.random.Generator, cells: int, points: int
) -> np.ndarray:
    """`points` increasing grid points from a noisy histogram of `cells` equal cells on [low, high].
    A floor of 1% of the mean cell keeps the CDF strictly increasing where the noise left nothing."""
    edges = np.linspace(low, high, cells + 1)
    counts = np.clip(noisy(np.histogram(np.clip(x, low, high), edges)[0], epsilon, rng), 0, None)
    counts = counts + 0.01 * max(counts.sum(), 1.0) / cells
    cdf = np.concatenate([[0.0], np.cumsum(counts)]) / counts.sum()
    return np.interp(np.linspace(0, 1, points), cdf, edges)


def decimals(x: np.ndarray, epsilon: float, rng: np.random.Generator, share: float = 0.99) -> int:
    """The fewest decimals that a noisy `share` of the values need (a histogram over 0..MAX_DECIMALS)."""
    needed = np.full(len(x), MAX_DECIMALS)
    for d in range(MAX_DECIMALS, -1, -1):
        scaled = x * 10.0**d
        needed[np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1, np.abs(scaled))] = d
    counts = np.clip(noisy(np.bincount(needed, minlength=MAX_DECIMALS + 1), epsilon, rng), 0, None)
    cumulative = np.cumsum(counts) / max(counts.sum(), 1e-12)
    return int(np.argmax(cumulative >= share))


def count(k: int, epsilon: float, rng: np.random.Generator) -> float:
    """A noisy count, never below 0."""
    return float(max(0.0, noisy(np.array([k]), epsilon, rng)[0]))


def present(k: int, epsilon: float, rng: np.random.Generator, false_rate: float = 0.05) -> tuple[bool, float]:
    """(whether a noisy count says there are any, the noisy count): "any" only above the level that
    Laplace noise alone reaches with probability `false_rate`, so an absent thing is rarely made up."""
    released = count(k, epsilon, rng)
    return bool(released > np.log(0.5 / false_rate) / epsilon), released


def categories(
    values: pd.Series, epsilon: float, delta: float, rng: np.random.Generator, declared: list[Any] | None
) -> dict[Any, float]:
    """Kept categories with their noisy counts: declared ones all (at least 1), else those that clear
    the stability threshold."""
    counts = values.value_counts(dropna=True)
    if declared is not None:
        observed = np.array([counts.get(v, 0) for v in declared], dtype=float)
        return dict(zip(declared, np.clip(noisy(observed, epsilon, rng), 1.0, None).tolist(), strict=True))
    threshold = 1.0 + np.log(1.0 / (2.0 * delta)) / epsilon
    released = noisy(counts.to_numpy(), epsilon, rng)
    return {v: float(c) for v, c in zip(counts.index, released, strict=True) if c > threshold}
