"""Scale-out through Lightning and torchrun: two CPU processes (gloo) train one model, two ranks
sample one set, and the later stages read the parts as one table."""

import json
import shutil
import subprocess

import pandas as pd
import pytest
import yaml

from tests.conftest import PENGUINS
from tests.integration.conftest import FAST_PARAMS, synthgen

pytestmark = pytest.mark.integration


@pytest.fixture()
def ddp_params(tmp_path):
    params = yaml.safe_load(FAST_PARAMS)
    params["train"].update(accelerator="cpu", devices=2, strategy="ddp", epochs=20)
    params["sample"]["batch_size"] = 500
    # A short run: the gate itself is tested elsewhere.
    params["validate"]["checks"]["expectations"] = {"threshold": 1.0, "level": "warn"}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def test_two_process_ddp_training_then_two_rank_sampling(tmp_path, ddp_params):
    p = str(ddp_params)
    synthgen("ingest", "--source", str(PENGUINS), "--target", "species", "--out", str(tmp_path / "prep"), "--params", p)
    trained = synthgen(
        "train", "--data", str(tmp_path / "prep/train.parquet"), "--schema", str(tmp_path / "prep/schema.json"),
        "--out", str(tmp_path / "model"), "--params", p,
    )  # fmt: skip
    assert "2 process(es)" in trained.stderr and "rank 1 of 2: training done" in trained.stderr
    assert (tmp_path / "model/model.pt").exists() and not list(tmp_path.glob(".model.tmp-*"))

    torchrun = shutil.which("torchrun")
    assert torchrun, "torchrun comes with torch"
    out = tmp_path / "synthetic.parquet"
    sample = ["sample", "--model", str(tmp_path / "model"), "--rows", "3000", "--params", p]
    cmd = [torchrun, "--standalone", "--nproc-per-node", "2", "--module", "synthgen.cli", *sample, "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["world_size"] == 2 and manifest["rows"] == 3000

    single = tmp_path / "single.parquet"
    synthgen(*sample, "--out", str(single))
    pd.testing.assert_frame_equal(pd.read_parquet(single), pd.concat(
        [pd.read_parquet(out / part["file"]) for part in manifest["parts"]], ignore_index=True
    ))  # fmt: skip

    prep = tmp_path / "prep"
    synthgen(
        "validate", "--train", str(prep / "train.parquet"), "--holdout", str(prep / "holdout.parquet"),
        "--synthetic", str(out), "--schema", str(prep / "schema.json"), "--out", str(tmp_path / "reports"),
        "--params", p,
    )  # fmt: skip
    synthgen(
        "augment", "--train", str(tmp_path / "prep/train.parquet"), "--synthetic", str(out),
        "--out", str(tmp_path / "augmented.parquet"), "--params", p, "--metrics", str(tmp_path / "reports/metrics.json"),  # noqa: E501
    )  # fmt: skip
    assert pd.read_parquet(tmp_path / "augmented.parquet")["is_synthetic"].sum() == 3000
