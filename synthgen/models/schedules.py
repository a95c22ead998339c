"""Diffusion noise schedules, kept apart from networks (as diffusers does)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch


def cosine_alpha_bar(timesteps: int, s: float = 0.008) -> torch.Tensor:
    """Cumulative signal level ᾱ_t of Nichol & Dhariwal's cosine schedule, t = 0..T-1."""
    t = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    betas = (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, dim=0).float()


def ddim_sample(
    predict_noise: Callable[[torch.Tensor, int], torch.Tensor],
    shape: tuple[int, ...],
    alpha_bar: torch.Tensor,
    steps: int,
    eta: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """DDIM from pure noise in `steps` evenly spaced steps; eta 1 is DDPM-like, 0 deterministic."""
    x = torch.randn(shape, generator=generator, device=generator.device)
    timesteps = torch.linspace(len(alpha_bar) - 1, 0, steps).round().long().tolist()
    for i, t in enumerate(timesteps):
        ab = alpha_bar[t]
        ab_prev = alpha_bar[timesteps[i + 1]] if i + 1 < len(timesteps) else torch.ones((), device=x.device)
        eps = predict_noise(x, t).float()
        x0 = ((x - (1 - ab).sqrt() * eps) / ab.sqrt()).clamp(-8, 8)
        sigma = eta * ((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)).clamp(min=0).sqrt()
        direction = (1 - ab_prev - sigma**2).clamp(min=0).sqrt() * eps
        noise = torch.randn(x.shape, generator=generator, device=x.device) if eta > 0 else 0.0
        x = ab_prev.sqrt() * x0 + direction + sigma * noise
    return x
