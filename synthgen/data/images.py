"""Images in and out: class folders, `.npz` arrays or Parquet image bytes → one square size, as a
table of PNG bytes (the format of every image file synthgen writes).

Pixels are floats in [0, 1] inside synthgen. Images are centre-cropped to a square and resized with
antialiasing; grayscale is kept unless any image has colour (then all become RGB); alpha is dropped.
16-bit grayscale keeps its 16 bits through to the output PNGs.
"""

from __future__ import annotations

import io
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image, UnidentifiedImageError
from torch.nn import functional as F

from synthgen.errors import SynthgenError
from synthgen.io import read_table, resolve_source

log = logging.getLogger(__name__)
IMAGE, LABEL, WIDTH, HEIGHT = "image", "label", "width", "height"
EXTENSIONS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}
MAX_SIZE = 64  # the default size cap: the bundled U-Net is sized for small images on a CPU
_COLOUR_MODES = {"RGB", "RGBA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"}


@dataclass
class ImageLayout:
    """What ingest decided: one square size, 1 or 3 channels, 8 or 16 bits, the classes."""

    size: int
    channels: int
    depth: int = 8
    classes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImageLayout:
        return cls(**data)


@dataclass
class Images:
    pixels: np.ndarray  # (n, channels, size, size) float32 in [0, 1]
    labels: np.ndarray  # (n,) class names as str


def _decode(image: Image.Image) -> tuple[np.ndarray, int]:
    """(height, width, channels) floats in [0, 1] and the bit depth."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        raw = np.asarray(image, dtype=np.float64)
        if raw.min() < 0 or raw.max() > 65535:
            raise ValueError(f"32-bit integer pixels outside 0-65535 (mode {image.mode})")
        return (raw / 65535)[..., None].astype(np.float32), 16
    if image.mode == "F":
        raw = np.asarray(image, dtype=np.float32)
        if raw.min() < 0 or raw.max() > 1:
            raise ValueError("float pixels outside [0, 1]; rescale them to [0, 1]")
        return raw[..., None], 16
    rgb = image.mode in _COLOUR_MODES
    pixels = np.asarray(image.convert("RGB" if rgb else "L"), dtype=np.float32) / 255
    return (pixels if rgb else pixels[..., None]), 8


def decode_bytes(data: bytes) -> tuple[np.ndarray, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return _decode(image)


def _read_file(path: Path) -> tuple[np.ndarray, int]:
    with Image.open(path) as image:
        image.load()
        return _decode(image)


def _unreadable(where: str, bad: list[str]) -> SynthgenError:
    shown = "; ".join(bad[:5]) + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
    return SynthgenError(f"{where}: {len(bad)} unreadable image(s): {shown}; remove or replace them")


def _from_folders(root: Path) -> tuple[list[np.ndarray], list[int], list[str]]:
    loose = sorted(p.name for p in root.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)
    if loose:
        raise SynthgenError(
            f"{root}: images {loose[:3]} sit outside class folders; put each image in a subfolder named after its class"
        )
    images, depths, labels, bad, skipped = [], [], [], [], 0
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        for path in files:
            if path.suffix.lower() not in EXTENSIONS:
                skipped += 1
                continue
            try:
                pixels, depth = _read_file(path)
            except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
                bad.append(f"{path.relative_to(root)} ({str(exc).splitlines()[0][:80]})")
                continue
            images.append(pixels)
            depths.append(depth)
            labels.append(folder.name)
    if bad:
        raise _unreadable(str(root), bad)
    if skipped:
        log.info("%s: %d file(s) without an image extension ignored", root, skipped)
    if not images:
        raise SynthgenError(f"{root}: no images found; give one subfolder per class holding {sorted(EXTENSIONS)} files")
    return images, depths, labels


def _from_arrays(array: np.ndarray, where: str) -> tuple[list[np.ndarray], list[int]]:
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[-1] not in (1, 3):
        raise SynthgenError(
            f"{where}: images of shape {array.shape}; expected (n, height, width) or (n, height, width, 1|3)"
        )
    if np.issubdtype(array.dtype, np.integer):
        depth = 16 if array.dtype.itemsize > 1 else 8
        scaled = array.astype(np.float32) / (65535 if depth == 16 else 255)
    else:
        depth, scaled = 8, array.astype(np.float32)
    if not np.isfinite(scaled).all() or scaled.min() < 0 or scaled.max() > 1:
        raise SynthgenError(
            f"{where}: pixel values outside the range of their type; use uint8, uint16 or floats in [0, 1]"
        )
    return list(scaled), [depth] * len(scaled)


def _from_npz(path: Path) -> tuple[list[np.ndarray], list[int], list[str]]:
    with np.load(path, allow_pickle=False) as data:
        if "images" not in data or "labels" not in data:
            raise SynthgenError(f"{path}: holds {sorted(data.files)}; save the arrays as `images` and `labels`")
        images, labels = data["images"], data["labels"]
    if len(images) != len(labels):
        raise SynthgenError(f"{path}: {len(images)} images but {len(labels)} labels; give one label per image")
    pixels, depths = _from_arrays(images, str(path))
    return pixels, depths, [str(v) for v in labels]


def _from_table(path: Path, label: str) -> tuple[list[np.ndarray], list[int], list[str]]:
    frame = read_table(path)
    missing = [c for c in (IMAGE, label) if c not in frame.columns]
    if missing:
        raise SynthgenError(
            f"{path}: column(s) {missing} missing (found {list(frame.columns)[:8]}); "
            f"give image bytes in {IMAGE!r} and the class in {label!r} (or --target COL)"
        )
    images, depths, bad = [], [], []
    for row, value in enumerate(frame[IMAGE].tolist()):
        data = value.get("bytes") if isinstance(value, dict) else value  # Hugging Face datasets store a struct
        try:
            if isinstance(data, (bytes, bytearray)):
                pixels, depth = decode_bytes(bytes(data))
            elif data is not None:
                (pixels,), (depth,) = _from_arrays(
                    np.asarray(data.tolist() if hasattr(data, "tolist") else data)[None], ""
                )
            else:
                raise ValueError("empty")
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, SynthgenError) as exc:
            bad.append(f"row {row} ({str(exc).splitlines()[0][:80] or 'not an image'})")
            continue
        images.append(pixels)
        depths.append(depth)
    if bad:
        raise _unreadable(f"{path}: column {IMAGE!r}", bad)
    if frame[label].isna().any():
        raise SynthgenError(f"{path}: column {label!r} has missing labels; label every image or drop those rows")
    return images, depths, frame[label].astype(str).tolist()


def _square(pixels: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop to a square, then resize (antialiased bilinear) to size x size; (channels, size, size)."""
    h, w = pixels.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = torch.from_numpy(np.ascontiguousarray(pixels[top : top + side, left : left + side])).permute(2, 0, 1)
    if side != size:
        crop = F.interpolate(
            crop[None].float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )[0]
    return crop.clamp(0, 1).numpy().astype(np.float32)


def read_images(source: str | Path, size: int | None = None, label: str = LABEL) -> tuple[Images, ImageLayout]:
    """Read a class-folder tree, an `.npz` (`images`, `labels`) or a table of image bytes + labels."""
    path = resolve_source(source)
    if path.is_dir():
        images, depths, labels = _from_folders(path)
    elif path.suffix == ".npz":
        images, depths, labels = _from_npz(path)
    else:
        images, depths, labels = _from_table(path, label)
    if not images:
        raise SynthgenError(f"{source}: no images; give at least a few per class")
    smallest = min(min(p.shape[:2]) for p in images)
    if size is None:
        size = min(smallest, MAX_SIZE)
        log.info("image size: %d (the smallest side, at most %d; set image_size to change)", size, MAX_SIZE)
    elif size > smallest:
        log.warning(
            "%s: some images are smaller than image_size %d (smallest side %d): upscaled", source, size, smallest
        )
    channels = 3 if any(p.shape[2] == 3 for p in images) else 1
    if channels == 3 and any(p.shape[2] == 1 for p in images):
        log.info("%s: grayscale images converted to RGB, since others have colour", source)
    depth = 16 if channels == 1 and all(d == 16 for d in depths) else 8
    pixels = np.stack([_square(np.repeat(p, channels // p.shape[2], axis=2), size) for p in images])
    classes = sorted(set(labels), key=_natural)
    return Images(pixels, np.asarray(labels, dtype=object)), ImageLayout(size, channels, depth, classes)


def _natural(name: str) -> tuple[int, int | str]:
    return (0, int(name)) if name.isdigit() else (1, name)


def encode_png(pixels: np.ndarray, depth: int) -> bytes:
    """(channels, size, size) floats in [0, 1] → PNG bytes (16-bit for 16-bit grayscale)."""
    hwc = np.clip(pixels, 0, 1).transpose(1, 2, 0)
    if depth == 16 and hwc.shape[2] == 1:
        image = Image.fromarray(np.round(hwc[..., 0] * 65535).astype(np.uint16))
    else:
        array = np.round(hwc * 255).astype(np.uint8)
        image = Image.fromarray(array[..., 0] if array.shape[2] == 1 else array)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def to_table(images: Images, layout: ImageLayout) -> pd.DataFrame:
    """One row per image: PNG bytes, label, width, height (the output format)."""
    return pd.DataFrame(
        {
            IMAGE: [encode_png(p, layout.depth) for p in images.pixels],
            LABEL: pd.Series(images.labels, dtype=object).astype(str),
            WIDTH: np.full(len(images.labels), layout.size, dtype=np.int64),
            HEIGHT: np.full(len(images.labels), layout.size, dtype=np.int64),
        }
    )


def from_table(frame: pd.DataFrame, layout: ImageLayout, where: str = "table") -> Images:
    """The inverse of `to_table`, checked against the layout."""
    missing = [c for c in (IMAGE, LABEL) if c not in frame.columns]
    if missing:
        raise SynthgenError(f"{where}: column(s) {missing} missing; expected a table written by synthgen")
    pixels = []
    for row, data in enumerate(frame[IMAGE].tolist()):
        try:
            array, _ = decode_bytes(data)
        except (UnidentifiedImageError, OSError, ValueError, TypeError) as exc:
            raise SynthgenError(f"{where}: row {row}: not a readable image ({exc}); regenerate the file") from exc
        if array.shape != (layout.size, layout.size, layout.channels):
            raise SynthgenError(
                f"{where}: row {row} is {array.shape}, expected {(layout.size, layout.size, layout.channels)}; "
                "regenerate the file with this dataset's model"
            )
        pixels.append(array.transpose(2, 0, 1))
    empty = np.zeros((0, layout.channels, layout.size, layout.size), dtype=np.float32)
    return Images(np.stack(pixels) if pixels else empty, frame[LABEL].astype(str).to_numpy(dtype=object))


def split_images(images: Images, fraction: float, seed: int, min_holdout: int, where: str) -> tuple[Images, Images]:
    """Per class, so rare classes are on both sides; a class of one image stays in train."""
    rng = np.random.default_rng(seed)
    holdout = []
    for name in sorted(set(images.labels)):
        idx = np.flatnonzero(images.labels == name)
        holdout += rng.permutation(idx)[: int(round(fraction * len(idx))) if len(idx) > 1 else 0].tolist()
    if len(holdout) < min_holdout:
        raise SynthgenError(
            f"{where}: {len(images.labels)} images give {len(holdout)} holdout image(s) (minimum {min_holdout}); "
            "add images or raise ingest.holdout_fraction"
        )
    is_holdout = np.zeros(len(images.labels), dtype=bool)
    is_holdout[holdout] = True
    pick = lambda keep: Images(images.pixels[keep], images.labels[keep])  # noqa: E731
    return pick(~is_holdout), pick(is_holdout)


def export_folders(frame: pd.DataFrame, out: Path) -> int:
    """Write a class-per-folder PNG tree (the layout most image tools read)."""
    for row, (data, label) in enumerate(zip(frame[IMAGE].tolist(), frame[LABEL].astype(str).tolist(), strict=True)):
        folder = out / label
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{row:06d}.png").write_bytes(data)
    return len(frame)


def summary_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per image for the schema suite: label and stated size. (Brightness and contrast
    ranges were tried: a strict range fails on one image in a thousand that real holdouts share.)"""
    return frame[[c for c in frame.columns if c != IMAGE]]
