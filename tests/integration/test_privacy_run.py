"""The shipped DP spec (pipelines/penguins_dp.yaml) end to end through `synthgen run` with the
shipped params: a row_hash split, DP encoder and DP-SGD, the whole default gate plus
validate.require_dp, and the budget in config.json, the Parquet metadata, metrics.json and the report.

At epsilon 3 on 280 train rows the fidelity checks fail (README "Differential privacy", "Small
tables", has the measured scores); the gate then stops the run as for any model. What must hold either way: the
guarantee is recorded and required, and no privacy check fails."""

import json

import pytest
import yaml

from synthgen.io import parquet_provenance
from tests.conftest import REPO
from tests.integration.conftest import synthgen

pytestmark = pytest.mark.integration


def test_the_dp_spec_runs_with_its_guarantee_recorded_required_and_no_privacy_check_failing(tmp_path):
    spec = yaml.safe_load((REPO / "pipelines" / "penguins_dp.yaml").read_text())
    assert "penguins_dp" not in yaml.safe_load((REPO / "params.yaml").read_text())["datasets"]  # not in dvc repro
    assert set(spec["validate"]) == {"require_dp"}  # no check loosened
    out = tmp_path / "out"
    proc = synthgen("run", "--dataset", "penguins_dp", "--out", str(out), cwd=REPO, check=False)
    assert (out / "metrics.json").exists(), proc.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    checks = metrics["checks"]
    assert proc.returncode == (0 if metrics["passed"] else 1), proc.stderr[-2000:]
    assert (out / "augmented.parquet").exists() is metrics["passed"]
    privacy = {k: c["verdict"] for k, c in checks.items() if c["kind"] == "privacy"}
    assert set(privacy.values()) == {"pass"} and "differential_privacy" in privacy, privacy
    epsilon = spec["train"]["privacy"]["epsilon"]
    spent = json.loads((out / "model" / "config.json").read_text())["privacy"]
    assert 0.97 * epsilon <= spent["epsilon"] <= epsilon and spent["delta"] <= 1e-5
    assert metrics["dp_epsilon"] == spent["epsilon"] == checks["differential_privacy"]["score"]
    assert parquet_provenance(out / "synthetic.parquet")["privacy"]["epsilon"] == spent["epsilon"]
    assert "Differential privacy" in (out / "report.html").read_text()
    assert json.loads((out / "prepared" / "layout.json").read_text())["split"] == "row_hash"
