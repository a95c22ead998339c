"""The validation report, rendered by a real headless Chromium: verdicts and every figure are there."""

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from tests.integration.conftest import synthgen

pytestmark = pytest.mark.integration
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    if os.environ.get("CI"):
        pytest.fail("headless Chromium is required in CI: apt-get install chromium (README, test command)")
    pytest.skip("no Chromium on PATH: apt-get install chromium to run this test")


@pytest.fixture(scope="module")
def report(tmp_path_factory, penguins):
    root = tmp_path_factory.mktemp("report")
    shuffled = penguins.sample(frac=1, random_state=0)
    shuffled.iloc[:270].to_parquet(root / "train.parquet")
    shuffled.iloc[270:].to_parquet(root / "holdout.parquet")
    # A real holdout as the "synthetic" set: a known-good set, so every section has content.
    synthgen(
        "validate",
        "--train",
        str(root / "train.parquet"),
        "--holdout",
        str(root / "holdout.parquet"),
        "--synthetic",
        str(root / "holdout.parquet"),
        "--out",
        str(root / "out"),
        "--target",
        "species",
        check=False,
    )
    return root / "out" / "report.html"


def test_report_renders_offline_with_verdicts_and_figures(report, tmp_path):
    browser = _chromium()
    html = report.read_text()
    assert "http://" not in html and "https://" not in html  # nothing to fetch: opens offline
    images = len(re.findall(r"<img ", html))
    assert images == 8 + 2  # 8 column plots, correlation heatmaps, DCR histogram

    common = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
    dom = subprocess.run([*common, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert 'id="verdicts"' in dom and "PASS" in dom and 'id="data-docs"' in dom
    loaded = re.search(r'data-figures-loaded="(\d+)"', dom)
    assert loaded and int(loaded.group(1)) == images, "every embedded figure decoded in the browser"

    shot = tmp_path / "report.png"
    subprocess.run(
        [*common, "--window-size=1300,3000", f"--screenshot={shot}", report.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] == 3000 and pixels.shape[1] == 1300
    assert np.std(pixels[:, :, :3]) > 0.05  # not a blank page
