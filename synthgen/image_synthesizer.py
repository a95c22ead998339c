"""Images behind one object: fit on labelled pixels, sample images of chosen classes, save and load.

Pixels are scaled to [-1, 1] for the model; classes are the labels' indices (the model's extra
index means "no class", used by classifier-free guidance and unlabelled data).
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

import synthgen
import synthgen.models  # noqa: F401  (registers every model)
from synthgen.config import TrainParams
from synthgen.data.images import ImageLayout, Images
from synthgen.errors import SynthgenError
from synthgen.io import atomic_path, read_json, write_json
from synthgen.models.base import ImageModel
from synthgen.registry import MODELS
from synthgen.synthesizer import _batch_seeds
from synthgen.training import fit_model

log = logging.getLogger(__name__)
FORMAT_VERSION = 1
MAX_LEVELS = 64  # images on at most this many distinct intensities keep them (digits: 17)


class ImageSynthesizer:
    """Learns class-labelled images of one size and draws new ones.

    Args:
        layout: image size, channels, bit depth and classes (from `read_images`).
        model: a registered image model; default: train_params.model.
        seed: seeds training and (by default) sampling.
        train_params: trainer settings.
    """

    def __init__(
        self, layout: ImageLayout, model: str | None = None, seed: int = 0, train_params: TrainParams | None = None
    ) -> None:
        self.train_params = train_params or TrainParams(model="image_ddpm")
        self.model_name = model or self.train_params.model
        if MODELS.get(self.model_name).modality != "image":
            raise SynthgenError(f"model {self.model_name!r} is not an image model; use train.model: image_ddpm")
        self.train_params = self.train_params.model_copy(update={"model": self.model_name})
        self.layout = layout
        self.seed = seed
        self.model: ImageModel | None = None
        self.meta: dict[str, Any] = {}
        self.loss_curve: pd.DataFrame | None = None

    def fit(self, images: Images) -> ImageSynthesizer:
        start = time.perf_counter()
        labels = self._indices(images.labels)
        levels = np.unique(images.pixels)
        self.meta = {
            "n_images": len(labels),
            "class_counts": np.bincount(labels, minlength=len(self.layout.classes)).tolist(),
            "levels": levels.tolist() if len(levels) <= MAX_LEVELS else None,
        }
        model_cls = MODELS.get(self.model_name)
        torch.manual_seed(self.seed)
        config = model_cls.sized_config(dict(self.train_params.model_config_), len(labels))
        self.model = model_cls(self.layout.channels, self.layout.size, len(self.layout.classes), config)
        x = (images.pixels * 2 - 1).astype(np.float32)
        with tempfile.TemporaryDirectory(prefix="synthgen-train-") as log_dir:
            self.loss_curve = fit_model(self.model, [x, labels], self.train_params, self.seed, Path(log_dir))
        self.model.eval()
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

    def _require_fitted(self) -> ImageModel:
        if self.model is None:
            raise SynthgenError("the synthesizer is not fitted; call fit(images) or ImageSynthesizer.load(path) first")
        return self.model

    def class_plan(self, n: int, seed: int) -> np.ndarray:
        """n class names drawn in the train proportions (seeded)."""
        prior = np.asarray(self.meta["class_counts"], dtype=float)
        picks = np.random.default_rng(seed).choice(len(prior), n, p=prior / prior.sum())
        return np.asarray(self.layout.classes, dtype=object)[picks]

    def sample(self, labels: np.ndarray, seed: int | None = None, batch_size: int = 1000) -> Images:
        """One new image per requested class name, in seeded batches (same seed → same images on a CPU)."""
        model = self._require_fitted()
        seed = self.seed if seed is None else seed
        index = self._indices(labels)
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model.to(device)
        parts = []
        batches = range(math.ceil(len(index) / batch_size))
        for b in tqdm(batches, desc="sampling images", unit="batch", disable=len(batches) < 2, leave=False):
            generator = torch.Generator(device=device).manual_seed(_batch_seeds(seed, b)[0])
            batch = torch.as_tensor(index[b * batch_size : (b + 1) * batch_size], device=device)
            parts.append(((model.sample(batch, generator).float() + 1) / 2).cpu().numpy())
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

    def save(self, path: str | Path) -> None:
        model = self._require_fitted()
        config = {
            "format_version": FORMAT_VERSION,
            "synthgen_version": synthgen.__version__,
            "modality": "image",
            "model": self.model_name,
            "model_config": model.config.model_dump(),
            "seed": self.seed,
            "layout": self.layout.to_json(),
            **self.meta,
        }
        with atomic_path(path) as tmp:
            tmp.mkdir(parents=True)
            write_json(config, tmp / "config.json")
            torch.save(model.state_dict(), tmp / "model.pt")
            if self.loss_curve is not None:
                self.loss_curve.to_csv(tmp / "loss.csv", index=False)

    @classmethod
    def load(cls, path: str | Path) -> ImageSynthesizer:
        path = Path(path)
        config = read_json(path / "config.json")
        if config.get("format_version") != FORMAT_VERSION or config.get("modality") != "image":
            raise SynthgenError(f"{path}: not a synthgen image model of format {FORMAT_VERSION}; retrain it")
        layout = ImageLayout.from_json(config["layout"])
        synth = cls(layout, config["model"], config["seed"])
        synth.meta = {k: config[k] for k in ("n_images", "class_counts", "levels")}
        synth.model = MODELS.get(config["model"])(
            layout.channels, layout.size, len(layout.classes), config["model_config"]
        )
        synth.model.load_state_dict(torch.load(path / "model.pt", map_location="cpu", weights_only=True))
        synth.model.eval()
        if (path / "loss.csv").exists():
            synth.loss_curve = pd.read_csv(path / "loss.csv")
        return synth
