"""What every registered model provides; the Synthesizer does checking, encoding and I/O."""

from __future__ import annotations

from typing import Any, ClassVar

import pytorch_lightning as pl
import torch
from pydantic import BaseModel, ConfigDict, ValidationError

from synthgen.errors import SynthgenError


class ModelConfig(BaseModel):
    """Base of each model's small typed config; unknown keys fail."""

    model_config = ConfigDict(extra="forbid")
    learning_rate: float = 1e-3


class TabularModel(pl.LightningModule):
    """A LightningModule over the encoded matrix, conditioned on a class index."""

    Config: ClassVar[type[ModelConfig]] = ModelConfig
    default_steps: ClassVar[int] = 1000

    def __init__(self, n_features: int, n_classes: int, config: dict[str, Any]) -> None:
        super().__init__()
        self.n_features = n_features
        self.n_classes = n_classes
        self.config = self.parse_config(config)

    @classmethod
    def parse_config(cls, config: dict[str, Any]) -> ModelConfig:
        try:
            return cls.Config.model_validate(config)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(map(str, err["loc"]))
            raise SynthgenError(f"train.model_config.{where}: {err['msg']}; fix or remove this key") from exc

    @torch.no_grad()
    def sample(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Draw one encoded row per label (label n_classes = unconditional)."""
        raise NotImplementedError
