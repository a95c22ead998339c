"""Value protection: what a saved model stores about a column is an aggregate of at least k records.

A model directory travels further than the data (to a GPU box, a colleague, a registry), so it must
hold no individual's value: numeric grids are means of blocks of k sorted values (the extremes
become the mean of the k most extreme, so outliers are clipped there), and categories seen fewer
than k times are neither stored nor emitted.
"""

from __future__ import annotations

import numpy as np

PROTECT_K = 5


def rare_values(values: np.ndarray, k: int = PROTECT_K) -> np.ndarray:
    """Distinct values that fewer than k records hold: the ones that point at an individual."""
    distinct, counts = np.unique(values, return_counts=True)
    return distinct[counts < k]


def protected_grid(sorted_values: np.ndarray, max_points: int, k: int = PROTECT_K) -> np.ndarray:
    """At most `max_points` non-decreasing grid points, each the mean of k or more consecutive sorted
    values; a point that lands exactly on a rare value moves part of the way to its neighbour. A block
    of one repeated value is that value's exact float (its mean can be an ulp off, and the encoder
    would then miss the tie and pile the whole point mass onto one end of it)."""
    n = len(sorted_values)
    if n == 0:
        return sorted_values
    points = max(1, min(max_points, n // k))
    blocks = np.array_split(sorted_values, points)
    grid = np.array([block[0] if block[0] == block[-1] else block.mean() for block in blocks])
    rare = rare_values(sorted_values, k)
    for fraction in (0.5, 0.3, 0.2, 0.1):  # a move can land on another rare value: move again, less
        hit = np.flatnonzero(np.isin(grid, rare))
        if len(grid) < 2 or not len(hit):
            break
        neighbour = np.where(hit + 1 < len(grid), hit + 1, hit - 1)
        grid[hit] += fraction * (grid[neighbour] - grid[hit])
    return np.sort(grid)


def protected_offset(largest: int) -> int:
    """Where fresh integer ids start: the power of ten above twice the largest real id, never the id."""
    return int(10 ** len(str(max(int(largest), 0) * 2)))
