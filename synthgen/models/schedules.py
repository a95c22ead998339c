"""Diffusion noise schedules, kept apart from networks (as diffusers does)."""

from __future__ import annotations

import math

import torch


def cosine_alpha_bar(timesteps: int, s: float = 0.008) -> torch.Tensor:
    """Cumulative signal level ᾱ_t of Nichol & Dhariwal's cosine schedule, t = 0..T-1."""
    t = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    betas = (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, dim=0).float()
