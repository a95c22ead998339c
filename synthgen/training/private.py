"""DP-SGD through Opacus: each row's gradient clipped to `max_grad_norm`, Gaussian noise on their
sum, rows drawn by Poisson sampling, and an accountant (RDP or PRV) that turns the noise
multiplier, the sample rate and the steps taken into epsilon.

The noise multiplier is chosen (Opacus's `get_noise_multiplier`) so that the planned steps spend
exactly the DP-SGD share of `train.privacy.epsilon`; a step that would spend more is never taken.
Opacus is an optional extra, imported only when privacy is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from torch.utils.data import Sampler

from synthgen.errors import SynthgenError

INSTALL_HINT = "pip install 'synthgen[dp]'"


def require_opacus() -> None:
    """Fail in one line, with the install command, when the dp extra is not installed."""
    try:
        import opacus  # noqa: F401
    except ImportError as exc:
        raise SynthgenError(f"train.privacy needs Opacus, which is not installed; run {INSTALL_HINT}") from exc


@dataclass(frozen=True)
class SgdPlan:
    """What DP-SGD will spend: (epsilon, delta) over `steps` steps at `sample_rate`."""

    epsilon: float
    delta: float
    sample_rate: float
    steps: int
    noise_multiplier: float
    max_grad_norm: float
    accountant: str

    @classmethod
    def for_budget(
        cls, epsilon: float, delta: float, sample_rate: float, steps: int, max_grad_norm: float, accountant: str
    ) -> SgdPlan:
        require_opacus()
        from opacus.accountants.utils import get_noise_multiplier

        try:
            sigma = get_noise_multiplier(
                target_epsilon=epsilon, target_delta=delta, sample_rate=sample_rate, steps=steps, accountant=accountant
            )
        except ValueError as exc:  # Opacus: "The privacy budget is too low."
            raise SynthgenError(
                f"train.privacy: the epsilon left for DP-SGD ({epsilon:.3g}) is too little for {steps} steps at sample "
                f"rate {sample_rate:.3g}; raise train.privacy.epsilon, lower preprocessing_share or train.epochs"
            ) from exc
        return cls(epsilon, delta, sample_rate, steps, float(sigma), max_grad_norm, accountant)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def epsilon_after(plan: SgdPlan, steps: int) -> float:
    """Epsilon that `steps` steps of the plan spend, by a fresh accountant of the plan's kind."""
    from opacus.accountants import create_accountant

    accountant = create_accountant(plan.accountant)
    if steps:
        accountant.history = [(plan.noise_multiplier, plan.sample_rate, steps)]
    return float(accountant.get_epsilon(plan.delta)) if steps else 0.0


def affordable_steps(plan: SgdPlan) -> int:
    """The most steps of the plan whose epsilon stays within `plan.epsilon` (epsilon grows with the
    steps, so a bisection; the noise was solved for `plan.steps`, which is then the answer)."""
    if epsilon_after(plan, plan.steps) <= plan.epsilon:
        return plan.steps
    low, high = 0, plan.steps  # epsilon_after(low) fits, epsilon_after(high) does not
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if epsilon_after(plan, middle) <= plan.epsilon else (low, middle)
    return low


class PoissonBatches(Sampler[list[int]]):
    """Opacus's Poisson sampler (every row joins each batch with probability `sample_rate`, so
    batches vary in size), from a seeded generator, with the batch sizes kept for the record."""

    def __init__(self, n_rows: int, sample_rate: float, steps: int, seed: int) -> None:
        from opacus.utils.uniform_sampler import UniformWithReplacementSampler

        self.generator = torch.Generator().manual_seed(seed)
        self.epoch_state = self.generator.get_state()
        self.inner = UniformWithReplacementSampler(
            num_samples=n_rows, sample_rate=sample_rate, generator=self.generator, steps=steps
        )
        self._sizes: list[int] = []

    def __len__(self) -> int:
        return len(self.inner)

    def global_rows(self, batch_idx: int) -> int:
        return self._sizes[batch_idx]

    def __iter__(self) -> Iterator[list[int]]:
        self.epoch_state = self.generator.get_state()
        self._sizes = []
        for rows in self.inner:
            self._sizes.append(len(rows))
            yield rows


class DPSGD(Callback):
    """Makes the module's optimizer Opacus's DPOptimizer for the fit, with per-sample gradients
    from Opacus's GradSampleModule hooks, and stops before a step that would overspend."""

    def __init__(self, plan: SgdPlan, expected_batch_size: int, noise_seed: int) -> None:
        self.plan = plan
        self.expected_batch_size = expected_batch_size
        self.noise_seed = noise_seed
        self.steps = 0
        self.max_steps = affordable_steps(plan)
        self._hooks: Any = None

    def on_fit_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        from opacus import GradSampleModule
        from opacus.optimizers import DPOptimizer

        if trainer.world_size > 1:
            raise SynthgenError("train.privacy trains in one process; set train.devices: 1 and train.num_nodes: 1")
        self._hooks = GradSampleModule(module, loss_reduction="mean")
        module.per_example_loss = True
        (optimizer,) = trainer.strategy.optimizers
        trainer.strategy.optimizers = [
            DPOptimizer(
                optimizer,
                noise_multiplier=self.plan.noise_multiplier,
                max_grad_norm=self.plan.max_grad_norm,
                expected_batch_size=self.expected_batch_size,
                loss_reduction="mean",
                generator=torch.Generator(device=module.device).manual_seed(self.noise_seed),
            )
        ]

    def on_train_batch_end(
        self, trainer: pl.Trainer, module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self.steps += 1
        if self.steps >= self.max_steps:
            trainer.should_stop = True  # the next step would spend more than the plan

    def teardown(self, trainer: pl.Trainer, module: pl.LightningModule, stage: str) -> None:
        """Remove Opacus's hooks however the fit ended, so sampling and a later fit see the plain model."""
        module.per_example_loss = False
        if self._hooks is not None:
            self._hooks.remove_hooks()
            self._hooks = None
            for p in module.parameters():
                p.grad_sample = None

    @property
    def spent(self) -> float:
        return epsilon_after(self.plan, self.steps)

    def summary(self) -> dict[str, Any]:
        return {**self.plan.to_dict(), "steps_taken": self.steps, "epsilon_spent": self.spent}
