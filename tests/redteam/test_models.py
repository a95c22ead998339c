"""Our own default models pass the shipped default gate on the shipped data: the gate does not fail
what we ship, and nothing here is downgraded (every stage through the CLI, as `dvc repro` runs it)."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.integration.conftest import repo_copy, synthgen  # noqa: F401  (repo_copy is a fixture)

pytestmark = pytest.mark.integration


# penguins and basic_motions: tests/integration/test_dvc_repro.py runs them through `dvc repro`.
@pytest.mark.slow  # started first (conftest.py)
@pytest.mark.parametrize("dataset", ["digits"])
def test_the_default_model_passes_the_default_gate(repo_copy, dataset):  # noqa: F811
    params = yaml.safe_load((repo_copy / "params.yaml").read_text())
    assert params["validate"]["allow_unsafe"] == {} and params["validate"]["accept_inconclusive"] == []
    spec = yaml.safe_load((repo_copy / "pipelines" / f"{dataset}.yaml").read_text())
    assert "allow_unsafe" not in spec.get("validate", {}) and "checks" not in spec.get("validate", {})
    for stage in ("ingest", "train", "sample"):
        synthgen(stage, "--dataset", dataset, cwd=repo_copy)
    proc = synthgen("validate", "--dataset", dataset, cwd=repo_copy, check=False)
    metrics = json.loads((repo_copy / "reports" / dataset / "metrics.json").read_text())
    verdicts = {k: (c["verdict"], c["score"]) for k, c in metrics["checks"].items()}
    assert proc.returncode == 0 and metrics["passed"], verdicts
    assert not [k for k, (v, _) in verdicts.items() if v in ("fail", "inconclusive", "accepted_inconclusive")]
    synthgen("augment", "--dataset", dataset, cwd=repo_copy)
    assert (repo_copy / "data" / "augmented" / f"{dataset}.parquet").exists()
