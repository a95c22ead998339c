"""Gaussian diffusion over whole multichannel sequences (after Diffusion-TS / DiffWave).

Sequences arrive standardised and padded to one length by repeating their last step; the loss counts
that flat tail too (so what is sampled is consistent with it) and the padding mask is an input, so
lengths drawn first (with the entity attributes) shape what is generated. Conditioned on the class
(dropped 10% of the time) and the encoded attributes.

The denoiser predicts v = √ᾱ·ε − √(1−ᾱ)·x₀ rather than the noise (on BasicMotions this halved the
discriminative score at the same budget), and sampling uses an EMA of the weights. With a few dozen
entities a diffusion model starts to reproduce its training sequences; `circular_shift` trains on
randomly rotated copies instead, which for stationary signals multiplies the distinct training
sequences and keeps generated ones away from any single recording.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from pydantic import Field
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

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
    ema_decay: float = Field(0.995, ge=0, lt=1, description="weights used for sampling: an EMA of training")
    circular_shift: bool = Field(
        False,
        description="train on randomly rotated copies of full-length sequences (no position embedding): for "
        "stationary signals; leave off when where in the sequence something happens matters",
    )
    series_scale: bool = Field(
        True,
        description="read by the sensor synthesizer: each series' mean and standard deviation per channel are "
        "attributes, drawn jointly with the label and length, and the model learns the series standardised by "
        "them (ignored under DP)",
    )


@MODELS.register("sensor_ddpm")
class SensorDDPM(SequenceModel):
    Config: ClassVar[type[ModelConfig]] = SensorDDPMConfig
    default_steps = 2000
    # A diffusion loss on a few held-out entities is too noisy to stop on (it stopped JapaneseVowels at
    # a tenth of the budget); the EMA weights of the whole budget are kept, as for images.
    validation_loss_ranks = False
    supports_dp = True  # convolutions, group norms, linears and embeddings: all have Opacus per-sample gradients

    def __init__(self, channels: int, length: int, n_classes: int, n_static: int, config: dict[str, Any]) -> None:
        super().__init__(channels, length, n_classes, n_static, config)
        cfg = self.config
        self.net = ConvDenoiser(
            channels, length, n_classes, n_static, cfg.width, cfg.cycles, cfg.dropout, position=not cfg.circular_shift
        )
        self.ema = AveragedModel(self.net, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
        self.ema.requires_grad_(False)  # updated by averaging, never by gradients: outside DDP's reducer
        self.register_buffer("alpha_bar", cosine_alpha_bar(cfg.timesteps), persistent=False)

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        # Inside the step, not in on_train_batch_end: a checkpoint saved after the step holds it.
        super().optimizer_step(*args, **kwargs)
        self.ema.update_parameters(self.net)

    def _rotated(self, x0: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Each full-length sequence rotated by a random offset (padded ones stay as they are)."""
        length = x0.shape[-1]
        shift = torch.randint(0, length, (len(x0), 1), device=x0.device)
        index = (torch.arange(length, device=x0.device)[None, :] + shift) % length
        full = mask.bool().all(1)[:, None, None]
        return torch.where(full, x0.gather(2, index[:, None, :].expand_as(x0)), x0)

    def loss(
        self,
        x0: torch.Tensor,
        mask: torch.Tensor,
        y: torch.Tensor,
        static: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        x0 = x0.transpose(1, 2)  # (batch, channels, length)
        if self.config.circular_shift and self.training:
            x0 = self._rotated(x0, mask)
        t = torch.randint(0, self.config.timesteps, (len(x0),), device=x0.device, generator=generator)
        noise = torch.randn(x0.shape, device=x0.device, generator=generator)
        ab = self.alpha_bar[t][:, None, None]
        xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
        v = ab.sqrt() * noise - (1 - ab).sqrt() * x0
        # Every step counts, the padding's flat tail too: trained on real steps only, the denoiser
        # learned to read a short series' last value off its noisy tail copies, which it then
        # drew freely at sampling (JapaneseVowels: last values 0.7 as spread as real ones; a
        # summary detector 0.24 -> 0.19 when the tail is learned as well).
        error = F.mse_loss(self.net(xt, mask, t, y, static), v, reduction="none").mean(1)
        return error.mean()  # under DP-SGD too: every sequence has the same number of steps

    @torch.inference_mode()
    def sample(
        self, labels: torch.Tensor, mask: torch.Tensor, static: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        cfg = self.config
        net = self.ema.module
        dtype = next(net.parameters()).dtype

        def predict_noise(x: torch.Tensor, t: int) -> torch.Tensor:
            steps = torch.full((len(x),), t, device=x.device)
            v = net(x.to(dtype), mask.to(dtype), steps, labels, static.to(dtype)).float()
            ab = self.alpha_bar[t]
            return ab.sqrt() * v + (1 - ab).sqrt() * x

        shape = (len(labels), self.channels, self.length)
        return ddim_sample(predict_noise, shape, self.alpha_bar, cfg.sampling_steps, cfg.eta, generator).transpose(1, 2)
