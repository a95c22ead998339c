"""`synthgen run` and the one-shot commands on user files, through the real CLI."""

import filecmp
import json

import numpy as np
import pandas as pd
import pytest

from tests.integration.conftest import synthgen

pytestmark = pytest.mark.integration


def test_run_on_a_users_csv_keeps_dtypes(tmp_path, mixed, fast_params):
    source = tmp_path / "customers.csv"
    mixed.to_csv(source, index=False)
    out = tmp_path / "out"
    synthgen(
        "run",
        "--source",
        str(source),
        "--out",
        str(out),
        "--target",
        "fraud",
        "--rows",
        "300",
        "--params",
        str(fast_params),
    )
    real = pd.read_csv(source)
    synthetic = pd.read_parquet(out / "synthetic.parquet")
    augmented = pd.read_parquet(out / "augmented.parquet")
    assert len(synthetic) == 300
    assert (synthetic.dtypes == real.dtypes).all(), synthetic.dtypes[synthetic.dtypes != real.dtypes]
    assert (augmented.drop(columns="is_synthetic").dtypes == real.dtypes).all()
    assert augmented["is_synthetic"].sum() == 300
    assert json.loads((out / "metrics.json").read_text())["passed"]
    assert not synthetic["email"].isin(real["email"]).any()
    assert pd.to_datetime(synthetic["opened"], format="%Y-%m-%d").notna().all()


def test_same_params_and_seed_give_byte_identical_parquet(tmp_path, penguins, fast_params):
    source = tmp_path / "p.csv"
    penguins.to_csv(source, index=False)
    for name in ("a", "b"):
        synthgen(
            "train",
            "--data",
            str(source),
            "--out",
            str(tmp_path / name),
            "--target",
            "species",
            "--seed",
            "3",
            "--params",
            str(fast_params),
        )
        synthgen(
            "sample",
            "--model",
            str(tmp_path / name),
            "--rows",
            "500",
            "--out",
            str(tmp_path / f"{name}.parquet"),
            "--seed",
            "3",
            "--params",
            str(fast_params),
        )
    assert filecmp.cmp(tmp_path / "a.parquet", tmp_path / "b.parquet", shallow=False)
    synthgen(
        "sample",
        "--model",
        str(tmp_path / "a"),
        "--rows",
        "500",
        "--out",
        str(tmp_path / "c.parquet"),
        "--seed",
        "4",
        "--params",
        str(fast_params),
    )
    assert not filecmp.cmp(tmp_path / "a.parquet", tmp_path / "c.parquet", shallow=False)


def test_conditional_and_balanced_sampling(tmp_path, penguins, fast_params):
    source = tmp_path / "p.csv"
    penguins.to_csv(source, index=False)
    synthgen(
        "train",
        "--data",
        str(source),
        "--out",
        str(tmp_path / "m"),
        "--target",
        "species",
        "--params",
        str(fast_params),
    )
    synthgen(
        "sample",
        "--model",
        str(tmp_path / "m"),
        "--rows",
        "50",
        "--condition",
        "species=Chinstrap",
        "--out",
        str(tmp_path / "c.parquet"),
        "--params",
        str(fast_params),
    )
    assert (pd.read_parquet(tmp_path / "c.parquet")["species"] == "Chinstrap").all()
    synthgen(
        "sample",
        "--model",
        str(tmp_path / "m"),
        "--mode",
        "balance",
        "--out",
        str(tmp_path / "b.parquet"),
        "--params",
        str(fast_params),
    )
    counts = pd.read_parquet(tmp_path / "b.parquet")["species"].value_counts()
    real = penguins["species"].value_counts()
    assert counts["Chinstrap"] == real.max() - real["Chinstrap"] and counts["Gentoo"] == real.max() - real["Gentoo"]
    assert "Adelie" not in counts


def test_validate_fails_a_copy_of_train_and_passes_the_holdout(tmp_path, penguins):
    synthgen(
        "ingest", "--source", str(_csv(tmp_path, penguins)), "--out", str(tmp_path / "prep"), "--target", "species"
    )
    prep = tmp_path / "prep"
    common = [
        "--train",
        str(prep / "train.parquet"),
        "--holdout",
        str(prep / "holdout.parquet"),
        "--schema",
        str(prep / "schema.json"),
    ]
    copy = synthgen(
        "validate", *common, "--synthetic", str(prep / "train.parquet"), "--out", str(tmp_path / "bad"), check=False
    )
    assert copy.returncode == 1 and "gate failed" in copy.stderr and "dcr_share" in copy.stderr
    refused = synthgen(
        "augment",
        "--train",
        str(prep / "train.parquet"),
        "--synthetic",
        str(prep / "train.parquet"),
        "--metrics",
        str(tmp_path / "bad" / "metrics.json"),
        "--out",
        str(tmp_path / "aug.parquet"),
        check=False,
    )
    assert refused.returncode == 1 and not (tmp_path / "aug.parquet").exists()
    holdout = synthgen(
        "validate", *common, "--synthetic", str(prep / "holdout.parquet"), "--out", str(tmp_path / "good"), check=False
    )
    assert holdout.returncode == 0, holdout.stdout + holdout.stderr
    assert "gate: PASSED" in holdout.stdout


def _csv(tmp_path, frame):
    path = tmp_path / "in.csv"
    frame.to_csv(path, index=False)
    return path


def test_numbers_decode_on_the_value_grid(tmp_path, penguins, fast_params):
    synthgen(
        "run",
        "--source",
        str(_csv(tmp_path, penguins)),
        "--out",
        str(tmp_path / "o"),
        "--target",
        "species",
        "--params",
        str(fast_params),
    )
    synthetic = pd.read_parquet(tmp_path / "o" / "synthetic.parquet")
    body = synthetic["body_mass_g"].dropna()
    assert (
        np.allclose(body, body.round()) and body.between(penguins.body_mass_g.min(), penguins.body_mass_g.max()).all()
    )
    assert synthetic["year"].dtype == np.int64 and set(synthetic["year"]) <= {2007, 2008, 2009}
