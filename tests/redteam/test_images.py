"""Images: leaking sets fail the privacy gate at the shipped thresholds; fresh real images pass the whole gate."""

from __future__ import annotations

import numpy as np
import pytest

from synthgen.data.images import Images
from synthgen.validation import redteam
from synthgen.validation.redteam import image_leaks
from tests.redteam.conftest import Split, privacy_failures, verdicts


def _split(images: Images, sizes: tuple[int, int], seed: int) -> Split:
    order = np.random.default_rng(seed).permutation(len(images.labels))
    parts = (order[: sizes[0]], order[sizes[0] : sum(sizes)], order[sum(sizes) :])
    return Split(*(Images(images.pixels[i], images.labels[i]) for i in parts))


def image_context(split: Split, synthetic: Images, layout, seed: int, out):
    return redteam.image_context(split.train, split.holdout, synthetic, layout, seed, out)


@pytest.fixture(scope="module")
def digits(digit_images):
    images, layout = digit_images
    return _split(images, (700, 300), seed=0), layout  # fresh: 797 images


@pytest.mark.parametrize("share", [0.05, 0.10, 0.20])
@pytest.mark.parametrize("kind", ["exact", "near", "flipped", "shifted", "duplicated"])
def test_a_minority_of_disguised_copies_fails(digits, kind, share, tmp_path):
    split, layout = digits
    pixels = image_leaks(split.train.pixels, split.fresh.pixels, seed=1)[kind](share)
    leaked = Images(pixels, split.fresh.labels)
    assert privacy_failures(image_context(split, leaked, layout, 0, tmp_path), "image")


def test_fresh_real_images_pass_the_whole_default_gate(digit_images, tmp_path):
    images, layout = digit_images
    split = _split(images, (700, 300), seed=1)
    result = verdicts(image_context(split, split.fresh, layout, 1, tmp_path), "image")
    assert result["passed"], {k: (c["verdict"], c["score"]) for k, c in result["checks"].items()}
