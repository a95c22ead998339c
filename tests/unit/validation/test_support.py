import numpy as np

from synthgen.validation.support import AlphaPrecision, BetaRecall, support_fidelity


def test_same_distribution_scores_near_one():
    rng = np.random.default_rng(0)
    score, shares = support_fidelity(rng.normal(size=(2000, 3)), rng.normal(size=(2000, 3)))
    assert score > 0.97 and len(shares) == 19


def test_collapsed_synthetic_set_fails_recall_not_precision():
    rng = np.random.default_rng(0)
    real, collapsed = rng.normal(size=(2000, 3)), rng.normal(scale=0.2, size=(2000, 3))
    precision, _ = support_fidelity(real, collapsed)  # synthetic inside the real supports: too often
    recall, _ = support_fidelity(collapsed, real)  # real inside the synthetic supports: too rarely
    assert recall < 0.6 and precision < 0.8


def test_checks_on_real_data(make_ctx, real):
    ctx = make_ctx(real[1])
    assert AlphaPrecision().compute(ctx).score > 0.85 and BetaRecall().compute(ctx).score > 0.85
