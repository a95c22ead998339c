import logging
import re

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from synthgen.config import TrainParams
from synthgen.models.tabular_ddpm import TabularDDPM
from synthgen.training import budget_for, fit_model


def _data(n=200):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype(np.float32), rng.integers(0, 2, n)


def test_epochs_are_passes_and_the_loss_curve_has_every_step(tmp_path):
    x, y = _data()
    model = TabularDDPM(3, 2, {"width": 16, "depth": 1})
    params = TrainParams(epochs=7, batch_size=50, validation_fraction=0.0)
    curve = fit_model(model, [x, y], params, seed=0).curve
    assert len(curve) == 7 * 4 and curve["step"].tolist() == list(range(28))
    assert curve["train_loss"].notna().all()


def test_early_stopping_stops_a_diverging_run(tmp_path):
    x, y = _data(400)
    torch.manual_seed(0)
    model = TabularDDPM(3, 2, {"width": 16, "depth": 1, "learning_rate": 3.0})  # diverges: val loss rises
    params = TrainParams(epochs=200, batch_size=64, validation_fraction=0.2, early_stopping_patience=1)
    curve = fit_model(model, [x, y], params, seed=0).curve
    val = curve["val_loss"].dropna()
    assert curve["step"].max() < 200 * 5 - 1  # stopped early
    assert len(val) >= 2


def test_a_gan_trains_its_whole_budget_on_all_rows(tmp_path):
    from synthgen.models.ctgan import CTGAN

    x, y = _data(400)
    model = CTGAN(3, 2, {"width": 16, "noise_dim": 4, "pac": 2})
    params = TrainParams(epochs=3, batch_size=100, validation_fraction=0.2, early_stopping_patience=1)
    curve = fit_model(model, [x, y], params, seed=0).curve
    assert len(curve) == 3 * 4 and "val_loss" not in curve  # every row trains; no early stop


def test_the_record_counts_steps_and_rows_of_the_documented_budget():
    x, y = _data(203)
    model = TabularDDPM(3, 2, {"width": 16, "depth": 1})
    params = TrainParams(epochs=3, batch_size=50, validation_fraction=0.0)
    trained = fit_model(model, [x, y], params, seed=0)
    budget = budget_for(model, params, 203, 0)
    # 3 passes of 203 rows in global batches of 50: ceil(609 / 50) steps, every row of every pass seen once
    assert budget.steps == 13 and trained.summary["steps"] == 13 and trained.summary["budget_steps"] == 13
    assert trained.summary["samples_seen"] == 609 and trained.summary["stopped"] == "budget"


def test_max_time_ends_training_at_the_deadline_and_keeps_the_weights(tmp_path):
    x, y = _data(400)
    model = TabularDDPM(3, 2, {"width": 16, "depth": 1})
    params = TrainParams(epochs=100_000, batch_size=50, validation_fraction=0.0, max_time="00:00:00:02")
    trained = fit_model(model, [x, y], params, seed=0)
    assert trained.summary["stopped"] == "max_time"
    assert 0 < trained.summary["steps"] < trained.summary["budget_steps"]


def test_progress_lines_and_the_expected_duration_go_to_the_log_off_a_terminal(caplog, monkeypatch):
    from synthgen.training.callbacks import Progress

    # The estimate waits for 2 s of training; a quiet machine finishes this fit sooner than that.
    monkeypatch.setattr(Progress, "WARMUP_SECONDS", 0.0)
    x, y = _data(400)
    model = TabularDDPM(3, 2, {"width": 16, "depth": 1})
    params = TrainParams(epochs=100, batch_size=50, validation_fraction=0.0, progress_every=0.2)
    logger = logging.getLogger("synthgen.training")
    logger.addHandler(caplog.handler)  # the CLI's logging setup may have stopped propagation to the root
    try:
        with caplog.at_level(logging.INFO, logger="synthgen.training"):
            fit_model(model, [x, y], params, seed=0)
    finally:
        logger.removeHandler(caplog.handler)
    text = caplog.text
    assert re.search(r"steps/s over the first \d+ steps; expected \d+m\d\ds for the \d+ steps left", text)
    assert re.search(r"step \d+/\d+ \(\d+%\), loss [\d.]+, \d+ rows/s, ETA \d+m\d\ds", text)


def test_max_time_must_be_lightnings_format():
    with pytest.raises(ValidationError):
        TrainParams(max_time="2h")
