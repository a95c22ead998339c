import numpy as np
import pandas as pd
import pytest

from synthgen.config import PRIVACY_ALPHA
from synthgen.validation.privacy import DCRShare, ExactCopies, MembershipInference, NearCopies

CHECKS = (DCRShare, NearCopies, ExactCopies, MembershipInference)


def _fresh(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    return pd.DataFrame(
        {"x": np.round(x, 3), "y": np.round(2 * x + rng.normal(0, 0.3, n), 3), "c": np.where(x > 0, "hi", "lo")}
    )


def test_copies_of_train_fail_every_distance_test(make_ctx, real):
    ctx = make_ctx(real[0].copy())
    for check in CHECKS:
        outcome = check().compute(ctx)
        assert outcome.score < PRIVACY_ALPHA, (check.__name__, outcome.details)
    assert NearCopies().compute(ctx).details["share_closer"] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fresh_draws_from_the_same_distribution_pass_every_test(make_ctx, seed):
    ctx = make_ctx(_fresh(seed))
    for check in CHECKS:
        outcome = check().compute(ctx)
        assert outcome.score > PRIVACY_ALPHA, (check.__name__, outcome.details)


def test_a_tenth_of_near_copies_is_caught_where_medians_see_nothing(make_ctx, real):
    fresh = _fresh(4)
    noisy = real[0].sample(30, random_state=0).reset_index(drop=True)
    noisy["x"] += np.random.default_rng(2).choice([-0.001, 0.001], 30)
    synthetic = pd.concat([fresh.iloc[30:], noisy], ignore_index=True)
    outcome = NearCopies().compute(make_ctx(synthetic))
    assert outcome.score < PRIVACY_ALPHA
    details = outcome.details
    assert details["median_distance_synthetic"] > 0.8 * details["median_distance_unseen_real"]


def test_the_dcr_share_null_comes_from_unseen_rows_not_from_0_5(make_ctx, real):
    """Train is twice the reference half of the holdout here: fresh rows are nearer train about
    two times in three, and that is the null the synthetic share is tested against."""
    outcome = DCRShare().compute(make_ctx(_fresh(5)))
    assert 0.55 < outcome.details["unseen_real_share"] < 0.85
    assert outcome.score > PRIVACY_ALPHA


def test_exact_copies_compare_with_the_holdouts_own_duplicates(make_ctx, real):
    few = pd.concat([_fresh(6).iloc[3:], real[0].iloc[:3]], ignore_index=True)  # 1% exact copies
    outcome = ExactCopies().compute(make_ctx(few))
    assert outcome.details["synthetic"] == 3 and outcome.details["holdout"] == 0
