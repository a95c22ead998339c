"""Gaussian diffusion over the encoded table with a residual MLP denoiser (after TabDDPM).

Class-conditional through a label embedding (dropped 10% of the time so unconditional sampling
works too), so rare classes are generated directly rather than by rejection. Sampled with DDIM in
few steps.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from synthgen.models.base import Blocks, ModelConfig, TabularModel
from synthgen.models.nets.mlp import MLPDenoiser
from synthgen.models.schedules import cosine_alpha_bar, ddim_sample
from synthgen.registry import MODELS

VALIDATION_REPEATS = 16


class TabularDDPMConfig(ModelConfig):
    width: int = 128
    depth: int = 2
    dropout: float = 0.0
    timesteps: int = 1000
    sampling_steps: int = 25
    eta: float = 1.0


@MODELS.register("tabular_ddpm")
class TabularDDPM(TabularModel):
    Config = TabularDDPMConfig
    default_steps = 3000

    def __init__(self, n_features: int, n_classes: int, config: dict[str, Any], blocks: Blocks | None = None) -> None:
        super().__init__(n_features, n_classes, config, blocks)
        cfg = self.config
        self.net = MLPDenoiser(n_features, n_classes, cfg.width, cfg.depth, cfg.dropout)
        self.register_buffer("alpha_bar", cosine_alpha_bar(cfg.timesteps), persistent=False)

    def loss(self, x0: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        n = x0.shape[0]
        t = torch.randint(0, self.config.timesteps, (n,), device=x0.device, generator=generator)
        noise = torch.randn(x0.shape, device=x0.device, generator=generator)
        ab = self.alpha_bar[t][:, None]
        xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
        return F.mse_loss(self.net(xt, t, y), noise)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        # Repeating the batch averages over many (t, noise) draws, so small validation sets still rank well.
        x0, y = batch
        super().validation_step((x0.repeat(VALIDATION_REPEATS, 1), y.repeat(VALIDATION_REPEATS)), batch_idx)

    @torch.inference_mode()
    def sample(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        cfg = self.config
        return ddim_sample(
            lambda x, t: self.net.forward_one_step(x.to(self.dtype_for_net), t, labels),
            (len(labels), self.n_features),
            self.alpha_bar,
            cfg.sampling_steps,
            cfg.eta,
            generator,
        )

    @property
    def dtype_for_net(self) -> torch.dtype:
        return next(self.net.parameters()).dtype
