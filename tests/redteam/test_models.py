"""Our own default models pass the shipped default gate on the shipped data: the gate does not fail
what we ship, and nothing here is downgraded (every stage through the CLI, as `dvc repro` runs it)."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.integration.conftest import repo_copy, synthgen  # noqa: F401  (repo_copy is a fixture)

pytestmark = pytest.mark.integration

# (dataset, train epochs override or None for the model's own budget)
SHIPPED = [
    ("penguins", None),
    ("basic_motions", None),
    pytest.param(
        "digits",
        250,  # half image_ddpm's budget (5 of 10 CPU minutes); every other setting as shipped
        marks=pytest.mark.xfail(
            strict=True,
            reason="image_ddpm falls short: image_membership_inference p = 0.0001 (attack AUC 0.56, train images "
            "closer to the synthetic set than holdout ones); README 'Image model: status'",
        ),
    ),
]


@pytest.mark.parametrize(("dataset", "epochs"), SHIPPED)
def test_the_default_model_passes_the_default_gate(repo_copy, dataset, epochs):  # noqa: F811
    params = yaml.safe_load((repo_copy / "params.yaml").read_text())
    assert params["validate"]["allow_unsafe"] == {} and params["validate"]["accept_inconclusive"] == []
    if epochs:
        params["train"]["epochs"] = epochs
        (repo_copy / "params.yaml").write_text(yaml.safe_dump(params))
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
