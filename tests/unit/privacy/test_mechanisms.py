"""The Laplace mechanisms behind a DP encoder: what they release and what they keep back."""

import numpy as np
import pandas as pd
import pytest

from synthgen.privacy import mechanisms


def test_noise_has_the_laplace_scale_of_one_over_epsilon():
    rng = np.random.default_rng(0)
    draws = mechanisms.noisy(np.zeros(200_000), 0.5, rng)
    assert np.mean(np.abs(draws)) == pytest.approx(2.0, rel=0.02)  # E|Laplace(b)| = b = 1 / epsilon


def test_bounds_bracket_the_bulk_on_fixed_octave_edges():
    x = np.random.default_rng(1).normal(100, 10, 20_000)
    low, high = mechanisms.bounds(x, 1.0, np.random.default_rng(2))
    assert low in mechanisms.EDGES and high in mechanisms.EDGES
    assert 32 < low < 80 and 120 < high < 270
    assert not np.isin([low, high], x).any()


def test_bounds_are_not_found_from_too_few_rows():
    x = np.random.default_rng(1).normal(100, 10, 30)
    assert mechanisms.bounds(x, 0.05, np.random.default_rng(2)) is None


def test_the_quantile_grid_is_increasing_between_the_bounds_and_follows_the_data():
    x = np.random.default_rng(3).exponential(10, 20_000)
    grid = mechanisms.quantile_grid(x, 0.0, 80.0, 1.0, np.random.default_rng(4), cells=32, points=65)
    assert grid[0] == 0.0 and grid[-1] == 80.0 and np.all(np.diff(grid) > 0)
    assert grid[32] == pytest.approx(np.median(x), abs=1.5)


def test_decimals_are_read_from_a_noisy_histogram():
    x = np.round(np.random.default_rng(5).normal(50, 5, 5000), 2)
    assert mechanisms.decimals(x, 1.0, np.random.default_rng(6)) == 2


def test_a_category_few_rows_hold_is_dropped_and_declared_ones_are_kept():
    values = pd.Series(["a"] * 3000 + ["b"] * 2000 + ["rare"])
    kept = mechanisms.categories(values, 1.0, 1e-6, np.random.default_rng(7), None)
    assert set(kept) == {"a", "b"} and kept["a"] == pytest.approx(3000, abs=20)
    declared = mechanisms.categories(values, 1.0, 0.0, np.random.default_rng(7), ["a", "b", "c"])
    assert set(declared) == {"a", "b", "c"} and min(declared.values()) >= 1.0
