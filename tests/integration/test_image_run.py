"""`synthgen run --modality image` and `synthgen export` through the real CLI."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.integration.conftest import synthgen

pytestmark = pytest.mark.integration


def _tree(root, per_class: int = 30) -> None:
    rng = np.random.default_rng(0)
    for label, corner in (("scratch", 0), ("dent", 4)):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            pixels = (rng.random((8, 8)) * 40).astype(np.uint8)
            pixels[corner : corner + 4, corner : corner + 4] = 255
            Image.fromarray(pixels).save(root / label / f"{i}.png")


def test_image_run_writes_every_output_and_exports_folders(tmp_path, fast_params):
    _tree(tmp_path / "parts")
    out = tmp_path / "out"
    synthgen(
        "run", "--modality", "image", "--source", str(tmp_path / "parts"), "--out", str(out),
        "--epochs", "5", "--rows", "40", "--params", str(fast_params),
    )  # fmt: skip
    for name in ("metrics.json", "report.html", "dcr.csv", "loss.csv", "prepared/layout.json", "augmented.parquet"):
        assert (out / name).exists(), name
    synthetic = pd.read_parquet(out / "synthetic.parquet")
    assert list(synthetic.columns) == ["image", "label", "width", "height"] and len(synthetic) == 40
    assert set(synthetic["label"]) <= {"scratch", "dent"} and (synthetic["width"] == 8).all()
    with Image.open(__import__("io").BytesIO(synthetic["image"].iloc[0])) as first:
        assert first.format == "PNG" and first.size == (8, 8)
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"fid", "image_detection", "image_utility", "image_near_copies"} <= set(metrics["checks"])
    report = (out / "report.html").read_text()
    assert 'id="grids"' in report and 'id="closest"' in report and "https://" not in report
    augmented = pd.read_parquet(out / "augmented.parquet")
    assert augmented["is_synthetic"].sum() == 40 and (~augmented["is_synthetic"]).sum() == 48
    synthgen("export", "--source", str(out / "synthetic.parquet"), "--out", str(tmp_path / "tree"))
    assert sum(len(list((tmp_path / "tree" / c).glob("*.png"))) for c in ("scratch", "dent")) == 40


def test_a_corrupt_image_is_a_one_line_error_and_leaves_no_output(tmp_path, fast_params):
    _tree(tmp_path / "parts", per_class=5)
    (tmp_path / "parts" / "dent" / "bad.png").write_bytes(b"not a png")
    out = tmp_path / "out"
    result = synthgen(
        "run", "--modality", "image", "--source", str(tmp_path / "parts"), "--out", str(out),
        "--params", str(fast_params), check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "dent/bad.png" in result.stderr and "remove or replace them" in result.stderr
    assert not out.exists()
