"""What every registered model provides; the Synthesizer does checking, encoding and I/O."""

from __future__ import annotations

from typing import Any, ClassVar

import pytorch_lightning as pl
import torch
from pydantic import BaseModel, ConfigDict, ValidationError

from synthgen.errors import SynthgenError

Blocks = list[tuple[str, int]]  # the encoded matrix layout: (kind, width) per block, see TableEncoder.blocks


class ModelConfig(BaseModel):
    """Base of each model's small typed config; unknown keys fail."""

    model_config = ConfigDict(extra="forbid")
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    label_dropout: float = 0.1  # share of steps trained without the class, so unconditional sampling works


class TabularModel(pl.LightningModule):
    """A LightningModule over the encoded matrix, conditioned on a class index."""

    Config: ClassVar[type[ModelConfig]] = ModelConfig
    default_steps: ClassVar[int] = 1000
    # False for models whose losses do not rank checkpoints (GANs): train the whole budget, keep the last.
    validation_loss_ranks: ClassVar[bool] = True

    def __init__(self, n_features: int, n_classes: int, config: dict[str, Any], blocks: Blocks | None = None) -> None:
        super().__init__()
        self.n_features = n_features
        self.n_classes = n_classes
        self.config = self.parse_config(config)
        self.blocks = blocks or [("value", 1)] * n_features
        if sum(width for _, width in self.blocks) != n_features:
            raise ValueError(f"blocks {self.blocks} do not cover {n_features} features")

    @classmethod
    def sized_config(cls, config: dict[str, Any], n_rows: int) -> dict[str, Any]:
        """Fill settings that should follow the amount of data; what this returns is what gets saved."""
        return config

    @classmethod
    def parse_config(cls, config: dict[str, Any]) -> ModelConfig:
        try:
            return cls.Config.model_validate(config)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(map(str, err["loc"]))
            raise SynthgenError(f"train.model_config.{where}: {err['msg']}; fix or remove this key") from exc

    def loss(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The training objective on encoded rows `x` with class indices `y`."""
        raise NotImplementedError

    def drop_labels(self, y: torch.Tensor) -> torch.Tensor:
        drop = torch.rand(y.shape, device=y.device) < self.config.label_dropout
        return torch.where(drop, torch.full_like(y, self.n_classes), y)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = self.loss(x, self.drop_labels(y))
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=False)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        generator = torch.Generator(device=batch[0].device).manual_seed(batch_idx)  # comparable across rounds
        self.log("val_loss", self.loss(*batch, generator=generator), prog_bar=True, on_epoch=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.parameters(), lr=self.config.learning_rate, weight_decay=self.config.weight_decay)

    @torch.no_grad()
    def sample(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Draw one encoded row per label (label n_classes = unconditional)."""
        raise NotImplementedError
