import numpy as np
import pandas as pd
import pytest

from synthgen.validation.privacy import DCRRatio, DCRShare, ExactCopies


def test_copies_of_train_are_caught(make_ctx, real):
    train, _ = real
    ctx = make_ctx(train.copy())
    assert DCRShare().compute(ctx).score == pytest.approx(1.0, abs=0.05)  # ties with holdout dupes count ½
    assert ExactCopies().compute(ctx).score == pytest.approx(1.0)
    assert DCRRatio().compute(ctx).score == 0.0


def test_fresh_draws_from_the_same_distribution_look_like_the_holdout(make_ctx, real):
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, 300)
    fresh = real[0].iloc[:0].copy()
    fresh["x"], fresh["y"] = np.round(x, 3), np.round(2 * x + rng.normal(0, 0.3, 300), 3)
    fresh["c"] = np.where(x > 0, "hi", "lo")
    ctx = make_ctx(fresh)
    assert 0.4 < DCRShare().compute(ctx).score < 0.6
    assert ExactCopies().compute(ctx).score == 0.0
    assert 0.8 < DCRRatio().compute(ctx).score < 1.25


def test_holdout_as_synthetic_is_never_closer_to_train(make_ctx, real):
    ctx = make_ctx(real[1])
    assert DCRShare().compute(ctx).score <= 0.5
    assert DCRRatio().compute(ctx).score == pytest.approx(1.0)
    assert ExactCopies().compute(ctx).score == 0.0


def test_tiny_noise_on_train_is_still_copying(make_ctx, real):
    noisy = real[0].copy()
    noisy["x"] += np.random.default_rng(2).normal(0, 0.001, len(noisy))
    ctx = make_ctx(noisy)
    assert DCRShare().compute(ctx).score > 0.9 and DCRRatio().compute(ctx).score < 0.1


def test_nndr_and_membership_inference_catch_memorisation(make_ctx, real):
    from synthgen.validation.privacy import MembershipInference, NNDRRatio

    noisy = real[0].copy()
    noisy["x"] += np.random.default_rng(3).normal(0, 0.001, len(noisy))
    ctx = make_ctx(noisy)
    assert NNDRRatio().compute(ctx).score < 0.2
    assert MembershipInference().compute(ctx).score > 0.95


def test_fresh_data_gives_no_membership_signal(make_ctx, real):
    from synthgen.validation.privacy import MembershipInference, NNDRRatio

    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, 300)
    fresh = pd.DataFrame(
        {"x": np.round(x, 3), "y": np.round(2 * x + rng.normal(0, 0.3, 300), 3), "c": np.where(x > 0, "hi", "lo")}
    )
    ctx = make_ctx(fresh)
    assert 0.4 < MembershipInference().compute(ctx).score < 0.6
    assert 0.75 < NNDRRatio().compute(ctx).score < 1.3
