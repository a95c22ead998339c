import numpy as np
import torch

from synthgen.config import TrainParams
from synthgen.models.tabular_ddpm import TabularDDPM
from synthgen.training import fit_model


def _data(n=200):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype(np.float32), rng.integers(0, 2, n)


def test_epochs_are_passes_and_the_loss_curve_has_every_step(tmp_path):
    x, y = _data()
    model = TabularDDPM(3, 2, {"width": 16, "depth": 1})
    params = TrainParams(epochs=7, batch_size=50, validation_fraction=0.0)
    curve = fit_model(model, [x, y], params, seed=0, log_dir=tmp_path)
    assert len(curve) == 7 * 4 and curve["step"].tolist() == list(range(28))
    assert curve["train_loss"].notna().all()


def test_early_stopping_stops_a_diverging_run(tmp_path):
    x, y = _data(400)
    torch.manual_seed(0)
    model = TabularDDPM(3, 2, {"width": 16, "depth": 1, "learning_rate": 3.0})  # diverges: val loss rises
    params = TrainParams(epochs=200, batch_size=64, validation_fraction=0.2, early_stopping_patience=1)
    curve = fit_model(model, [x, y], params, seed=0, log_dir=tmp_path)
    val = curve["val_loss"].dropna()
    assert curve["step"].max() < 200 * 5 - 1  # stopped early
    assert len(val) >= 2


def test_a_gan_trains_its_whole_budget_on_all_rows(tmp_path):
    from synthgen.models.ctgan import CTGAN

    x, y = _data(400)
    model = CTGAN(3, 2, {"width": 16, "noise_dim": 4, "pac": 2})
    params = TrainParams(epochs=3, batch_size=100, validation_fraction=0.2, early_stopping_patience=1)
    curve = fit_model(model, [x, y], params, seed=0, log_dir=tmp_path)
    assert len(curve) == 3 * 4 and "val_loss" not in curve  # every row trains; no early stop
