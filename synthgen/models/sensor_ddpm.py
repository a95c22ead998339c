"""Gaussian diffusion over whole multichannel sequences (after Diffusion-TS / DiffWave).

Sequences arrive standardised per channel and padded to one length; the loss counts only real steps
and the padding mask is an input, so lengths drawn first (with the entity attributes) shape what is
generated. Conditioned on the class (dropped 10% of the time) and the encoded attributes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch.nn import functional as F

from synthgen.models.base import ModelConfig, SequenceModel
from synthgen.models.nets.conv1d import ConvDenoiser
from synthgen.models.schedules import cosine_alpha_bar, ddim_sample
from synthgen.registry import MODELS


class SensorDDPMConfig(ModelConfig):
    width: int = 64
    cycles: int = 2
    dropout: float = 0.0
    timesteps: int = 1000
    sampling_steps: int = 50
    eta: float = 1.0


@MODELS.register("sensor_ddpm")
class SensorDDPM(SequenceModel):
    Config: ClassVar[type[ModelConfig]] = SensorDDPMConfig
    default_steps = 4000

    def __init__(self, channels: int, length: int, n_classes: int, n_static: int, config: dict[str, Any]) -> None:
        super().__init__(channels, length, n_classes, n_static, config)
        cfg = self.config
        self.net = ConvDenoiser(channels, length, n_classes, n_static, cfg.width, cfg.cycles, cfg.dropout)
        self.register_buffer("alpha_bar", cosine_alpha_bar(cfg.timesteps), persistent=False)

    def loss(
        self,
        x0: torch.Tensor,
        mask: torch.Tensor,
        y: torch.Tensor,
        static: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        x0 = x0.transpose(1, 2)  # (batch, channels, length)
        t = torch.randint(0, self.config.timesteps, (len(x0),), device=x0.device, generator=generator)
        noise = torch.randn(x0.shape, device=x0.device, generator=generator)
        ab = self.alpha_bar[t][:, None, None]
        xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
        error = F.mse_loss(self.net(xt, mask, t, y, static), noise, reduction="none").mean(1)
        return (error * mask).sum() / mask.sum()

    @torch.inference_mode()
    def sample(
        self, labels: torch.Tensor, mask: torch.Tensor, static: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        cfg = self.config
        dtype = next(self.net.parameters()).dtype

        def predict(x: torch.Tensor, t: int) -> torch.Tensor:
            steps = torch.full((len(x),), t, device=x.device)
            return self.net(x.to(dtype), mask.to(dtype), steps, labels, static.to(dtype))

        shape = (len(labels), self.channels, self.length)
        return ddim_sample(predict, shape, self.alpha_bar, cfg.sampling_steps, cfg.eta, generator).transpose(1, 2)
