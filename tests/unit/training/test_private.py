"""DP-SGD through Opacus: the budget spent is the accountant's, training stops at it, and the same
seed gives the same bytes."""

import dataclasses
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from opacus.accountants import RDPAccountant

from synthgen.config import PrivacyParams, TrainParams
from synthgen.errors import SynthgenError
from synthgen.models.tabular_ar import TabularAR
from synthgen.training import fit_model
from synthgen.training.private import DPSGD, SgdPlan, epsilon_after, require_opacus

BLOCKS = [("value", 1), ("onehot", 3), ("flag", 1)]


def _data(n=400):
    rng = np.random.default_rng(0)
    onehot = -np.ones((n, 3), np.float32)
    onehot[np.arange(n), rng.integers(0, 3, n)] = 1
    flag = np.where(rng.random(n) < 0.2, 1.0, -1.0).astype(np.float32)[:, None]
    return np.concatenate([rng.normal(size=(n, 1)).astype(np.float32), onehot, flag], 1), rng.integers(0, 2, n)


def _fit(epsilon=2.0, seed=0, epochs=4, noise_seed=7):
    x, y = _data()
    torch.manual_seed(seed)
    model = TabularAR(5, 2, {"width": 16, "depth": 1, "heads": 2, "bins": 16}, BLOCKS)
    params = TrainParams(epochs=epochs, batch_size=40, privacy=PrivacyParams(epsilon=epsilon))
    return model, fit_model(model, [x, y], params, seed=seed, dp=(epsilon, 1e-5), noise_seed=noise_seed)


def test_the_epsilon_spent_is_opacus_accountants_for_the_same_run_and_training_stops_at_the_budget():
    _, trained = _fit()
    dp = trained.summary["privacy"]
    accountant = RDPAccountant()
    accountant.history = [(dp["noise_multiplier"], dp["sample_rate"], dp["steps_taken"])]
    assert dp["epsilon_spent"] == pytest.approx(accountant.get_epsilon(1e-5), rel=0.01)
    assert dp["sample_rate"] == pytest.approx(40 / 400)
    assert dp["steps_taken"] == dp["steps"] == trained.summary["steps"] == 4 * 10  # epochs / sample rate
    plan = SgdPlan(**{k: dp[k] for k in SgdPlan.__dataclass_fields__})
    assert 0.98 * 2.0 <= dp["epsilon_spent"] <= 2.0 < epsilon_after(plan, dp["steps"] + 1)
    assert trained.curve["train_loss"].isna().all()  # a DP fit's losses are not released


def test_a_step_that_would_overspend_is_not_taken():
    plan = SgdPlan.for_budget(1.0, 1e-5, 0.1, 50, 1.0, "rdp")
    callback = DPSGD(dataclasses.replace(plan, epsilon=epsilon_after(plan, 20)), 10, 0)  # what 20 steps spend
    trainer = SimpleNamespace(should_stop=False)
    for step in range(20):
        assert not trainer.should_stop, step
        callback.on_train_batch_end(trainer, None, None, None, step)
    assert trainer.should_stop and callback.steps == 20 and callback.spent <= callback.plan.epsilon


def test_same_seed_noise_seed_and_epsilon_give_the_same_weights_and_another_noise_seed_does_not():
    (a, _), (b, _) = _fit(seed=0, epochs=2), _fit(seed=0, epochs=2)
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key
    for other in (_fit(seed=0, epochs=2, noise_seed=8)[0], _fit(seed=0, epochs=2, noise_seed=None)[0]):
        assert any(not torch.equal(v, other.state_dict()[k]) for k, v in a.state_dict().items())


def test_without_opacus_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "opacus", None)  # as if not installed: import raises ImportError
    with pytest.raises(SynthgenError, match=r"pip install 'synthgen\[dp\]'"):
        require_opacus()


def test_empty_poisson_batches_are_steps_of_noise_only():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 1)).astype(np.float32), rng.integers(0, 2, 12)
    model = TabularAR(1, 2, {"width": 8, "depth": 1, "heads": 2, "bins": 16}, [("value", 1)])
    params = TrainParams(epochs=3, batch_size=1, privacy=PrivacyParams(epsilon=5.0))
    summary = fit_model(model, [x, y], params, seed=0, dp=(5.0, 1e-5), noise_seed=0).summary
    assert summary["steps"] == 36 and summary["samples_seen"] < 36  # some of the 36 batches were empty
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_the_sensor_model_trains_under_dp_sgd_through_empty_batches_and_leaves_no_dp_state():
    from synthgen.models.sensor_ddpm import SensorDDPM

    rng = np.random.default_rng(0)
    x, mask = rng.normal(size=(6, 8, 2)).astype(np.float32), np.ones((6, 8), np.float32)
    mask[0, 5:] = 0
    y, static = rng.integers(0, 2, 6), np.zeros((6, 0), np.float32)
    model = SensorDDPM(2, 8, 2, 0, {"width": 8, "cycles": 1})
    params = TrainParams(model="sensor_ddpm", epochs=3, batch_size=1, privacy=PrivacyParams(epsilon=5.0))
    summary = fit_model(model, [x, mask, y, static], params, seed=0, dp=(5.0, 1e-5), noise_seed=0).summary
    assert summary["steps"] == 18 and summary["privacy"]["epsilon_spent"] <= 5.0
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert not model.per_example_loss and all(getattr(p, "grad_sample", None) is None for p in model.parameters())
