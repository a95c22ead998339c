"""A small 2-D U-Net denoiser (after DDPM / diffusers' UNet2DModel, without attention: the images
synthgen makes on a CPU are small), conditioned on the diffusion step and the class."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from synthgen.models.nets.mlp import timestep_embedding


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class _ResBlock(nn.Module):
    def __init__(self, inp: int, out: int, emb: int, dropout: float) -> None:
        super().__init__()
        self.norm1, self.conv1 = _norm(inp), nn.Conv2d(inp, out, 3, padding=1)
        self.emb = nn.Linear(emb, 2 * out)  # scale and shift (FiLM), as in improved DDPM
        self.norm2, self.conv2 = _norm(out), nn.Conv2d(out, out, 3, padding=1)
        self.drop = nn.Dropout(dropout)
        self.skip = nn.Conv2d(inp, out, 1) if inp != out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.emb(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        return self.skip(x) + self.conv2(self.drop(F.silu(h)))


class UNet(nn.Module):
    """Predicts the noise in x_t (batch, channels, size, size). `widths` gives the channels per
    resolution, halving the size at each step down (so size must divide by 2^(levels - 1))."""

    def __init__(self, channels: int, n_classes: int, widths: list[int], dropout: float) -> None:
        super().__init__()
        self.base = widths[0]
        emb = 4 * widths[0]
        self.time = nn.Sequential(nn.Linear(widths[0], emb), nn.SiLU(), nn.Linear(emb, emb))
        self.label = nn.Embedding(n_classes + 1, emb)  # the last index is "no class" (guidance)
        self.inp = nn.Conv2d(channels, widths[0], 3, padding=1)
        self.down, self.up = nn.ModuleList(), nn.ModuleList()
        previous = widths[0]
        for width in widths:
            self.down.append(_ResBlock(previous, width, emb, dropout))
            previous = width
        self.middle = _ResBlock(previous, previous, emb, dropout)
        for width in reversed(widths):
            self.up.append(_ResBlock(previous + width, width, emb, dropout))
            previous = width
        self.out = nn.Sequential(_norm(previous), nn.SiLU(), nn.Conv2d(previous, channels, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        emb = F.silu(self.time(timestep_embedding(t, self.base)) + self.label(y))
        h = self.inp(x)
        skips = []
        for i, block in enumerate(self.down):
            h = block(h if i == 0 else F.avg_pool2d(h, 2), emb)
            skips.append(h)
        h = self.middle(h, emb)
        for i, block in enumerate(self.up):
            skip = skips.pop()
            if i:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = block(torch.cat([h, skip], 1), emb)
        return self.out(h)
