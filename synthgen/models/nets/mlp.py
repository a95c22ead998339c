"""A residual MLP denoiser conditioned on diffusion time and class."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class ResidualBlock(nn.Module):
    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc_in = nn.Linear(width, 2 * width)
        self.cond = nn.Linear(width, 2 * width)
        self.fc_out = nn.Linear(2 * width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.apply_projected(h, self.cond(c))

    def apply_projected(self, h: torch.Tensor, projected: torch.Tensor) -> torch.Tensor:
        """The block with its conditioning already projected (shared across rows when sampling)."""
        return h + self.fc_out(self.dropout(F.silu(self.fc_in(self.norm(h)) + projected)))


class MLPDenoiser(nn.Module):
    """Predicts the noise in x_t given t and a class index (index n_classes = no class)."""

    def __init__(self, n_features: int, n_classes: int, width: int, depth: int, dropout: float) -> None:
        super().__init__()
        self.width = width
        self.inp = nn.Linear(n_features, width)
        self.time = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.label = nn.Embedding(n_classes + 1, width)
        self.blocks = nn.ModuleList(ResidualBlock(width, dropout) for _ in range(depth))
        self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, n_features))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        c = F.silu(self.time(timestep_embedding(t, self.width)) + self.label(y))
        h = self.inp(x)
        for block in self.blocks:
            h = block(h, c)
        return self.out(h)

    def forward_one_step(self, x: torch.Tensor, t: int, y: torch.Tensor) -> torch.Tensor:
        """Same as forward for one timestep shared by all rows: the conditioning is computed once per
        class instead of once per row, which is most of a sampling step's cost for narrow tables."""
        classes, index = torch.unique(y, return_inverse=True)
        t_emb = self.time(timestep_embedding(torch.full((1,), t, device=x.device), self.width))
        c = F.silu(t_emb + self.label(classes))
        h = self.inp(x)
        for block in self.blocks:
            h = block.apply_projected(h, block.cond(c)[index])
        return self.out(h)
