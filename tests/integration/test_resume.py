"""A training killed with SIGKILL resumes from its last checkpoint on rerun, and the model it saves
is byte for byte the model of an uninterrupted run (CPU, same seed)."""

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from tests.conftest import PENGUINS
from tests.integration.conftest import FAST_PARAMS, synthgen
from tests.integration.test_distributed import _sensor_csv

pytestmark = pytest.mark.integration


def _params(tmp_path, **train) -> str:
    params = yaml.safe_load(FAST_PARAMS)
    params["train"].update(accelerator="cpu", checkpoint_every=10, **train)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return str(path)


def _kill_when(cmd: list[str], checkpoint_glob: str, partial) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list(partial.glob(checkpoint_glob)):
        assert proc.poll() is None, "training ended before the checkpoint to kill at"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _files(directory):
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "case",
    [
        # early stopping, validation and the best weights so far, two column orders: the first finished,
        # the second killed after its checkpoint 100
        (
            "tabular",
            {"epochs": 150, "early_stopping_patience": 1000},
            "model-categories_first/resume-step=1[0-9][0-9].ckpt",
        ),
        # EMA weights and two fits: the attributes model finished, the sequence model killed mid-run
        ("sensor", {"epochs": 60, "batch_size": 16, "model_config": {"width": 16}}, "model/resume-step=[3-9]?.ckpt"),
    ],
    ids=["tabular_ar", "sensor_ddpm"],
)
def test_a_killed_training_resumes_and_saves_the_uninterrupted_model(tmp_path, case):
    modality, train, kill_at = case
    if modality == "tabular":
        ingest = ["--source", str(PENGUINS), "--target", "species"]
    else:
        source = _sensor_csv(tmp_path / "sensor.csv")
        ingest = ["--source", str(source), "--modality", "sensor", "--entity", "unit", "--time", "step"]
        ingest += ["--target", "label"]
        train["model"] = "sensor_ddpm"
    p = _params(tmp_path, **train)
    synthgen("ingest", *ingest, "--out", str(tmp_path / "prep"), "--params", p)
    train_cmd = ["train", "--data", str(tmp_path / "prep/train.parquet"), "--params", p]
    synthgen(*train_cmd, "--out", str(tmp_path / "whole"))

    model, partial = tmp_path / "model", tmp_path / "model.partial"
    _kill_when([sys.executable, "-m", "synthgen.cli", *train_cmd, "--out", str(model)], kill_at, partial)
    assert not model.exists() and list(partial.glob(kill_at))
    step = int(next(partial.glob(kill_at)).name.split("=")[1].split(".")[0])

    rerun = synthgen(*train_cmd, "--out", str(model))
    assert f"resumed at step {step} of" in rerun.stderr
    assert _files(model) == _files(tmp_path / "whole")  # weights, config, loss curve, encoder: every byte
    assert not partial.exists()  # removed once the model is saved
