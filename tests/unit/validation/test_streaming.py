"""Exact checks over every row of Parquet files, and validate's bounded samples of larger tables."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthgen import stages
from synthgen.config import ValidateParams
from synthgen.errors import SynthgenError
from synthgen.io import ParquetParts
from synthgen.validation.streaming import copy_count, summarise


def _write(frame: pd.DataFrame, path, row_group_size: int = 7):
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group_size)
    return path


@pytest.fixture()
def tables(tmp_path):
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"x": rng.normal(size=100).round(3), "c": rng.choice(["a", "b"], 100)})
    fresh = pd.DataFrame({"x": rng.normal(size=40).round(3) + 10, "c": rng.choice(["a", "b"], 40)})
    synthetic = pd.concat([train.iloc[:10], fresh.iloc[:30]], ignore_index=True)  # 10 of 40 are copies
    holdout = pd.concat([train.iloc[50:52], fresh.iloc[30:]], ignore_index=True)  # 2 of 12
    frames = {"train": train, "synthetic": synthetic, "holdout": holdout}
    return {name: _write(frame, tmp_path / f"{name}.parquet") for name, frame in frames.items()}


def test_copy_counts_categories_and_ranges_cover_every_row_group(tables):
    train = summarise(tables["train"], ["c"], ["x"], ["x", "c"])
    frame = pd.read_parquet(tables["train"])
    assert train.categories == {"c": {"a", "b"}} and train.ranges == {"x": (frame["x"].min(), frame["x"].max())}
    keys = np.unique(train.keys)
    assert copy_count(summarise(tables["synthetic"], keyed=["x", "c"]).keys, keys) == 10
    assert copy_count(summarise(tables["holdout"], keyed=["x", "c"]).keys, keys) == 2


def test_a_seeded_sample_reads_only_the_rows_it_draws(tables):
    parts, frame = ParquetParts(tables["train"]), pd.read_parquet(tables["train"])
    sample = parts.sample(15, seed=3)
    keep = np.sort(np.random.default_rng(3).choice(100, 15, replace=False))
    pd.testing.assert_frame_equal(sample, frame.iloc[keep].reset_index(drop=True))
    assert len(parts.sample(500, seed=3)) == 100  # fewer rows than asked: all of them


@pytest.fixture(scope="module")
def big(tmp_path_factory, penguins):
    """Prepared penguins and a synthetic set of 250 rows, every one a copy of a train row."""
    root = tmp_path_factory.mktemp("bounded")
    penguins.to_csv(root / "p.csv", index=False)
    from synthgen.config import DatasetSpec, IngestParams

    stages.ingest(DatasetSpec(source=str(root / "p.csv"), target="species"), root / "prep", IngestParams(), seed=0)
    train = pd.read_parquet(root / "prep/train.parquet")
    synthetic = train.sample(250, replace=True, random_state=0).reset_index(drop=True)
    _write(synthetic, root / "synthetic.parquet", row_group_size=50)
    return root


def test_validate_samples_large_tables_but_counts_copies_over_all_rows(big):
    params = ValidateParams(max_rows=40)
    with pytest.raises(Exception, match="validation gate failed"):
        stages.validate(
            big / "prep/train.parquet", big / "prep/holdout.parquet", big / "synthetic.parquet", big / "out", params, 0
        )
    metrics = json.loads((big / "out/details.json").read_text())
    assert metrics["rows"] == {"train": 275, "holdout": 69, "synthetic": 250}
    copies = metrics["checks"]["exact_copies"]["details"]
    assert copies["synthetic_copy_rate"] == 1.0 and copies["holdout_copy_rate"] == 0.0
    suite = json.loads((big / "out/expectations/suite.json").read_text())
    mass = next(
        e["kwargs"]
        for e in suite["expectations"]
        if e["kwargs"].get("column") == "body_mass_g" and "min_value" in e["kwargs"]
    )
    train = pd.read_parquet(big / "prep/train.parquet")["body_mass_g"]
    span = train.max() - train.min()  # the whole train table's range (widened by a tenth), not the sample's
    assert (mass["min_value"], mass["max_value"]) == pytest.approx((train.min() - span / 10, train.max() + span / 10))


def test_a_holdout_category_train_lacks_is_found_beyond_the_sample(big, tmp_path):
    holdout = pd.read_parquet(big / "prep/holdout.parquet")
    holdout.loc[len(holdout) - 1, "island"] = "Atlantis"
    _write(holdout, tmp_path / "holdout.parquet")
    with pytest.raises(SynthgenError, match="'island' has value\\(s\\) \\['Atlantis'\\] that train lacks"):
        stages.validate(
            big / "prep/train.parquet", tmp_path / "holdout.parquet", big / "synthetic.parquet", tmp_path / "out",
            ValidateParams(max_rows=40), 0,
        )  # fmt: skip
