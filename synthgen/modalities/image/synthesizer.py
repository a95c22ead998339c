"""Images behind one object: fit on labelled pixels, sample images of chosen classes, save and load.

Pixels are scaled to [-1, 1] for the model; classes are the labels' indices (the model's extra
index means "no class", used by classifier-free guidance and unlabelled data).
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from synthgen.config import TrainParams
from synthgen.data.images import ImageLayout, Images
from synthgen.errors import SynthgenError
from synthgen.logs import progress
from synthgen.models.base import ImageModel
from synthgen.registry import MODELS
from synthgen.sampling.plan import label_stream
from synthgen.synthesizer import BaseSynthesizer

log = logging.getLogger(__name__)
MAX_LEVELS = 64  # images on at most this many distinct intensities keep them (digits: 17)


class ImageSynthesizer(BaseSynthesizer):
    """Learns class-labelled images of one size and draws new ones.

    Args:
        layout: image size, channels, bit depth and classes (from `read_images`).
        model: a registered image model; default: train_params.model.
        seed: seeds training and (by default) sampling.
        train_params: trainer settings.
    """

    modality = "image"
    default_model = "image_ddpm"

    def __init__(
        self, layout: ImageLayout, model: str | None = None, seed: int = 0, train_params: TrainParams | None = None
    ) -> None:
        super().__init__(model, seed, train_params)
        self.layout = layout

    def fit(self, images: Images) -> ImageSynthesizer:
        start = time.perf_counter()
        labels = self._indices(images.labels)
        levels = np.unique(images.pixels)
        self.meta = {
            "n_images": len(labels),
            "class_counts": np.bincount(labels, minlength=len(self.layout.classes)).tolist(),
            "levels": levels.tolist() if len(levels) <= MAX_LEVELS else None,
        }
        model = self._new_model(len(labels), self.layout.channels, self.layout.size, len(self.layout.classes))
        x = (images.pixels * 2 - 1).astype(np.float32)
        self._train(model, [x, labels])
        log.info(
            "fit %s on %d images of %dx%dx%d in %.1f s",
            self.model_name,
            len(x),
            self.layout.size,
            self.layout.size,
            self.layout.channels,
            time.perf_counter() - start,
        )
        return self

    def _indices(self, labels: np.ndarray) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.layout.classes)}
        unknown = sorted(set(map(str, labels)) - set(index))
        if unknown:
            raise SynthgenError(f"unknown class(es) {unknown[:5]}; known: {self.layout.classes}")
        return np.array([index[str(v)] for v in labels], dtype=np.int64)

    def class_plan(self, n: int, seed: int) -> np.ndarray:
        """n class names in the train proportions (label_stream), in a seeded order."""
        picks = label_stream(n, self.meta["class_counts"], np.random.default_rng(seed))
        return np.asarray(self.layout.classes, dtype=object)[picks]

    def sample(self, labels: np.ndarray, seed: int | None = None, batch_size: int = 1000) -> Images:
        """One new image per requested class name, in seeded batches (same seed → same images on a CPU)."""
        model: ImageModel = self._fitted()
        seed = self.seed if seed is None else seed
        index = self._indices(labels)
        parts = []
        n_batches = math.ceil(len(index) / batch_size)
        batches = self._batches(len(index), batch_size, seed)
        for batch in progress(batches, n_batches, "sampling images", "batch"):
            classes = torch.as_tensor(index[batch.rows], device=batch.device)
            parts.append(((model.sample(classes, batch.generator).float() + 1) / 2).cpu().numpy())
        size, channels = self.layout.size, self.layout.channels
        pixels = np.concatenate(parts) if parts else np.zeros((0, channels, size, size), dtype=np.float32)
        return Images(self._on_levels(pixels), np.asarray(labels, dtype=object).astype(str))

    def _on_levels(self, pixels: np.ndarray) -> np.ndarray:
        """Snap to the intensities the real images use when they use few (scanned at 17 grey levels,
        say): off-level values are a tell any pixel classifier finds, and no real image has them."""
        if not self.meta.get("levels"):
            return pixels.astype(np.float32)
        levels = np.asarray(self.meta["levels"], dtype=np.float32)
        index = np.clip(np.searchsorted(levels, pixels), 1, len(levels) - 1)
        lower, upper = levels[index - 1], levels[index]
        return np.where(pixels - lower < upper - pixels, lower, upper).astype(np.float32)

    # ---- persistence hooks (BaseSynthesizer.save / load) ---------------------------------------
    def _schema_payload(self) -> dict[str, Any]:
        return self.layout.to_json()

    @classmethod
    def _restore(cls, config: dict[str, Any], schema: Any, path: Path) -> ImageSynthesizer:
        layout = ImageLayout.from_json(schema)
        synth = cls(layout, config["model"], config["seed"])
        synth.meta = {k: config[k] for k in ("n_images", "class_counts", "levels")}
        synth.model = MODELS.get(config["model"])(
            layout.channels, layout.size, len(layout.classes), config["model_config"]
        )
        return synth
