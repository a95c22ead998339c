"""Tables past ingest.max_rows_in_memory: schema from a sample, exact streamed statistics and split."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthgen import Synthesizer, stages
from synthgen.config import DatasetSpec, IngestParams, SampleParams, TrainParams
from synthgen.data import large_tables
from synthgen.data.schema import Schema
from synthgen.errors import SynthgenError


@pytest.fixture()
def big_table(tmp_path, monkeypatch):
    """3,000 rows in row groups of 250, with a class of 3 rows and a category of 5 a small sample misses."""
    monkeypatch.setattr(large_tables, "SCHEMA_SAMPLE_ROWS", 200)
    monkeypatch.setattr(large_tables, "BATCH_ROWS", 250)
    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame(
        {
            "account": np.arange(10, 10 + n),
            "amount": rng.lognormal(3, 1, n).round(2),
            "channel": rng.choice(["web", "branch", "phone"], n),
            "fraud": rng.choice(["no", "yes"], n, p=[0.8, 0.2]),
        }
    )
    frame.loc[n - 3 :, "fraud"] = "chargeback"  # rare class, at the very end
    frame.loc[n - 10 : n - 6, "channel"] = "atm"  # rare category
    path = tmp_path / "big.parquet"
    pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=250)
    return path, frame


def test_streamed_ingest_keeps_rare_values_in_train_and_knows_every_class(big_table, tmp_path):
    path, frame = big_table
    params = IngestParams(max_rows_in_memory=1000)
    stages.ingest(DatasetSpec(source=str(path), target="fraud"), tmp_path / "prep", params, seed=0)
    schema = Schema.load(tmp_path / "prep/schema.json")
    train, holdout = (pd.read_parquet(tmp_path / f"prep/{p}.parquet") for p in ("train", "holdout"))
    assert len(train) + len(holdout) == 3000 and 450 < len(holdout) < 750
    assert sorted(pd.concat([train, holdout])["account"]) == frame["account"].tolist()
    assert schema.classes == ["chargeback", "no", "yes"]
    assert (train["fraud"] == "chargeback").sum() == 3 and (train["channel"] == "atm").sum() == 5
    stages.ingest(DatasetSpec(source=str(path), target="fraud"), tmp_path / "prep2", params, seed=0)
    again = Schema.load(tmp_path / "prep2/schema.json")
    assert again.classes == schema.classes
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "prep2/holdout.parquet"), holdout)


def test_a_model_trained_on_a_sample_counts_and_numbers_like_the_whole_table(big_table, tmp_path):
    path, frame = big_table
    stages.ingest(
        DatasetSpec(source=str(path), target="fraud"), tmp_path / "prep", IngestParams(max_rows_in_memory=1000), 0
    )
    train = pd.read_parquet(tmp_path / "prep/train.parquet")
    params = TrainParams(max_rows=400, epochs=1, batch_size=128, validation_fraction=0.0)
    stages.train(tmp_path / "prep/train.parquet", tmp_path / "model", params, 0, DatasetSpec(target="fraud"))
    synth = Synthesizer.load(tmp_path / "model")
    assert synth.meta["n_train"] == len(train)
    assert synth.class_counts == train["fraud"].value_counts().to_dict()
    rows = stages.sample(tmp_path / "model", tmp_path / "s.parquet", SampleParams(multiple=0.1), seed=0)
    synthetic = pd.read_parquet(tmp_path / "s.parquet")
    assert rows == -(-len(train) // 10) and not synthetic["account"].isin(frame["account"]).any()


def test_a_missing_target_anywhere_in_the_table_is_an_error(big_table, tmp_path):
    path, frame = big_table
    frame.loc[2999, "fraud"] = None
    pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=250)
    with pytest.raises(SynthgenError, match="target 'fraud' is missing in 1 row"):
        stages.ingest(
            DatasetSpec(source=str(path), target="fraud"), tmp_path / "prep", IngestParams(max_rows_in_memory=1000), 0
        )
    assert not (tmp_path / "prep").exists()
