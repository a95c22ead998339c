"""Scale-out through Lightning and torchrun, on CPU processes (gloo).

Training on 2 or 3 processes takes the documented budget: the optimizer steps and rows seen of one
process (steps = epochs x ceil(rows x passes per epoch / train.batch_size), every row once per
pass), for each modality's default model, both fits of a sensor model, and a GAN. Sampling under
torchrun gives each rank its own part on its own device, and the parts read in order are the
one-process sample."""

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import PENGUINS, REPO
from tests.integration.conftest import FAST_PARAMS, synthgen

pytestmark = pytest.mark.integration
DIGITS = REPO / "data" / "raw" / "digits" / "digits.npz"


def _params(tmp_path, name: str, **train) -> str:
    params = yaml.safe_load(FAST_PARAMS)
    params["train"].update(accelerator="cpu", **train)
    params["sample"]["batch_size"] = 500
    params["validate"]["checks"]["expectations"] = {"threshold": 1.0, "level": "warn"}  # a short run
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(params))
    return str(path)


def _sensor_csv(path):
    """40 short recordings of 2 channels, varying lengths and one attribute: both sensor fits run."""
    rng, rows = np.random.default_rng(0), []
    for unit in range(40):
        label, size = "ab"[unit % 2], round(float(rng.normal(5, 1)), 2)
        for step in range(int(rng.integers(8, 17))):
            x = np.sin(step / 2 + unit) * (1 + unit % 2) + rng.normal(0, 0.1)
            rows.append({"unit": unit, "step": step, "x": x, "y": rng.normal(), "size": size, "label": label})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("prepared")
    p = _params(root, "ingest")
    synthgen("ingest", "--source", str(PENGUINS), "--target", "species", "--out", str(root / "tabular"), "--params", p)
    synthgen(
        "ingest", "--source", str(_sensor_csv(root / "sensor.csv")), "--modality", "sensor", "--entity", "unit",
        "--time", "step", "--target", "label", "--out", str(root / "sensor"), "--params", p,
    )  # fmt: skip
    synthgen(
        "ingest", "--source", str(DIGITS), "--modality", "image", "--target", "label", "--size", "8",
        "--out", str(root / "image"), "--params", p,
    )  # fmt: skip
    return root


CASES = {  # model: (prepared set, train settings)
    "tabular_ar": ("tabular", {"epochs": 6, "batch_size": 64, "early_stopping_patience": 1000}),
    "ctgan": ("tabular", {"epochs": 4, "batch_size": 100, "model_config": {"width": 32, "pac": 2}}),
    "sensor_ddpm": ("sensor", {"epochs": 3, "batch_size": 16, "model_config": {"width": 16}}),
    "image_ddpm": ("image", {"epochs": 1, "batch_size": 128, "model_config": {"width": 8}}),
}


def _expected(config: dict, n_rows: int, epochs: int, batch: int) -> tuple[int, int]:
    """The documented budget of one process (validation rows held out, as budget_for does)."""
    n_val = int(n_rows * 0.1) if config["model"] == "tabular_ar" else 0
    n_val = n_val if n_val >= 8 else 0
    fit = n_rows - n_val
    batch = min(batch, fit)
    per_epoch = min(epochs, max(1, 50 // -(-fit // batch)))
    return -(-epochs // per_epoch) * -(-fit * per_epoch // batch), -(-epochs // per_epoch) * per_epoch * fit


# Each modality's default model on 2 and 3 processes; the GAN (manual optimisation) on 2.
RUNS = [(m, w) for m in ("tabular_ar", "sensor_ddpm", "image_ddpm") for w in (2, 3)] + [("ctgan", 2)]


@pytest.mark.parametrize(("model", "world"), RUNS, ids=[f"{m}-{w}" for m, w in RUNS])
def test_ddp_takes_the_steps_and_rows_of_one_process(tmp_path, prepared, model, world):
    data, train = CASES[model]
    p = _params(tmp_path, "ddp", model=model, devices=world, strategy="ddp", **train)
    out = tmp_path / "model"
    done = synthgen("train", "--data", str(prepared / data / "train.parquet"), "--out", str(out), "--params", p)
    assert f"{world} process(es)" in done.stderr
    assert all(f"rank {r} of {world}: training done" in done.stderr for r in range(1, world))
    fits = [out] + ([out / "attributes"] if (out / "attributes").exists() else [])
    assert (model == "sensor_ddpm") == (len(fits) == 2)  # the sensor model's two fits both ran under DDP
    n_rows = len(pd.read_parquet(prepared / data / "train.parquet"))
    if data == "sensor":
        n_rows = pd.read_parquet(prepared / data / "train.parquet")["unit"].nunique()
    for fit in fits:
        config = json.loads((fit / "config.json").read_text())
        record = config["training"]
        assert record["world_size"] == world and record["stopped"] == "budget"
        if model == "tabular_ar":  # order auto: both column orders trained under DDP, the better one kept
            assert set(record["candidates"]["validation_loss"]) == {"schema", "categories_first"}
        epochs, batch = (train["epochs"], train["batch_size"]) if fit == out else (train["epochs"], 256)
        steps, rows = _expected(config, n_rows, epochs, batch)
        assert (record["steps"], record["budget_steps"]) == (steps, steps), fit
        assert record["samples_seen"] == rows, fit


def test_torchrun_ranks_sample_on_their_own_devices_into_one_set(tmp_path, prepared):
    p = _params(tmp_path, "sample", epochs=20)
    model = tmp_path / "model"
    synthgen("train", "--data", str(prepared / "tabular/train.parquet"), "--out", str(model), "--params", p)
    torchrun = shutil.which("torchrun")
    assert torchrun, "torchrun comes with torch"
    out = tmp_path / "synthetic.parquet"
    sample = ["sample", "--model", str(model), "--rows", "3000", "--params", p]
    cmd = [torchrun, "--standalone", "--nproc-per-node", "2", "--module", "synthgen.cli", *sample, "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["world_size"] == 2 and manifest["rows"] == 3000
    # accelerator: cpu → every rank on the CPU (on a GPU node: cuda:LOCAL_RANK, see test_synthesizer)
    assert [part["device"] for part in manifest["parts"]] == ["cpu", "cpu"]

    single = tmp_path / "single.parquet"
    synthgen(*sample, "--out", str(single))
    pd.testing.assert_frame_equal(pd.read_parquet(single), pd.concat(
        [pd.read_parquet(out / part["file"]) for part in manifest["parts"]], ignore_index=True
    ))  # fmt: skip

    prep = prepared / "tabular"
    synthgen(
        "validate", "--train", str(prep / "train.parquet"), "--holdout", str(prep / "holdout.parquet"),
        "--synthetic", str(out), "--schema", str(prep / "schema.json"), "--out", str(tmp_path / "reports"),
        "--params", p,
    )  # fmt: skip
    synthgen(
        "augment", "--train", str(prep / "train.parquet"), "--synthetic", str(out),
        "--out", str(tmp_path / "augmented.parquet"), "--params", p, "--metrics", str(tmp_path / "reports/metrics.json"),  # noqa: E501
    )  # fmt: skip
    assert pd.read_parquet(tmp_path / "augmented.parquet")["is_synthetic"].sum() == 3000
