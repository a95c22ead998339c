"""What every registered model provides; the Synthesizers do checking, encoding and I/O."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
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


class GenerativeModel(pl.LightningModule):
    """Config parsing, label dropout, validation and the optimizer, shared by every modality.
    A batch is a tuple of tensors laid out by the modality; `loss` reads it whole."""

    Config: ClassVar[type[ModelConfig]] = ModelConfig
    modality: ClassVar[str] = "tabular"
    default_steps: ClassVar[int] = 1000
    # False for models whose losses do not rank checkpoints (GANs): train the whole budget, keep the last.
    validation_loss_ranks: ClassVar[bool] = True
    label_position: ClassVar[int] = 1  # where the class index sits in a batch
    # True for models with a step whose backward leaves some parameters unused (a GAN's critic step):
    # under DDP they train with Lightning's `<strategy>_find_unused_parameters_true`.
    ddp_unused_parameters: ClassVar[bool] = False
    # True for models whose layers all have Opacus per-sample gradients and whose modality fits its
    # encoder with DP mechanisms: only these train with train.privacy.
    supports_dp: ClassVar[bool] = False
    # Set while DP-SGD trains: the batch loss must then be a mean of per-example losses, with nothing
    # normalised across examples, or clipping each example's gradient would not bound its influence.
    per_example_loss: bool = False

    def __init__(self, n_classes: int, config: dict[str, Any]) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.config = self.parse_config(config)

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

    def loss(self, *batch: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The training objective on one batch."""
        raise NotImplementedError

    def start_from(self, arrays: list[np.ndarray]) -> None:
        """Set the weights from the rows training will see (the batch layout's arrays), before the first
        step. A model whose likelihood has a closed-form optimum starts there, so a short budget (a test's
        one epoch) still gives a fitted model; others start from their seeded initialisation. Not
        called under DP-SGD: the rows would be read outside it."""

    def drop_labels(self, y: torch.Tensor) -> torch.Tensor:
        drop = torch.rand(y.shape, device=y.device) < self.config.label_dropout
        return torch.where(drop, torch.full_like(y, self.n_classes), y)

    def on_fit_start(self) -> None:
        """seed_everything gives every DDP rank the same random stream; give each its own, derived from
        the seed and the rank, so ranks draw different noise, steps and label drops."""
        if self.trainer.world_size > 1:
            state = np.random.SeedSequence([torch.initial_seed(), self.global_rank]).generate_state(1)[0]
            torch.manual_seed(int(state))

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        batch = list(batch)
        batch[self.label_position] = self.drop_labels(batch[self.label_position])
        loss = self.loss(*batch)
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=False)
        return loss

    def row_losses(self, *batch: torch.Tensor) -> torch.Tensor | None:
        """Each row's own validation loss (their mean is `loss`), where the model has one: it gives the
        validation loss a standard error (`val_loss_se`), which BestWeights reads. None: no error."""
        return None

    def on_validation_epoch_start(self) -> None:
        self._validation_rows: list[torch.Tensor] = []

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        rows = self.row_losses(*batch)
        if rows is None:
            generator = torch.Generator(device=batch[0].device).manual_seed(batch_idx)  # comparable across rounds
            loss = self.loss(*batch, generator=generator)
        else:  # one pass gives both the loss and its standard error
            self._validation_rows.append(rows.detach())
            loss = rows.mean()
        self.log("val_loss", loss, prog_bar=True, on_epoch=True)

    def on_validation_epoch_end(self) -> None:
        rows = torch.cat(self._validation_rows) if self._validation_rows else None
        if rows is not None and len(rows) > 1:
            self.log("val_loss_se", rows.std() / math.sqrt(len(rows)))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        trained = [p for p in self.parameters() if p.requires_grad]  # not an EMA copy
        return torch.optim.AdamW(trained, lr=self.config.learning_rate, weight_decay=self.config.weight_decay)


class TabularModel(GenerativeModel):
    """Over the encoded matrix: a batch is (rows, class index)."""

    def __init__(self, n_features: int, n_classes: int, config: dict[str, Any], blocks: Blocks | None = None) -> None:
        super().__init__(n_classes, config)
        self.n_features = n_features
        self.blocks = blocks or [("value", 1)] * n_features
        if sum(width for _, width in self.blocks) != n_features:
            raise ValueError(f"blocks {self.blocks} do not cover {n_features} features")

    @classmethod
    def candidate_configs(cls, config: dict[str, Any], blocks: Blocks) -> list[dict[str, Any]]:
        """The configs a fit trains, keeping the one with the lowest validation loss; one by default."""
        return [config]

    @torch.no_grad()
    def sample(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Draw one encoded row per label (label n_classes = unconditional)."""
        raise NotImplementedError


class SequenceModel(GenerativeModel):
    """Over padded sequences: a batch is (values (entities, length, channels), padding mask (entities,
    length), class index, encoded per-entity attributes)."""

    modality = "sensor"
    label_position = 2

    def __init__(self, channels: int, length: int, n_classes: int, n_static: int, config: dict[str, Any]) -> None:
        super().__init__(n_classes, config)
        self.channels, self.length, self.n_static = channels, length, n_static

    @torch.no_grad()
    def sample(
        self, labels: torch.Tensor, mask: torch.Tensor, static: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """Draw one (length, channels) sequence per label, for the given masks and attributes."""
        raise NotImplementedError


class ImageModel(GenerativeModel):
    """Over square images: a batch is (pixels (n, channels, size, size) scaled to [-1, 1], class index)."""

    modality = "image"

    def __init__(self, channels: int, size: int, n_classes: int, config: dict[str, Any]) -> None:
        super().__init__(n_classes, config)
        self.channels, self.size = channels, size

    @torch.no_grad()
    def sample(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Draw one image in [-1, 1] per label (label n_classes = unconditional)."""
        raise NotImplementedError
