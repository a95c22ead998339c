"""The image contract, over every registered image model: fit, sample shape and range, classes,
same seed → same images, save → load."""

import numpy as np
import pytest

from synthgen.config import TrainParams
from synthgen.data.images import ImageLayout, Images
from synthgen.errors import SynthgenError
from synthgen.modalities.image.synthesizer import ImageSynthesizer
from synthgen.registry import MODELS

IMAGE_MODELS = [name for name in MODELS.names() if MODELS.get(name).modality == "image"]


def _squares(n: int = 48, size: int = 8) -> Images:
    """Bright squares in the top-left (class a) or bottom-right (class b) corner."""
    rng = np.random.default_rng(0)
    pixels = rng.random((n, 1, size, size)).astype(np.float32) * 0.1
    labels = np.array(["a", "b"] * (n // 2), dtype=object)
    half = size // 2
    pixels[labels == "a", :, :half, :half] = 1.0
    pixels[labels == "b", :, half:, half:] = 1.0
    return Images(pixels, labels)


@pytest.fixture(scope="module", params=IMAGE_MODELS)
def fitted(request):
    params = TrainParams(model=request.param, epochs=3, batch_size=16, model_config={"sampling_steps": 4})
    return ImageSynthesizer(ImageLayout(8, 1, 8, ["a", "b"]), seed=0, train_params=params).fit(_squares())


def test_samples_have_the_layout_and_requested_classes(fitted):
    out = fitted.sample(np.array(["a", "b", "b"], dtype=object), seed=1)
    assert out.pixels.shape == (3, 1, 8, 8) and out.pixels.dtype == np.float32
    assert 0 <= out.pixels.min() and out.pixels.max() <= 1
    assert list(out.labels) == ["a", "b", "b"]
    assert fitted.meta["class_counts"] == [24, 24]


def test_same_seed_same_images_and_save_load_round_trip(fitted, tmp_path):
    labels = fitted.class_plan(5, seed=3)
    first = fitted.sample(labels, seed=3, batch_size=2)
    np.testing.assert_array_equal(first.pixels, fitted.sample(labels, seed=3, batch_size=2).pixels)
    fitted.save(tmp_path / "m")
    loaded = ImageSynthesizer.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.sample(labels, seed=3, batch_size=2).pixels, first.pixels)


def test_unknown_class_and_non_image_model_are_errors(fitted):
    with pytest.raises(SynthgenError, match=r"unknown class\(es\) \['c'\]"):
        fitted.sample(np.array(["c"], dtype=object))
    with pytest.raises(SynthgenError, match="is for tabular data, not image"):
        ImageSynthesizer(ImageLayout(8, 1), model="tabular_ar")


def test_class_conditioning_is_learned():
    """After a real (short) training run, class a is brighter top-left than class b."""
    params = TrainParams(model="image_ddpm", epochs=60, batch_size=16, model_config={"sampling_steps": 10})
    synth = ImageSynthesizer(ImageLayout(8, 1, 8, ["a", "b"]), seed=0, train_params=params).fit(_squares())
    out = synth.sample(np.array(["a"] * 16 + ["b"] * 16, dtype=object), seed=0)
    top_left = out.pixels[:, 0, :4, :4].mean(axis=(1, 2))
    assert top_left[:16].mean() > top_left[16:].mean() + 0.3


def test_privacy_is_refused_for_images_saying_no_image_model_has_it():
    from synthgen.config import PrivacyParams

    params = TrainParams(model="image_ddpm", privacy=PrivacyParams(epsilon=3.0))
    with pytest.raises(
        SynthgenError, match="'image_ddpm' does not train with .*no image model does; set train.privacy"
    ):
        ImageSynthesizer(ImageLayout(8, 1), train_params=params)
