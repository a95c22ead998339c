"""Checks for sensor sequences (METRICS.md, "Sequences"): distribution and dynamics, a post-hoc GRU
discriminator and next-step predictor, and nearest-sequence privacy.

Every check reads padded arrays standardised with the real train channels' mean and std, so scores
are comparable across channels and data sets; only real (unpadded) steps are compared. Privacy
distances are RMS per value, minimised over time shifts (validation/invariant.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.stats import ks_2samp
from torch import nn

from synthgen.data import constraints
from synthgen.registry import CHECKS
from synthgen.validation.base import Cached, Check, CheckSkipped, Context, Outcome
from synthgen.validation.expectations import Expectations
from synthgen.validation.invariant import shift_invariant_neighbours
from synthgen.validation.privacy import Distances, distance_tests, distances

MAX_LAG = 10
FOLDS = 3
GRU_STEPS = 150


@dataclass
class Sequences:
    values: np.ndarray  # (entities, length, channels), standardised
    lengths: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        return np.arange(self.values.shape[1])[None, :] < self.lengths[:, None]


@dataclass
class SequenceContext(Cached):
    train: Sequences
    holdout: Sequences
    synthetic: Sequences | None  # None when the synthetic table has schema problems
    seed: int
    out_dir: Path
    tables: Context  # the long tables and their schema, for the schema checks
    cache: dict[str, Any] = field(default_factory=dict)
    # the layout's constraints and the unscaled (values, lengths) of train, holdout and synthetic
    constraints: dict[str, Any] = field(default_factory=dict)


def _steps(seqs: Sequences) -> np.ndarray:
    return seqs.values[seqs.mask]  # (real steps, channels)


def _acf(seqs: Sequences, max_lag: int) -> np.ndarray:
    """Mean autocorrelation per lag and channel over entities (padding excluded by the shortest length)."""
    length = int(seqs.lengths.min())
    x = seqs.values[:, :length]
    x = x - x.mean(axis=1, keepdims=True)
    var = (x**2).mean(axis=1) + 1e-12
    lags = range(1, min(max_lag, length - 1) + 1)
    return np.stack([((x[:, lag:] * x[:, :-lag]).mean(axis=1) / var).mean(axis=0) for lag in lags])


@CHECKS.register("channel_ks")
class ChannelKS(Check):
    modality = "sensor"
    kind = "fidelity"
    direction = "higher_is_better"
    description = "1 - mean Kolmogorov-Smirnov statistic between real and synthetic values, per channel"

    def compute(self, ctx: SequenceContext) -> Outcome:
        real, synth = _steps(ctx.train), _steps(ctx.synthetic)
        per_channel = [float(ks_2samp(real[:, c], synth[:, c]).statistic) for c in range(real.shape[1])]
        return Outcome(1 - float(np.mean(per_channel)), {"ks_per_channel": per_channel})


@CHECKS.register("autocorrelation")
class Autocorrelation(Check):
    modality = "sensor"
    kind = "fidelity"
    direction = "lower_is_better"
    description = f"mean |difference| of autocorrelations at lags 1-{MAX_LAG}, per channel"

    def compute(self, ctx: SequenceContext) -> Outcome:
        real, synth = _acf(ctx.train, MAX_LAG), _acf(ctx.synthetic, MAX_LAG)
        lags = min(len(real), len(synth))
        diff = np.abs(real[:lags] - synth[:lags])
        return Outcome(float(diff.mean()), {"lag1_real": real[0].tolist(), "lag1_synthetic": synth[0].tolist()})


@CHECKS.register("cross_correlation")
class CrossCorrelation(Check):
    modality = "sensor"
    kind = "fidelity"
    direction = "lower_is_better"
    description = "mean |difference| of the channel-to-channel correlation matrices"

    def compute(self, ctx: SequenceContext) -> Outcome:
        real, synth = _steps(ctx.train), _steps(ctx.synthetic)
        if real.shape[1] < 2:
            raise CheckSkipped("one channel: no cross-correlation")
        upper = np.triu_indices(real.shape[1], 1)
        diff = np.abs(np.corrcoef(real.T)[upper] - np.corrcoef(synth.T)[upper])
        return Outcome(float(np.nan_to_num(diff, nan=1.0).mean()), {"max_difference": float(np.nanmax(diff))})


@CHECKS.register("spectrum")
class Spectrum(Check):
    modality = "sensor"
    kind = "fidelity"
    direction = "lower_is_better"
    description = "total-variation distance between mean normalised power spectra, averaged over channels (0-1)"

    def compute(self, ctx: SequenceContext) -> Outcome:
        length = int(min(ctx.train.lengths.min(), ctx.synthetic.lengths.min()))
        if length < 4:
            raise CheckSkipped(f"sequences of {length} steps: too short for a spectrum")

        def spectrum(seqs: Sequences) -> np.ndarray:
            power = np.abs(np.fft.rfft(seqs.values[:, :length], axis=1)[:, 1:]) ** 2  # drop the mean
            mean = power.mean(axis=0)
            return mean / (mean.sum(axis=0, keepdims=True) + 1e-12)

        tv = 0.5 * np.abs(spectrum(ctx.train) - spectrum(ctx.synthetic)).sum(axis=0)
        return Outcome(float(tv.mean()), {"per_channel": tv.tolist()})


class _GRU(nn.Module):
    def __init__(self, channels: int, hidden: int, out: int) -> None:
        super().__init__()
        self.gru = nn.GRU(channels, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.gru(x)[0])


def _fit(model: nn.Module, loss_fn: Any, x: torch.Tensor, target: torch.Tensor, seed: int) -> nn.Module:
    """A small seeded Adam loop: these are post-hoc judges, not generators."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(GRU_STEPS):
        idx = torch.randint(0, len(x), (min(128, len(x)),), generator=gen)
        opt.zero_grad()
        loss_fn(model(x[idx]), target[idx]).backward()
        opt.step()
    return model.eval()


def _last_step_bce(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy_with_logits(out[:, -1, 0], target)


def _hidden(channels: int) -> int:
    return max(16, 2 * channels)


@CHECKS.register("discriminative_score")
class DiscriminativeScore(Check):
    modality = "sensor"
    kind = "fidelity"
    direction = "lower_is_better"
    description = f"|accuracy - 0.5| of a 2-layer GRU telling real from synthetic, over {FOLDS} shuffled folds"

    def compute(self, ctx: SequenceContext) -> Outcome:
        n = min(len(ctx.train.values), len(ctx.synthetic.values))
        if n < FOLDS:
            raise CheckSkipped(f"{n} sequences per side: too few for {FOLDS} folds")
        rng = np.random.default_rng(ctx.seed)
        real = ctx.train.values[rng.permutation(len(ctx.train.values))[:n]]
        synth = ctx.synthetic.values[rng.permutation(len(ctx.synthetic.values))[:n]]
        x = torch.as_tensor(np.concatenate([real, synth]), dtype=torch.float32)
        y = torch.cat([torch.ones(n), torch.zeros(n)])
        scores = []
        with torch.random.fork_rng():
            for fold, test in enumerate(np.array_split(rng.permutation(2 * n), FOLDS)):
                torch.manual_seed(ctx.seed + fold)
                train = np.setdiff1d(np.arange(2 * n), test)
                model = _GRU(x.shape[2], _hidden(x.shape[2]), 1)
                _fit(model, _last_step_bce, x[train], y[train], ctx.seed + fold)
                with torch.no_grad():
                    accuracy = ((model(x[test])[:, -1, 0] > 0).float() == y[test]).float().mean().item()
                scores.append(abs(accuracy - 0.5))
        return Outcome(float(np.mean(scores)), {"per_fold": scores})


@CHECKS.register("predictive_score")
class PredictiveScore(Check):
    modality = "sensor"
    kind = "utility"
    direction = "lower_is_better"
    description = (
        "next-step MAE on real holdout of a GRU trained on synthetic, divided by the same trained on real train"
    )

    def compute(self, ctx: SequenceContext) -> Outcome:
        if ctx.holdout.values.shape[1] < 3:
            raise CheckSkipped("sequences shorter than 3 steps")

        def mae(source: Sequences, seed: int) -> float:
            x = torch.as_tensor(source.values, dtype=torch.float32)
            mask = torch.as_tensor(source.mask[:, 1:], dtype=torch.float32)[..., None]
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                model = _GRU(x.shape[2], _hidden(x.shape[2]), x.shape[2])
                inputs, targets = x[:, :-1], torch.cat([x[:, 1:], mask], 2)
                _fit(model, lambda out, t: ((out - t[..., :-1]).abs() * t[..., -1:]).mean(), inputs, targets, seed)
            test = torch.as_tensor(ctx.holdout.values, dtype=torch.float32)
            test_mask = torch.as_tensor(ctx.holdout.mask[:, 1:], dtype=torch.float32)[..., None]
            with torch.no_grad():
                error = (model(test[:, :-1]) - test[:, 1:]).abs() * test_mask
            return float(error.sum() / (test_mask.sum() * test.shape[2]))

        tstr, trtr = mae(ctx.synthetic, ctx.seed), mae(ctx.train, ctx.seed)
        return Outcome(tstr / trtr, {"mae_trained_on_synthetic": tstr, "mae_trained_on_real": trtr})


def sequence_distances(ctx: SequenceContext) -> Distances:
    """Every privacy distance between sequences, invariant to time shifts, computed once."""
    return ctx.cached(
        "distances",
        lambda: distances(
            ctx.train.values, ctx.holdout.values, ctx.synthetic.values, ctx.seed, shift_invariant_neighbours
        ),
    )


def nearest_distances(ctx: SequenceContext) -> tuple[np.ndarray, np.ndarray]:
    """Distance from each synthetic and each holdout sequence to its nearest train sequence (for the report)."""
    d = sequence_distances(ctx)
    return d.synthetic_to_train, d.unseen_to_train[: len(ctx.holdout.values)]


SequenceDCRShare, SequenceNearCopies, SequenceMembershipInference = distance_tests(
    "sensor", "sequence_", "sequences", sequence_distances, " (any time shift)"
)


@CHECKS.register("sequence_constraints")
class SequenceConstraints(Check):
    name = "sequence_constraints"
    modality = "sensor"
    kind = "schema"
    direction = "higher_is_better"
    description = "share of synthetic entities that keep every declared constraint (1 when none is declared)"

    def _share(self, ctx: SequenceContext, which: str) -> tuple[float, dict[str, float]]:
        found = ctx.constraints
        rules = constraints.parse(found["rules"])
        return constraints.entities_held(rules, *found[which], found["channels"])

    def compute(self, ctx: SequenceContext) -> Outcome:
        if not ctx.constraints:
            return Outcome(1.0, {"constraints": 0})
        share, per_rule = self._share(ctx, "synthetic")
        return Outcome(share, {"constraints": len(per_rule), "held": {k: round(v, 6) for k, v in per_rule.items()}})

    def real_floor(self, ctx: Any) -> tuple[float, float] | None:
        """The holdout's own share: only lower when validate is given other data than ingest checked."""
        return self._share(ctx, "synthetic")[0], self._share(ctx, "holdout")[0]


@CHECKS.register("sequence_expectations")
class SequenceExpectations(Expectations):
    """The Great Expectations suite built from the real long table, run on the synthetic long table."""

    modality = "sensor"

    def compute(self, ctx: SequenceContext) -> Outcome:
        ctx.tables.cache["units"] = (len(ctx.train.values), len(ctx.synthetic.values))  # entities, not steps
        return super().compute(ctx.tables)
