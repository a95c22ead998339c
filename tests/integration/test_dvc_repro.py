"""The real `dvc repro` on the shipped data with the shipped params: our default models pass the
default gate (nothing downgraded), every output is where DVC expects it, a second repro does
nothing, and a sample change reruns only what follows it, as far as the gate lets it.
(digits: tests/redteam/test_models.py.)"""

import json
import subprocess

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # slow: started first (conftest.py)


def _repro(cwd):
    proc = subprocess.run(["dvc", "repro"], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _passed_the_whole_default_gate(repo_copy, dataset):
    metrics = json.loads((repo_copy / "reports" / dataset / "metrics.json").read_text())
    verdicts = {k: (c["verdict"], c["score"]) for k, c in metrics["checks"].items()}
    assert metrics["passed"], verdicts
    assert not [k for k, (v, _) in verdicts.items() if v in ("fail", "inconclusive", "accepted_inconclusive")]


def test_dvc_repro_end_to_end_then_nothing_then_only_downstream(repo_copy):
    params = yaml.safe_load((repo_copy / "params.yaml").read_text())
    assert params["validate"]["allow_unsafe"] == {} and params["validate"]["accept_inconclusive"] == []
    params["datasets"] = ["penguins", "basic_motions"]  # digits: its own test, it trains for minutes
    (repo_copy / "params.yaml").write_text(yaml.safe_dump(params))
    out = _repro(repo_copy)
    for dataset in params["datasets"]:
        for stage in ("ingest", "train", "sample", "validate", "augment"):
            assert f"Running stage '{stage}@{dataset}'" in out
        spec = yaml.safe_load((repo_copy / "pipelines" / f"{dataset}.yaml").read_text())
        assert "allow_unsafe" not in spec.get("validate", {}) and "checks" not in spec.get("validate", {})
        _passed_the_whole_default_gate(repo_copy, dataset)
        assert not (repo_copy / "models" / f"{dataset}.partial").exists()  # resume checkpoints removed

    augmented = pd.read_parquet(repo_copy / "data/augmented/penguins.parquet")
    raw = pd.read_csv(repo_copy / "data/raw/penguins/penguins.csv")
    assert (
        augmented["is_synthetic"].dtype == bool
        and augmented["is_synthetic"].any()
        and (~augmented["is_synthetic"]).any()
    )
    assert (augmented.drop(columns="is_synthetic").dtypes == raw.dtypes).all()
    synthetic = repo_copy / "data/synthetic/penguins.parquet"
    assert pq.ParquetFile(synthetic).metadata.num_rows == (~augmented["is_synthetic"]).sum()
    metrics = yaml.safe_load((repo_copy / "reports/penguins/metrics.json").read_text())
    assert {"quality", "dcr_share", "exact_copies", "expectations"} <= set(metrics["checks"])
    assert (repo_copy / "reports/penguins/expectations/results.json").exists()
    assert (repo_copy / "reports/penguins/loss.csv").exists()

    sensor = pd.read_parquet(repo_copy / "data/augmented/basic_motions.parquet")
    real = pd.read_parquet(repo_copy / "data/prepared/basic_motions/train.parquet")
    fresh = sensor.loc[sensor["is_synthetic"], "entity"]
    assert list(sensor.columns) == [*real.columns, "is_synthetic"] and not fresh.isin(real["entity"]).any()
    assert (sensor.groupby("entity").size() == 100).all()  # whole sequences, long format

    again = _repro(repo_copy)
    assert "Running stage" not in again

    params = yaml.safe_load((repo_copy / "params.yaml").read_text())
    params["sample"] = {"multiple": 0.5}
    (repo_copy / "params.yaml").write_text(yaml.safe_dump(params))
    before = {d: (repo_copy / f"data/augmented/{d}.parquet").read_bytes() for d in ("penguins", "basic_motions")}
    third = subprocess.run(["dvc", "repro", "--keep-going"], cwd=repo_copy, capture_output=True, text=True)
    for dataset in ("penguins", "basic_motions"):
        stages = ("ingest", "train", "sample", "validate", "augment")
        ran = {s for s in stages if f"Running stage '{s}@{dataset}'" in third.stdout}
        assert {"sample", "validate"} <= ran <= {"sample", "validate", "augment"}, third.stdout[-3000:]
        # Whatever the gate says of a resample, the pipeline obeys it. (The half-size penguins set
        # fails `dcr_share`: README, "Tabular model: privacy".)
        metrics = json.loads((repo_copy / "reports" / dataset / "metrics.json").read_text())
        augmented = (repo_copy / f"data/augmented/{dataset}.parquet").read_bytes()
        if metrics["passed"]:
            assert "augment" in ran and augmented != before[dataset]
        else:
            assert "augment" not in ran and augmented == before[dataset] and third.returncode != 0
