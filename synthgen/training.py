"""Builds the Lightning Trainer and loaders: Lightning owns devices, precision and checkpoints."""

from __future__ import annotations

import logging
import math
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.utilities.exceptions import MisconfigurationException
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from synthgen.config import TrainParams
from synthgen.errors import SynthgenError
from synthgen.models.base import GenerativeModel

log = logging.getLogger(__name__)
MIN_VALIDATION_ROWS = 8
VALIDATION_MIN_STEPS = 10
MIN_VALIDATION_ROUNDS = 20
MIN_BATCHES_PER_EPOCH = 50  # small tables: several passes per Lightning epoch, to amortise its per-epoch cost


def _precision(params: TrainParams) -> str:
    if params.precision:
        return params.precision
    gpu = torch.cuda.is_available() and params.accelerator in ("auto", "gpu", "cuda")
    return "bf16-mixed" if gpu and torch.cuda.is_bf16_supported() else "32-true"


def _loader(arrays: list[np.ndarray], batch_size: int, seed: int | None, passes: int = 1) -> DataLoader:
    """Seeded: shuffled `passes` times over within one loader epoch; seed None: in order, once."""
    data = TensorDataset(*(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays))
    if seed is None:
        return DataLoader(data, batch_size=batch_size, shuffle=False)
    sampler = RandomSampler(data, num_samples=len(data) * passes, generator=torch.Generator().manual_seed(seed))
    return DataLoader(data, batch_size=batch_size, sampler=sampler)


@dataclass(frozen=True)
class Budget:
    """How one run splits the rows and spends its steps."""

    val_idx: np.ndarray
    fit_idx: np.ndarray
    batch_size: int
    passes: int
    per_epoch: int
    epochs: int
    val_every: int


def _budget(model: GenerativeModel, params: TrainParams, n_rows: int, seed: int) -> Budget:
    """Validation rows, batch size and passes: the model's default steps unless train.epochs is set."""
    order = np.random.default_rng(seed).permutation(n_rows)
    n_val = int(n_rows * params.validation_fraction)
    n_val = n_val if n_val >= MIN_VALIDATION_ROWS and model.validation_loss_ranks else 0
    val_idx, fit_idx = order[:n_val], order[n_val:]
    batch_size = min(params.batch_size, len(fit_idx))
    batches_per_pass = math.ceil(len(fit_idx) / batch_size)
    passes = params.epochs or max(1, math.ceil(model.default_steps / batches_per_pass))
    per_epoch = min(passes, max(1, MIN_BATCHES_PER_EPOCH // batches_per_pass))
    # Validate about once per pass over the data, but at least every VALIDATION_MIN_STEPS steps (tiny
    # tables overfit within a few dozen full-data steps) and at least MIN_VALIDATION_ROUNDS times a run.
    total_steps = passes * batches_per_pass
    val_every = max(VALIDATION_MIN_STEPS, min(batches_per_pass, total_steps // MIN_VALIDATION_ROUNDS))
    return Budget(val_idx, fit_idx, batch_size, passes, per_epoch, math.ceil(passes / per_epoch), val_every)


def _trainer(params: TrainParams, budget: Budget, callbacks: list, checkpointing: bool, log_dir: Path) -> pl.Trainer:
    """Lightning's Trainer with devices, strategy and precision from params; bad settings are one line."""
    try:
        return pl.Trainer(
            max_epochs=budget.epochs,
            accelerator=params.accelerator,
            devices=params.devices,
            num_nodes=params.num_nodes,
            strategy=params.strategy,
            precision=_precision(params),
            deterministic=True,
            callbacks=callbacks,
            enable_checkpointing=checkpointing,
            logger=CSVLogger(str(log_dir), name="", version=""),
            log_every_n_steps=1,
            check_val_every_n_epoch=None,
            val_check_interval=budget.val_every,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            enable_progress_bar=True,
        )
    except (MisconfigurationException, ValueError, RuntimeError) as exc:
        raise SynthgenError(
            f"params train.accelerator/devices/num_nodes/strategy/precision: {str(exc).splitlines()[0]}; "
            "use accelerator auto|cpu|gpu, a Lightning strategy such as ddp and a precision such as 32-true"
        ) from exc


def fit_model(
    model: GenerativeModel,
    arrays: Sequence[np.ndarray],
    params: TrainParams,
    seed: int,
    log_dir: Path,
) -> pd.DataFrame:
    """Train with early stopping on a held-out part of train; returns the loss curve. `arrays` are the
    model's batch tensors (rows first), e.g. (encoded rows, class indices)."""
    pl.seed_everything(seed, workers=True, verbose=False)
    n_rows = len(arrays[0])
    budget = _budget(model, params, n_rows, seed)
    n_val = len(budget.val_idx)
    monitor = "val_loss" if n_val else "train_loss"
    with tempfile.TemporaryDirectory(prefix="synthgen-ckpt-") as ckpt_dir:
        checkpoint = ModelCheckpoint(dirpath=ckpt_dir, monitor=monitor, mode="min", save_top_k=1)
        callbacks = [checkpoint] if model.validation_loss_ranks else []
        if n_val:
            callbacks.append(EarlyStopping(monitor="val_loss", patience=params.early_stopping_patience, mode="min"))
        trainer = _trainer(params, budget, callbacks, model.validation_loss_ranks, log_dir)
        train_loader = _loader([a[budget.fit_idx] for a in arrays], budget.batch_size, seed, budget.per_epoch)
        val_loader = _loader([a[budget.val_idx] for a in arrays], budget.batch_size, None) if n_val else None
        log.info(
            "training %s: %d rows (%d for validation), %d passes max (%d per Lightning epoch), precision %s, "
            "%d process(es)",
            type(model).__name__,
            n_rows,
            n_val,
            budget.passes,
            budget.per_epoch,
            trainer.precision,
            trainer.world_size,
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=".*number of training batches.*")
            warnings.filterwarnings("ignore", message=".*no `val_dataloader`.*")  # too few rows to hold some back
            trainer.fit(model, train_loader, val_loader)
        if not trainer.is_global_zero:
            # A process Lightning launched for another rank: its weights equal rank 0's, which saves them.
            log.info("rank %d of %d: training done; rank 0 saves the model", trainer.global_rank, trainer.world_size)
            raise SystemExit(0)
        if model.validation_loss_ranks and checkpoint.best_model_path:
            best = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
            model.load_state_dict(best["state_dict"])
    return _loss_curve(log_dir / "metrics.csv")


def _loss_curve(metrics_csv: Path) -> pd.DataFrame:
    metrics = pd.read_csv(metrics_csv)
    cols = [c for c in ("step", "train_loss", "val_loss") if c in metrics.columns]
    curve = metrics[cols].groupby("step", as_index=False).first()
    metrics_csv.unlink()
    (metrics_csv.parent / "hparams.yaml").unlink(missing_ok=True)
    return curve
