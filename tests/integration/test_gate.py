"""The gate end to end through `synthgen validate`, on the shipped penguins split."""

import json

import numpy as np
import pandas as pd
import pytest

from synthgen import validation  # noqa: F401  (registers the checks)
from synthgen.registry import CHECKS
from tests.integration.conftest import synthgen

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def split(tmp_path_factory, penguins):
    root = tmp_path_factory.mktemp("gate")
    penguins.to_csv(root / "p.csv", index=False)
    synthgen("ingest", "--source", str(root / "p.csv"), "--out", str(root / "prep"), "--target", "species")
    prep = root / "prep"
    return root, pd.read_parquet(prep / "train.parquet"), pd.read_parquet(prep / "holdout.parquet")


def _validate(root, name, synthetic):
    path = root / f"{name}.parquet"
    synthetic.to_parquet(path)
    prep = root / "prep"
    proc = synthgen(
        "validate",
        "--train",
        str(prep / "train.parquet"),
        "--holdout",
        str(prep / "holdout.parquet"),
        "--schema",
        str(prep / "schema.json"),
        "--synthetic",
        str(path),
        "--out",
        str(root / name),
        check=False,
    )
    metrics = json.loads((root / name / "metrics.json").read_text())
    return proc, {k: v["verdict"] for k, v in metrics["checks"].items()}


def test_memorising_generator_fails_on_near_copies_and_membership(split):
    root, train, _ = split
    rng = np.random.default_rng(0)
    noisy = train.copy()
    for col in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"):
        noisy[col] = noisy[col] + rng.normal(0, 0.01, len(noisy))
    proc, verdicts = _validate(root, "memoriser", noisy)
    assert proc.returncode == 1 and "gate failed" in proc.stderr
    assert verdicts["near_copies"] == "fail" and verdicts["membership_inference"] == "fail"


def test_real_holdout_passes(split):
    root, _, holdout = split
    proc, verdicts = _validate(root, "holdout", holdout)
    assert proc.returncode == 0, proc.stdout
    assert "fail" not in verdicts.values()


def test_independent_marginals_fail_on_detection_and_pair_trends(split):
    root, train, _ = split
    rng = np.random.default_rng(1)
    independent = train.apply(lambda col: col.sample(frac=1, random_state=int(rng.integers(1e9))).to_numpy())
    proc, verdicts = _validate(root, "independent", independent.astype(train.dtypes.to_dict()))
    assert proc.returncode == 1
    assert verdicts["detection"] == "fail" and verdicts["column_pair_trends"] == "fail"
    assert verdicts["column_shapes"] == "pass"  # the marginals themselves are perfect


def test_all_nan_column_and_wrong_dtype_fail_the_schema_check_without_crashing(split):
    root, train, _ = split
    broken = train.assign(body_mass_g=np.nan, flipper_length_mm=train["flipper_length_mm"].astype(str))
    proc, verdicts = _validate(root, "broken", broken)
    assert proc.returncode == 1 and verdicts["expectations"] == "fail"
    assert "Traceback" not in proc.stderr


def test_tiny_table_gets_every_check_or_a_reason(tmp_path, penguins):
    tiny = penguins.sample(30, random_state=0)
    tiny.iloc[:22].to_parquet(tmp_path / "train.parquet")
    tiny.iloc[22:].to_parquet(tmp_path / "holdout.parquet")
    proc = synthgen(
        "validate",
        "--train",
        str(tmp_path / "train.parquet"),
        "--holdout",
        str(tmp_path / "holdout.parquet"),
        "--synthetic",
        str(tmp_path / "holdout.parquet"),
        "--out",
        str(tmp_path / "out"),
        "--target",
        "species",
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    checks = json.loads((tmp_path / "out" / "metrics.json").read_text())["checks"]
    assert set(checks) == {n for n in CHECKS.names() if CHECKS.get(n).modality == "tabular"}
    for name, check in checks.items():
        assert check["verdict"] in {"pass", "fail", "warn", "skipped", "inconclusive"}, name
        if check["verdict"] in ("skipped", "inconclusive"):
            assert check["reason"], name
