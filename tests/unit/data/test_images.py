import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from synthgen.data.images import (
    export_folders,
    from_table,
    read_images,
    split_images,
    to_table,
)
from synthgen.errors import SynthgenError


def _gradient(size: int = 12, shift: int = 0) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size]
    return ((x + y + shift) * 255 / (2 * size)).astype(np.uint8)


def _folder(tmp_path, classes=("cat", "dog"), per_class=3, mode="L", suffix=".png"):
    root = tmp_path / "images"
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            array = _gradient(shift=i)
            image = Image.fromarray(array) if mode == "L" else Image.fromarray(np.stack([array] * 3, -1))
            image.save(root / c / f"{i}{suffix}")
    return root


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_class_folders_in_each_format_are_read_with_their_labels(tmp_path, suffix):
    images, layout = read_images(_folder(tmp_path, suffix=suffix), size=8)
    assert images.pixels.shape == (6, 1, 8, 8) and images.pixels.dtype == np.float32
    assert 0 <= images.pixels.min() and images.pixels.max() <= 1
    assert sorted(images.labels) == ["cat"] * 3 + ["dog"] * 3 and layout.classes == ["cat", "dog"]


def test_rgb_and_grayscale_mixed_become_rgb(tmp_path):
    root = _folder(tmp_path)
    red = np.zeros((12, 12, 3), np.uint8)
    red[..., 0] = 255
    Image.fromarray(red).save(root / "cat" / "red.png")
    images, layout = read_images(root, size=8)
    assert layout.channels == 3 and images.pixels.shape[1] == 3
    red = images.pixels[3]  # sorted file names per class: 0, 1, 2, red
    assert red[0].mean() == pytest.approx(1) and red[1].mean() == pytest.approx(0)


def test_16_bit_grayscale_keeps_its_precision_through_png(tmp_path):
    root = tmp_path / "scans" / "lesion"
    root.mkdir(parents=True)
    array = (np.arange(64).reshape(8, 8) * 1000 + 7).astype(np.uint16)  # steps finer than 8 bits can hold
    Image.fromarray(array).save(root / "a.png")
    Image.fromarray(array[::-1].copy()).save(root / "b.png")
    images, layout = read_images(tmp_path / "scans")
    assert layout.depth == 16 and layout.size == 8
    assert images.pixels[0, 0] * 65535 == pytest.approx(array, abs=0.5)
    back = from_table(to_table(images, layout), layout)
    np.testing.assert_allclose(back.pixels * 65535, images.pixels * 65535, atol=0.5)


def test_images_are_centre_cropped_and_resized(tmp_path):
    root = tmp_path / "wide" / "a"
    root.mkdir(parents=True)
    array = np.zeros((10, 30), np.uint8)
    array[:, 10:20] = 255  # the centre square is white, the sides black
    Image.fromarray(array).save(root / "x.png")
    images, layout = read_images(tmp_path / "wide", size=5)
    assert layout.size == 5 and images.pixels.min() == pytest.approx(1.0)


def test_npz_of_uint8_and_float_arrays(tmp_path):
    path = tmp_path / "set.npz"
    np.savez(path, images=np.stack([_gradient()] * 4), labels=np.array([0, 1, 0, 1]))
    images, layout = read_images(path)
    assert layout.size == 12 and layout.classes == ["0", "1"] and images.pixels.shape == (4, 1, 12, 12)
    np.savez(path, images=np.random.default_rng(0).random((4, 6, 6, 3)), labels=np.array(["a", "b", "a", "b"]))
    images, layout = read_images(path)
    assert layout.channels == 3 and images.pixels.shape == (4, 3, 6, 6)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"pixels": np.zeros((2, 4, 4)), "labels": np.zeros(2)}, r"holds \['labels', 'pixels'\]; save the arrays"),
        ({"images": np.zeros((2, 4, 4)), "labels": np.zeros(3)}, "2 images but 3 labels"),
        ({"images": np.zeros((2, 4, 4, 5)), "labels": np.zeros(2)}, r"shape \(2, 4, 4, 5\)"),
        ({"images": np.full((2, 4, 4), 2.0), "labels": np.zeros(2)}, "outside the range"),
    ],
)
def test_bad_npz_files_are_named_errors(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(SynthgenError, match=message):
        read_images(path)


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_parquet_of_image_bytes_with_a_label_column(tmp_path):
    path = tmp_path / "images.parquet"
    pd.DataFrame({"image": [_png(_gradient(shift=i)) for i in range(4)], "kind": ["a", "b"] * 2}).to_parquet(path)
    images, layout = read_images(path, label="kind")
    assert layout.classes == ["a", "b"] and images.pixels.shape == (4, 1, 12, 12)
    with pytest.raises(SynthgenError, match=r"column\(s\) \['label'\] missing"):
        read_images(path)


def test_corrupt_and_unreadable_images_are_reported_by_name(tmp_path):
    root = _folder(tmp_path)
    (root / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (root / "cat" / "empty.jpg").write_bytes(b"")
    (root / "cat" / "notes.txt").write_text("ignored: not an image extension")
    with pytest.raises(SynthgenError, match=r"2 unreadable image\(s\): cat/empty.jpg .*dog/broken.png"):
        read_images(root)


def test_corrupt_bytes_in_a_table_are_reported_by_row(tmp_path):
    path = tmp_path / "images.parquet"
    pd.DataFrame({"image": [_png(_gradient()), b"junk"], "label": ["a", "b"]}).to_parquet(path)
    with pytest.raises(SynthgenError, match=r"1 unreadable image\(s\): row 1"):
        read_images(path)


def test_images_outside_class_folders_and_empty_trees_are_errors(tmp_path):
    root = _folder(tmp_path)
    Image.fromarray(_gradient()).save(root / "stray.png")
    with pytest.raises(SynthgenError, match="outside class folders"):
        read_images(root)
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(SynthgenError, match="no images found"):
        read_images(tmp_path / "empty")


def test_table_round_trip_split_and_export(tmp_path):
    images, layout = read_images(_folder(tmp_path, per_class=10), size=8)
    table = to_table(images, layout)
    assert list(table.columns) == ["image", "label", "width", "height"] and (table["width"] == 8).all()
    back = from_table(table, layout)
    np.testing.assert_allclose(back.pixels, images.pixels, atol=1 / 255)
    train, holdout = split_images(images, 0.2, 0, 2, "test")
    assert len(holdout.labels) == 4 and sorted(set(holdout.labels)) == ["cat", "dog"]
    assert export_folders(table, tmp_path / "export") == 20
    assert len(list((tmp_path / "export" / "dog").glob("*.png"))) == 10


def test_a_table_of_the_wrong_size_is_refused(tmp_path):
    images, layout = read_images(_folder(tmp_path), size=8)
    table = to_table(images, layout)
    layout.size = 6
    with pytest.raises(SynthgenError, match=r"row 0 is \(8, 8, 1\), expected \(6, 6, 1\)"):
        from_table(table, layout)
