"""Each sequence check on data where the answer is known."""

import numpy as np
import pandas as pd
import pytest

from synthgen.config import PRIVACY_ALPHA
from synthgen.data.schema import infer_schema
from synthgen.validation.base import CheckSkipped, Context
from synthgen.validation.sequences import (
    Autocorrelation,
    ChannelKS,
    CrossCorrelation,
    DiscriminativeScore,
    PredictiveScore,
    SequenceContext,
    SequenceDCRShare,
    SequenceMembershipInference,
    SequenceNearCopies,
    Sequences,
    Spectrum,
)


def _ar1(n: int, length: int = 32, phi: float = 0.9, seed: int = 0) -> Sequences:
    """Two coupled AR(1) channels: smooth, autocorrelated, correlated with each other."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, length, 2), dtype=np.float32)
    for t in range(1, length):
        x[:, t, 0] = phi * x[:, t - 1, 0] + rng.normal(size=n) * 0.4
    x[:, :, 1] = 0.8 * x[:, :, 0] + rng.normal(size=(n, length)) * 0.3
    return Sequences(x, np.full(n, length))


def _noise(n: int, length: int = 32, seed: int = 5) -> Sequences:
    return Sequences(np.random.default_rng(seed).normal(size=(n, length, 2)).astype(np.float32), np.full(n, length))


def _ctx(synthetic: Sequences, train: Sequences | None = None, holdout: Sequences | None = None) -> SequenceContext:
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    tables = Context(frame, frame, frame, infer_schema(frame), 0, None)
    return SequenceContext(train or _ar1(60), holdout or _ar1(30, seed=1), synthetic, 0, None, tables)


def test_fresh_draws_of_the_same_process_score_well_and_noise_scores_badly():
    same, noise = _ctx(_ar1(60, seed=2)), _ctx(_noise(60))
    assert ChannelKS().compute(same).score > 0.9
    assert Autocorrelation().compute(same).score < 0.05 < 0.2 < Autocorrelation().compute(noise).score
    assert CrossCorrelation().compute(same).score < 0.05 < 0.5 < CrossCorrelation().compute(noise).score
    assert Spectrum().compute(same).score < 0.1 < 0.3 < Spectrum().compute(noise).score


def test_cross_correlation_skips_a_single_channel():
    one = Sequences(_ar1(10).values[:, :, :1], np.full(10, 32))
    with pytest.raises(CheckSkipped):
        CrossCorrelation().compute(_ctx(one, train=one))


def test_the_gru_discriminator_cannot_split_a_process_from_itself_but_splits_noise():
    assert DiscriminativeScore().compute(_ctx(_ar1(60, seed=2))).score < 0.15
    assert DiscriminativeScore().compute(_ctx(_noise(60))).score > 0.35


def test_predicting_from_synthetic_is_as_good_as_from_real_only_when_it_is_alike():
    assert PredictiveScore().compute(_ctx(_ar1(60, seed=2))).score < 1.15
    assert PredictiveScore().compute(_ctx(_noise(60))).score > 1.3


PRIVACY = (SequenceDCRShare, SequenceNearCopies, SequenceMembershipInference)


@pytest.mark.parametrize(
    "disguise",
    [
        lambda x: x + np.float32(0.01),
        lambda x: np.roll(x, 7, axis=1),  # circular time shift
        lambda x: np.concatenate([x[:, 2:], x[:, -2:]], axis=1),  # a late start (linear shift)
    ],
)
def test_disguised_copies_fail_the_nearest_sequence_checks(disguise):
    train = _ar1(60)
    copied = _ctx(Sequences(disguise(train.values), train.lengths), train=train)
    for check in PRIVACY:
        assert check().compute(copied).score < PRIVACY_ALPHA, check.__name__


def test_fresh_sequences_pass_the_nearest_sequence_checks():
    fresh = _ctx(_ar1(60, seed=2), train=_ar1(60))
    for check in PRIVACY:
        assert check().compute(fresh).score > PRIVACY_ALPHA, check.__name__
