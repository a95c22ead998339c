"""Checks for images (METRICS.md, "Images"), all offline: no pretrained weights.

A small CNN classifier trained here on the real train images is the feature extractor for FID, KID
and k-NN precision/recall (so scores compare models on one data set, not with Inception-based FID),
and the same architecture measures utility. A gradient-boosting classifier on raw pixels is the
detector; memorisation is tested on nearest-train-image distances (pixel L2, minimised over flips
and one-pixel moves) against what unseen holdout images score (validation/calibration.py).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from synthgen.data.images import Images
from synthgen.registry import CHECKS
from synthgen.validation.base import Cached, Check, CheckSkipped, Context, Outcome
from synthgen.validation.distance import nearest
from synthgen.validation.expectations import Expectations
from synthgen.validation.invariant import flip_shift_invariant_neighbours
from synthgen.validation.privacy import Distances, distance_tests, distances

CNN_STEPS = 600
FEATURES = 64
NEIGHBOURS = 3  # k of the k-NN manifolds (Kynkäänniemi et al. 2019)
DETECTION_FOLDS = 5


@dataclass
class ImageContext(Cached):
    train: Images
    holdout: Images
    synthetic: Images | None  # None when the synthetic table has problems
    classes: list[str]
    seed: int
    out_dir: Path
    tables: Context  # one summary row per image (label, size, brightness), for the schema checks
    cache: dict[str, Any] = field(default_factory=dict)


class SmallCNN(nn.Module):
    """Two conv stages and a feature layer: small enough to train inside the stage on a CPU."""

    def __init__(self, channels: int, n_classes: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
            nn.Linear(128, FEATURES),
            nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(FEATURES, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def train_cnn(images: Images, classes: list[str], seed: int) -> SmallCNN:
    """A seeded Adam loop with light shift augmentation: a judge, not a generator."""
    index = {c: i for i, c in enumerate(classes)}
    x = torch.as_tensor(images.pixels, dtype=torch.float32)
    y = torch.as_tensor([index[str(v)] for v in images.labels], dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = SmallCNN(x.shape[1], len(classes))
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(CNN_STEPS):
            idx = torch.randint(0, len(x), (min(64, len(x)),), generator=gen)
            shift = torch.randint(-1, 2, (2,), generator=gen).tolist()
            opt.zero_grad()
            nn.functional.cross_entropy(model(torch.roll(x[idx], shift, dims=(2, 3))), y[idx]).backward()
            opt.step()
    return model.eval()


@torch.no_grad()
def _predict(model: SmallCNN, images: Images) -> np.ndarray:
    return model(torch.as_tensor(images.pixels)).argmax(1).numpy()


@torch.no_grad()
def _features(model: SmallCNN, images: Images) -> np.ndarray:
    return model.body(torch.as_tensor(images.pixels)).double().numpy()


def _judge(ctx: ImageContext) -> SmallCNN:
    return ctx.cached("judge", lambda: train_cnn(ctx.train, ctx.classes, ctx.seed))


def _feature_sets(ctx: ImageContext) -> tuple[np.ndarray, np.ndarray]:
    """Features of train and synthetic images under the real-trained judge."""
    model = _judge(ctx)
    return ctx.cached("features", lambda: (_features(model, ctx.train), _features(model, ctx.synthetic)))


class _Features(nn.Module):
    """The judge's feature layer on float pixels (torchmetrics probes it with a uint8 dummy image)."""

    def __init__(self, judge: SmallCNN) -> None:
        super().__init__()
        self.body = judge.body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.float() / 255 if x.dtype == torch.uint8 else x.float())


def _feature_distance(metric_cls: Any, ctx: ImageContext, **kwargs: Any) -> tuple[float, float]:
    """A torchmetrics feature distance (FID or KID) of train vs synthetic, and of train vs holdout as
    the reference a generator that does as well as unseen real images would score."""
    judge = _judge(ctx)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")  # a few thousand here
        metric = metric_cls(feature=_Features(judge), reset_real_features=False, **kwargs)
    metric.update(torch.as_tensor(ctx.train.pixels), real=True)
    scores = []
    for images in (ctx.synthetic, ctx.holdout):
        metric.update(torch.as_tensor(images.pixels), real=False)
        value = metric.compute()
        scores.append(float((value[0] if isinstance(value, tuple) else value).item()))
        metric.reset()
    return scores[0], scores[1]


def manifold_coverage(reference: np.ndarray, queries: np.ndarray, k: int = NEIGHBOURS) -> float:
    """Share of queries inside the union of k-NN balls around the reference points."""
    radii = nearest(reference, reference, k=k + 1)[:, k]  # neighbour 0 is the point itself
    return float(_inside(reference, radii, queries).mean())


def _inside(reference: np.ndarray, radii: np.ndarray, queries: np.ndarray, chunk: int = 1024) -> np.ndarray:
    out = []
    for start in range(0, len(queries), chunk):
        q = queries[start : start + chunk]
        d2 = (q**2).sum(1)[:, None] + (reference**2).sum(1)[None] - 2 * q @ reference.T
        out.append((np.sqrt(np.clip(d2, 0, None)) <= radii[None]).any(1))
    return np.concatenate(out) if out else np.zeros(0, dtype=bool)


def _balanced(a: np.ndarray, b: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    n = min(len(a), len(b))
    rng = np.random.default_rng(seed)
    return a[rng.permutation(len(a))[:n]], b[rng.permutation(len(b))[:n]]


class _ImageCheck(Check):
    modality = "image"


@CHECKS.register("fid")
class FID(_ImageCheck):
    kind = "fidelity"
    direction = "lower_is_better"
    description = "Fréchet distance (torchmetrics FID) of train vs synthetic, in the in-stage CNN's feature space"

    def compute(self, ctx: ImageContext) -> Outcome:
        from torchmetrics.image.fid import FrechetInceptionDistance

        if min(len(ctx.train.pixels), len(ctx.synthetic.pixels), len(ctx.holdout.pixels)) < 2:
            raise CheckSkipped("fewer than 2 images on a side")
        size = (ctx.train.pixels.shape[1], *ctx.train.pixels.shape[2:])
        synthetic, holdout = _feature_distance(FrechetInceptionDistance, ctx, input_img_size=size)
        return Outcome(synthetic, {"holdout_reference": holdout})


@CHECKS.register("kid")
class KID(_ImageCheck):
    kind = "fidelity"
    direction = "lower_is_better"
    description = "kernel distance (torchmetrics KID, cubic kernel MMD²) of train vs synthetic CNN features"

    def compute(self, ctx: ImageContext) -> Outcome:
        from torchmetrics.image.kid import KernelInceptionDistance

        n = min(len(ctx.train.pixels), len(ctx.synthetic.pixels), len(ctx.holdout.pixels))
        if n < 10:
            raise CheckSkipped("fewer than 10 images on a side")
        with torch.random.fork_rng():  # KID draws its subsets from torch's global stream
            torch.manual_seed(ctx.seed)
            synthetic, holdout = _feature_distance(KernelInceptionDistance, ctx, subsets=50, subset_size=min(500, n))
        return Outcome(synthetic, {"holdout_reference": holdout})


@CHECKS.register("image_precision")
class ImagePrecision(_ImageCheck):
    kind = "fidelity"
    direction = "higher_is_better"
    description = f"share of synthetic images inside the real images' {NEIGHBOURS}-NN feature manifold"

    def compute(self, ctx: ImageContext) -> Outcome:
        train, synth = _feature_sets(ctx)
        real, fake = _balanced(train, synth, ctx.seed)
        return Outcome(manifold_coverage(real, fake))


@CHECKS.register("image_recall")
class ImageRecall(_ImageCheck):
    kind = "fidelity"
    direction = "higher_is_better"
    description = f"share of real images inside the synthetic images' {NEIGHBOURS}-NN feature manifold"

    def compute(self, ctx: ImageContext) -> Outcome:
        train, synth = _feature_sets(ctx)
        real, fake = _balanced(train, synth, ctx.seed)
        return Outcome(manifold_coverage(fake, real))


@CHECKS.register("image_detection")
class ImageDetection(_ImageCheck):
    kind = "fidelity"
    direction = "lower_is_better"
    description = (
        f"|AUC − 0.5| of gradient boosting on pixels, real train vs synthetic ({DETECTION_FOLDS}-fold); 0 ideal"
    )

    def compute(self, ctx: ImageContext) -> Outcome:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        real, fake = _balanced(_flat(ctx.train), _flat(ctx.synthetic), ctx.seed)
        if len(real) < 2 * DETECTION_FOLDS:
            raise CheckSkipped(f"{len(real)} images per side: too few for {DETECTION_FOLDS} folds")
        x, y = np.concatenate([real, fake]), np.r_[np.ones(len(real)), np.zeros(len(fake))]
        folds = StratifiedKFold(DETECTION_FOLDS, shuffle=True, random_state=ctx.seed)
        model = HistGradientBoostingClassifier(max_iter=100, random_state=ctx.seed)
        scores = cross_val_score(model, x, y, cv=folds, scoring="roc_auc")
        auc = float(scores.mean())  # two-sided, as for tables: far below 0.5 means near-twins of train images
        return Outcome(abs(auc - 0.5), {"auc": round(auc, 4), "per_fold": scores.tolist()})


def _accuracy(train: Images, test: Images, classes: list[str], seed: int, only: list[str] | None = None) -> float:
    return _recall(train_cnn(train, classes, seed), test, classes, only)


def _recall(model: SmallCNN, test: Images, classes: list[str], only: list[str] | None = None) -> float:
    """Accuracy on the test images (of the `only` classes: their recall)."""
    predicted = np.asarray(classes, dtype=object)[_predict(model, test)]
    keep = np.isin(test.labels.astype(str), only) if only else np.ones(len(test.labels), dtype=bool)
    return float((predicted[keep] == test.labels.astype(str)[keep]).mean())


@CHECKS.register("image_utility")
class ImageUtility(_ImageCheck):
    kind = "utility"
    direction = "higher_is_better"
    description = "holdout accuracy of a CNN trained on synthetic images over the same trained on real (TSTR/TRTR)"

    def compute(self, ctx: ImageContext) -> Outcome:
        if len(ctx.classes) < 2:
            raise CheckSkipped("one class: nothing to classify")
        real = _recall(_judge(ctx), ctx.holdout, ctx.classes)
        synthetic = _accuracy(ctx.synthetic, ctx.holdout, ctx.classes, ctx.seed)
        return Outcome(
            synthetic / max(real, 1e-9), {"accuracy_trained_on_synthetic": synthetic, "accuracy_trained_on_real": real}
        )


def rare_classes(labels: np.ndarray, classes: list[str]) -> list[str]:
    """Classes with under half the images of the largest; if none, the smallest class."""
    counts = {c: int((labels.astype(str) == c).sum()) for c in classes}
    rare = [c for c, n in counts.items() if n < 0.5 * max(counts.values())]
    return rare or [min(counts, key=counts.get)]


@CHECKS.register("rare_class_gain")
class RareClassGain(_ImageCheck):
    kind = "utility"
    direction = "higher_is_better"
    description = "holdout recall on the rare classes: CNN trained on real + synthetic minus on real alone"

    def compute(self, ctx: ImageContext) -> Outcome:
        if len(ctx.classes) < 2:
            raise CheckSkipped("one class: nothing to classify")
        rare = rare_classes(ctx.train.labels, ctx.classes)
        both = Images(
            np.concatenate([ctx.train.pixels, ctx.synthetic.pixels]),
            np.concatenate([ctx.train.labels, ctx.synthetic.labels]),
        )
        alone = _recall(_judge(ctx), ctx.holdout, ctx.classes, rare)  # the judge is the CNN trained on real
        mixed = _accuracy(both, ctx.holdout, ctx.classes, ctx.seed, rare)
        return Outcome(
            mixed - alone, {"rare_classes": rare, "recall_real_only": alone, "recall_real_plus_synthetic": mixed}
        )


def _flat(images: Images) -> np.ndarray:
    return images.pixels.reshape(len(images.pixels), -1).astype(np.float32)


def image_distances(ctx: ImageContext) -> Distances:
    """Every privacy distance between images (pixel L2, invariant to flips and 1-pixel moves), once."""
    return ctx.cached(
        "distances",
        lambda: distances(
            ctx.train.pixels, ctx.holdout.pixels, ctx.synthetic.pixels, ctx.seed, flip_shift_invariant_neighbours
        ),
    )


def closest_train(ctx: ImageContext) -> tuple[np.ndarray, np.ndarray]:
    """Each synthetic image's invariant distance to, and index of, its nearest train image (the report)."""
    return ctx.cached("closest_train", lambda: flip_shift_invariant_neighbours(ctx.train.pixels, ctx.synthetic.pixels))


ImageDCRShare, ImageNearCopies, ImageMembershipInference = distance_tests(
    "image", "image_", "images", image_distances, " (flips, 1-pixel moves)"
)


@CHECKS.register("image_expectations")
class ImageExpectations(Expectations):
    """The Great Expectations suite built from the real images' summary rows, run on the synthetic ones."""

    modality = "image"

    def compute(self, ctx: ImageContext) -> Outcome:
        return super().compute(ctx.tables)
