import numpy as np

from synthgen.validation.detection import Detection


def test_same_distribution_is_indistinguishable(make_ctx, real):
    assert Detection().compute(make_ctx(real[1])).score < 0.15  # |AUC − 0.5|


def test_twins_of_train_rows_give_an_auc_far_below_one_half(make_ctx, real):
    outcome = Detection().compute(make_ctx(real[0].copy()))
    assert outcome.details["auc"] < 0.3 and outcome.score > 0.2


def test_independent_columns_are_detected(make_ctx, real):
    rng = np.random.default_rng(0)
    shuffled = real[0].apply(lambda col: col.sample(frac=1, random_state=int(rng.integers(1e9))).to_numpy())
    assert Detection().compute(make_ctx(shuffled)).score > 0.35


def test_smoothed_integers_are_detected(make_ctx, real):
    # Same distribution but finer value grid than the real 3 decimals: only granularity differs.
    smooth = real[1].assign(x=real[1]["x"] + np.random.default_rng(1).uniform(-5e-4, 5e-4, len(real[1])))
    coarse = real[1].assign(x=real[1]["x"].round(0))
    assert Detection().compute(make_ctx(coarse)).score > 0.4
    assert Detection().compute(make_ctx(smooth)).score < 0.4
