"""A conditional VAE over the encoded table (after TVAE): one decoder pass per row, so sampling is fast.

Numerics arrive quantile-normalised and categoricals as ±1 one-hot blocks, so a Gaussian likelihood
(mean squared error) fits every encoded feature; the class enters both encoder and decoder.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from synthgen.models.base import Blocks, ModelConfig, TabularModel
from synthgen.registry import MODELS


class TVAEConfig(ModelConfig):
    width: int = 128
    latent: int = 32
    beta: float = 1.0


def _mlp(n_in: int, width: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(), nn.Linear(width, n_out))


@MODELS.register("tvae")
class TVAE(TabularModel):
    Config = TVAEConfig
    default_steps = 3000

    def __init__(self, n_features: int, n_classes: int, config: dict[str, Any], blocks: Blocks | None = None) -> None:
        super().__init__(n_features, n_classes, config, blocks)
        cfg = self.config
        self.label = nn.Embedding(n_classes + 1, cfg.width)
        self.encoder = _mlp(n_features + cfg.width, cfg.width, 2 * cfg.latent)
        self.decoder = _mlp(cfg.latent + cfg.width, cfg.width, n_features)

    def loss(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        emb = self.label(y)
        mu, logvar = self.encoder(torch.cat([x, emb], 1)).chunk(2, dim=1)
        noise = torch.randn(mu.shape, device=mu.device, generator=generator)
        z = mu + (0.5 * logvar).exp() * noise
        recon = F.mse_loss(self.decoder(torch.cat([z, emb], 1)), x, reduction="none").sum(1).mean()
        kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1)).mean()
        return (recon + self.config.beta * kl) / x.shape[1]

    @torch.inference_mode()
    def sample(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn((len(labels), self.config.latent), generator=generator, device=generator.device)
        return self.decoder(torch.cat([z, self.label(labels)], 1)).float()
