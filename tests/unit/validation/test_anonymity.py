import numpy as np
import pytest

from synthgen.config import PRIVACY_ALPHA
from synthgen.validation.anonymity import InferenceRisk, LinkabilityRisk, SinglingOutRisk, risk, wilson


def test_wilson_interval_matches_the_textbook_value():
    rate, low, high = wilson(8, 10)
    assert rate == 0.8 and low == pytest.approx(0.490, abs=1e-3) and high == pytest.approx(0.943, abs=1e-3)


def test_risk_is_zero_when_attack_equals_control():
    outcome = risk([True, False] * 50, [True, False] * 50, [False] * 100)
    assert outcome.details["risk"] == 0.0 and outcome.details["control_success"] == 0.5
    assert outcome.score == pytest.approx(0.5)  # the p-value of "attack beats control"


def test_risk_is_normalised_by_the_control():
    outcome = risk([True] * 75 + [False] * 25, [True] * 50 + [False] * 50, [False] * 100)
    assert outcome.details["risk"] == pytest.approx(0.5)  # (0.75 - 0.5) / (1 - 0.5)
    assert outcome.score < 0.001


@pytest.mark.parametrize("check", [SinglingOutRisk, LinkabilityRisk, InferenceRisk])
def test_copies_of_train_are_risky_and_fresh_data_is_not(check, make_ctx, real):
    train, _ = real
    copied = check().compute(make_ctx(train.copy()))
    # Risk is high, yet these attacks are weak tests on 300 rows of three columns (few predicates single
    # out a row; the secret `c` follows from `x` for the control too): the distance checks carry the gate.
    assert copied.score < 0.1 and copied.details["risk"] > 0.3
    rng = np.random.default_rng(9)
    x = rng.normal(0, 1, 300)
    fresh = train.iloc[:0].copy()
    fresh["x"], fresh["y"] = np.round(x, 3), np.round(2 * x + rng.normal(0, 0.3, 300), 3)
    fresh["c"] = np.where(x > 0, "hi", "lo")
    outcome = check().compute(make_ctx(fresh))
    assert outcome.score > PRIVACY_ALPHA and len(outcome.details["risk_ci95"]) == 2


def test_a_set_where_no_predicate_is_unique_singles_out_nobody(make_ctx, real):
    train, _ = real
    twice = train.iloc[np.repeat(np.arange(0, len(train), 10), 2)]  # every synthetic row has a twin
    outcome = SinglingOutRisk().compute(make_ctx(twice))
    assert outcome.score == 1.0 and outcome.details["queries"] == 0
