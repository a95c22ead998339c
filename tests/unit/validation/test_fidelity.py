import numpy as np

from synthgen.validation.fidelity import ColumnPairTrends, ColumnShapes, Quality


def test_identical_data_scores_one(make_ctx, real):
    ctx = make_ctx(real[0])
    assert Quality().compute(ctx).score > 0.99


def test_independent_marginals_keep_shapes_but_lose_trends(make_ctx, real):
    rng = np.random.default_rng(0)
    shuffled = real[0].apply(lambda col: col.sample(frac=1, random_state=rng.integers(1e9)).to_numpy())
    ctx = make_ctx(shuffled)
    assert ColumnShapes().compute(ctx).score > 0.99
    assert ColumnPairTrends().compute(ctx).score < 0.7


def test_shifted_column_lowers_its_shape_score(make_ctx, real):
    shifted = real[0].assign(x=real[0]["x"] + 3)
    outcome = ColumnShapes().compute(make_ctx(shifted))
    assert outcome.details["x"] < 0.3 and outcome.details["c"] > 0.99


def test_the_real_floor_is_what_resampled_unseen_rows_score_and_marginals_stay_under_it(make_ctx, real):
    rng = np.random.default_rng(0)
    shuffled = real[0].apply(lambda col: col.sample(frac=1, random_state=rng.integers(1e9)).to_numpy())
    ctx = make_ctx(shuffled)
    at_size, floor = ColumnPairTrends().real_floor(ctx)
    assert at_size < floor < 1.0


def test_a_collapsed_synthetic_column_scores_as_no_correlation_instead_of_failing(make_ctx, real):
    """SDMetrics raises on a constant column; a DP model that collapses one must still be judged."""
    collapsed = real[0].assign(y=0.0)
    outcome = ColumnPairTrends().compute(make_ctx(collapsed))
    rho = real[0]["x"].corr(real[0]["y"])
    pair = outcome.details["worst_pairs"]["x / y"]
    assert abs(pair - (1 - abs(rho) / 2)) < 1e-4 and pair < 0.6
    assert Quality().compute(make_ctx(collapsed)).score < Quality().compute(make_ctx(real[0])).score
