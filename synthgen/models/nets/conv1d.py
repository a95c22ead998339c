"""A dilated residual 1-D convolution denoiser for sequences (after DiffWave), conditioned on the
diffusion step, the class and a vector of per-entity attributes."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from synthgen.models.nets.mlp import timestep_embedding


class _DilatedBlock(nn.Module):
    def __init__(self, width: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.norm = nn.GroupNorm(1, width)
        self.conv = nn.Conv1d(width, 2 * width, 3, padding=dilation, dilation=dilation)
        self.cond = nn.Linear(width, 2 * width)
        self.out = nn.Conv1d(width, width, 1)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        gate, value = (self.conv(self.norm(h)) + self.cond(c)[:, :, None]).chunk(2, dim=1)
        return h + self.out(self.drop(torch.sigmoid(gate) * torch.tanh(value)))


class _Position(nn.Module):
    """A learnt embedding per step, added to the hidden state. A module of its own, so Opacus computes
    its per-sample gradients (a bare parameter on the denoiser would need the whole forward)."""

    def __init__(self, width: int, length: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, width, length))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.weight


class ConvDenoiser(nn.Module):
    """Predicts the noise in x_t (batch, channels, length); dilations double up to the sequence length,
    so every step sees the whole sequence."""

    def __init__(
        self,
        channels: int,
        length: int,
        n_classes: int,
        n_static: int,
        width: int,
        cycles: int,
        dropout: float,
        position: bool = True,
    ) -> None:
        super().__init__()
        self.width = width
        self.inp = nn.Conv1d(channels + 1, width, 1)  # + the padding mask
        # A learnt embedding per step; off, the denoiser is shift-equivariant (for rotated training copies).
        self.position = _Position(width, length) if position else None
        self.register_load_state_dict_pre_hook(_renamed_position)
        self.time = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.label = nn.Embedding(n_classes + 1, width)
        self.static = nn.Linear(n_static, width) if n_static else None
        per_cycle = max(1, (length - 1).bit_length())
        self.blocks = nn.ModuleList(
            _DilatedBlock(width, 2**i, dropout) for _ in range(cycles) for i in range(per_cycle)
        )
        self.out = nn.Sequential(nn.GroupNorm(1, width), nn.SiLU(), nn.Conv1d(width, channels, 1))

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, t: torch.Tensor, y: torch.Tensor, static: torch.Tensor
    ) -> torch.Tensor:
        c = self.time(timestep_embedding(t, self.width)) + self.label(y)
        if self.static is not None:
            c = c + self.static(static)
        c = F.silu(c)
        h = self.inp(torch.cat([x, mask[:, None]], 1))
        if self.position is not None:
            h = self.position(h)
        for block in self.blocks:
            h = block(h, c)
        return self.out(h)


def _renamed_position(module: nn.Module, state: dict[str, torch.Tensor], prefix: str, *args: object) -> None:
    """Models saved before the position embedding was a module stored it as `position`."""
    if prefix + "position" in state:
        state[prefix + "position.weight"] = state.pop(prefix + "position")
