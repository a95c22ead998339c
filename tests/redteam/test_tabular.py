"""Tables: leaking sets fail the privacy gate at the shipped thresholds; fresh real rows pass the whole gate."""

from __future__ import annotations

import pandas as pd
import pytest

from synthgen.validation.redteam import mix_rows, table_leaks
from tests.redteam.conftest import context, privacy_failures, table_split, verdicts


@pytest.fixture(scope="module")
def digits_split(digits_table):
    return table_split(digits_table, (500, 250), seed=0, target="target")  # fresh: 1,047 rows


@pytest.fixture(scope="module")
def penguins_split(penguins):
    return table_split(penguins, (206, 69), seed=0, target="species")  # fresh: 69 rows


@pytest.mark.parametrize("share", [0.05, 0.10, 0.20])
@pytest.mark.parametrize("kind", ["exact", "near", "duplicated"])
def test_a_minority_of_copies_in_over_a_thousand_rows_fails(digits_split, kind, share, tmp_path):
    s = digits_split
    leaked = table_leaks(s.train, s.fresh, s.schema, seed=1)[kind](share)
    assert len(leaked) >= 1000
    assert privacy_failures(context(s.train, s.holdout, leaked, s.schema, 0, tmp_path), "tabular")


def test_half_exact_half_near_copies_fail(digits_split, tmp_path):
    s = digits_split
    leaks = table_leaks(s.train, s.fresh, s.schema, seed=2)
    mixed = mix_rows(leaks["near"](0.05), leaks["exact"](1.0), 0.05, __import__("numpy").random.default_rng(3))
    assert privacy_failures(context(s.train, s.holdout, mixed, s.schema, 0, tmp_path), "tabular")


@pytest.mark.parametrize("kind", ["exact", "near", "duplicated"])
def test_a_fifth_of_copies_in_a_small_mixed_table_fails(penguins_split, kind, tmp_path):
    s = penguins_split
    leaked = table_leaks(s.train, s.fresh, s.schema, seed=1)[kind](0.2)
    assert privacy_failures(context(s.train, s.holdout, leaked, s.schema, 0, tmp_path), "tabular")


def test_a_generator_that_returns_train_fails(penguins_split, tmp_path):
    s = penguins_split
    failed = privacy_failures(context(s.train, s.holdout, s.train.copy(), s.schema, 0, tmp_path), "tabular")
    assert {"near_copies", "exact_copies", "membership_inference"} <= set(failed)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_fresh_real_rows_pass_the_whole_default_gate(penguins, seed, tmp_path):
    s = table_split(penguins, (206, 69), seed=seed, target="species")
    result = verdicts(context(s.train, s.holdout, s.fresh, s.schema, seed, tmp_path), "tabular")
    assert result["passed"], {k: (c["verdict"], c["score"]) for k, c in result["checks"].items()}


@pytest.mark.parametrize("seed", [7, 8, 15])  # where 64 unseen rows score 0.78-0.79 on pair trends, under 0.80
def test_fresh_real_rows_of_a_tiny_table_pass_where_a_fixed_fidelity_bar_failed_them(tips, seed, tmp_path):
    s = table_split(tips, (120, 60), seed=seed, target="time")
    result = verdicts(context(s.train, s.holdout, s.fresh, s.schema, seed, tmp_path), "tabular")
    trends = result["checks"]["column_pair_trends"]
    assert trends["score"] < 0.80 and trends["details"]["real_floor"] < trends["details"]["score_at_holdout_size"]
    assert result["passed"], {k: (c["verdict"], c["score"]) for k, c in result["checks"].items()}


def test_fresh_real_rows_of_a_larger_table_pass_the_whole_default_gate(digits_split, tmp_path):
    s = digits_split
    result = verdicts(context(s.train, s.holdout, s.fresh, s.schema, 0, tmp_path), "tabular")
    assert result["passed"], {k: (c["verdict"], c["score"]) for k, c in result["checks"].items()}


def test_independent_marginals_fail_the_whole_gate(digits_split, tmp_path):
    """The trivial generator: each column resampled on its own."""
    s = digits_split
    marginals = pd.DataFrame(
        {
            c: s.train[c].sample(len(s.fresh), replace=True, random_state=i).to_numpy()
            for i, c in enumerate(s.train.columns)
        }
    )
    result = verdicts(context(s.train, s.holdout, marginals, s.schema, 0, tmp_path), "tabular")
    assert not result["passed"]
