"""Each image check on data with a known answer: real digits, copies of the train images, noise."""

from pathlib import Path

import numpy as np
import pytest

from synthgen.config import PRIVACY_ALPHA
from synthgen.data.images import Images, read_images, split_images, summary_rows, to_table
from synthgen.data.schema import infer_schema
from synthgen.registry import CHECKS
from synthgen.validation.base import Context
from synthgen.validation.images import ImageContext, manifold_coverage, rare_classes

DIGITS = Path(__file__).resolve().parents[3] / "data" / "raw" / "digits" / "digits.npz"


@pytest.fixture(scope="module")
def digits():
    images, layout = read_images(DIGITS)
    train, holdout = split_images(images, 0.25, 0, 5, "digits")
    return train, holdout, layout


def _context(digits, synthetic: Images, tmp_path) -> ImageContext:
    train, holdout, layout = digits
    rows = [summary_rows(to_table(s, layout)) for s in (train, holdout, synthetic)]
    tables = Context(*rows, infer_schema(rows[0], "label"), 0, tmp_path)
    return ImageContext(train, holdout, synthetic, layout.classes, 0, tmp_path, tables)


@pytest.fixture(scope="module")
def copies(digits, tmp_path_factory):
    """A memorising generator: the train images themselves."""
    train = digits[0]
    return _context(digits, Images(train.pixels.copy(), train.labels.copy()), tmp_path_factory.mktemp("copies"))


@pytest.fixture(scope="module")
def noise(digits, tmp_path_factory):
    """A useless generator: per-pixel uniform noise with random labels."""
    train = digits[0]
    rng = np.random.default_rng(0)
    pixels = rng.random(train.pixels.shape).astype(np.float32)
    return _context(digits, Images(pixels, rng.permutation(train.labels)), tmp_path_factory.mktemp("noise"))


@pytest.fixture(scope="module")
def fresh(digits, tmp_path_factory):
    """An ideal generator: unseen real images (half the holdout, judged against the other half)."""
    train, holdout, layout = digits
    order = np.random.default_rng(1).permutation(len(holdout.labels))
    half = len(order) // 2
    pick = lambda idx: Images(holdout.pixels[idx], holdout.labels[idx])  # noqa: E731
    ctx = _context((train, pick(order[:half]), layout), pick(order[half:]), tmp_path_factory.mktemp("fresh"))
    return ctx


def _score(name, ctx):
    return CHECKS.get(name)().compute(ctx).score


PRIVACY = ("image_dcr_share", "image_near_copies", "image_membership_inference")


def test_memorisation_checks_catch_copies_and_pass_unseen_images(copies, fresh):
    for name in PRIVACY:
        assert _score(name, copies) < PRIVACY_ALPHA, name
        assert _score(name, fresh) > PRIVACY_ALPHA, name


def test_detection_is_two_sided(fresh, noise, copies):
    assert _score("image_detection", fresh) < 0.1  # |AUC − 0.5|
    assert _score("image_detection", noise) > 0.49
    auc = CHECKS.get("image_detection")().compute(copies).details["auc"]
    assert auc < 0.5  # twins of train images in other folds are called real


def test_feature_distances_order_fresh_below_noise(fresh, noise):
    fid_fresh, fid_noise = _score("fid", fresh), _score("fid", noise)
    assert fid_fresh < 0.1 * fid_noise
    assert _score("kid", fresh) < 0.1 * _score("kid", noise)


def test_precision_and_recall(copies, noise):
    assert _score("image_precision", copies) == pytest.approx(1.0)
    assert _score("image_recall", copies) == pytest.approx(1.0)
    assert _score("image_precision", noise) < 0.3


def test_utility_is_near_one_for_real_images_and_low_for_noise(fresh, noise):
    assert _score("image_utility", fresh) > 0.85
    assert _score("image_utility", noise) < 0.3


def test_rare_class_gain_and_schema_suite(digits, fresh, noise):
    assert abs(_score("rare_class_gain", fresh)) < 0.2
    assert _score("image_expectations", fresh) == pytest.approx(1.0)
    wrong = Images(noise.synthetic.pixels, np.full(len(noise.synthetic.labels), "x", dtype=object))
    ctx = _context(digits, wrong, fresh.out_dir)
    assert _score("image_expectations", ctx) < 1.0  # a label never seen in train


def test_manifold_coverage_on_points_with_a_known_answer():
    grid = np.stack(np.meshgrid(np.arange(10.0), np.arange(10.0)), -1).reshape(-1, 2)
    assert manifold_coverage(grid, grid + 0.1) == 1.0
    assert manifold_coverage(grid, grid + 100) == 0.0


def test_rare_classes_are_those_under_half_the_largest():
    labels = np.array(["a"] * 10 + ["b"] * 4 + ["c"] * 9)
    assert rare_classes(labels, ["a", "b", "c"]) == ["b"]
    assert rare_classes(np.array(["a", "b"]), ["a", "b"]) == ["a"]
