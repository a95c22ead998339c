"""A conditional Wasserstein GAN with gradient penalty over the encoded table (after CTGAN).

What CTGAN does and where it lives here:
- mode-specific normalisation: the shared encoder's quantile-to-normal transform already makes every
  numeric column unimodal (CTGAN fits a Gaussian mixture per column for the same reason);
- conditional generator and training-by-sampling: rows are redrawn within each batch so a class is
  seen in proportion to the log of its frequency, and generator and critic both see the class;
- PacGAN: the critic judges `pac` rows at once, which penalises mode collapse;
- Gumbel-softmax outputs for category blocks, tanh for missing flags, linear outputs for numerics.
The losses of a GAN do not rank checkpoints, so it trains its whole budget and keeps the last weights.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from synthgen.models.base import Blocks, ModelConfig, TabularModel
from synthgen.registry import MODELS


class CTGANConfig(ModelConfig):
    learning_rate: float = 2e-4
    width: int = 256
    noise_dim: int = 128
    pac: int = 10
    gp_weight: float = 10.0
    gumbel_tau: float = 0.2
    weight_decay: float = 1e-6


class _Residual(nn.Module):
    """CTGAN's generator block: the input is concatenated to the block's output."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.fc = nn.Linear(n_in, n_out)
        self.bn = nn.BatchNorm1d(n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


@MODELS.register("ctgan")
class CTGAN(TabularModel):
    Config = CTGANConfig
    default_steps = 3000
    validation_loss_ranks = False
    ddp_unused_parameters = True  # the critic step's backward does not reach the generator

    def __init__(self, n_features: int, n_classes: int, config: dict[str, Any], blocks: Blocks | None = None) -> None:
        super().__init__(n_features, n_classes, config, blocks)
        cfg = self.config
        self.automatic_optimization = False
        n_cond = n_classes + 1
        self.generator = nn.Sequential(
            _Residual(cfg.noise_dim + n_cond, cfg.width),
            _Residual(cfg.noise_dim + n_cond + cfg.width, cfg.width),
            nn.Linear(cfg.noise_dim + n_cond + 2 * cfg.width, n_features),
        )
        self.critic = nn.Sequential(
            nn.Linear(cfg.pac * (n_features + n_cond), cfg.width),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.5),
            nn.Linear(cfg.width, cfg.width),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.5),
            nn.Linear(cfg.width, 1),
        )

    def _condition(self, y: torch.Tensor) -> torch.Tensor:
        return F.one_hot(y, self.n_classes + 1).float()

    def _generate(self, y: torch.Tensor, generator: torch.Generator | None = None, hard: bool = False) -> torch.Tensor:
        cfg = self.config
        z = torch.randn((len(y), cfg.noise_dim), device=y.device, generator=generator)
        raw = self.generator(torch.cat([z, self._condition(y)], dim=1))
        parts, start = [], 0
        for kind, width in self.blocks:
            block = raw[:, start : start + width]
            start += width
            if kind == "onehot":
                probs = F.softmax(block, dim=1) if hard else F.gumbel_softmax(block, tau=cfg.gumbel_tau, dim=1)
                parts.append(2 * probs - 1)
            elif kind == "flag":
                parts.append(torch.tanh(block))
            else:
                parts.append(block)
        return torch.cat(parts, dim=1)

    def _judge(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        rows = torch.cat([x, self._condition(y)], dim=1)
        return self.critic(rows.reshape(len(rows) // self.config.pac, -1))

    def _gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        pac = self.config.pac
        alpha = torch.rand((len(real) // pac, 1, 1), device=real.device).expand(-1, pac, 1).reshape(-1, 1)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(self._judge(mixed, y).sum(), mixed, create_graph=True)
        return ((grad.reshape(len(real) // pac, -1).norm(2, dim=1) - 1) ** 2).mean()

    def _training_by_sampling(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Redraw the batch so each class appears in proportion to log(1 + its count)."""
        counts = torch.bincount(y, minlength=self.n_classes + 1).float()
        weight = torch.log1p(counts) / counts.clamp(min=1)
        n = len(y) // self.config.pac * self.config.pac
        index = torch.multinomial(weight[y], n, replacement=True)
        return x[index], y[index]

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        cfg = self.config
        opt_g, opt_d = self.optimizers()
        x, y = self._training_by_sampling(*batch)
        if len(y) == 0:  # fewer rows than one pac
            return
        y = self.drop_labels(y)

        fake = self._generate(y).detach()
        loss_d = self._judge(fake, y).mean() - self._judge(x, y).mean()
        loss_d = loss_d + cfg.gp_weight * self._gradient_penalty(x, fake, y)
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss_d)
        opt_d.step()

        loss_g = -self._judge(self._generate(y), y).mean()
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss_g)
        opt_g.step()
        self.log("train_loss", loss_d, prog_bar=True, on_step=True, on_epoch=False)
        self.log("generator_loss", loss_g, on_step=True, on_epoch=False)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        cfg = self.config
        betas = (0.5, 0.9)
        return [
            torch.optim.Adam(self.generator.parameters(), cfg.learning_rate, betas, weight_decay=cfg.weight_decay),
            torch.optim.Adam(self.critic.parameters(), cfg.learning_rate, betas, weight_decay=cfg.weight_decay),
        ]

    @torch.inference_mode()
    def sample(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self._generate(labels, generator, hard=True).float()
