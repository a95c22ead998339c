"""Stage functions on tiny data: streaming writes, augment strategies, refusal to augment a failed set."""

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from synthgen import stages
from synthgen.config import AugmentParams, SampleParams
from synthgen.errors import GateFailed, SynthgenError
from tests.conftest import passed_gate


@pytest.fixture(scope="module")
def workdir(staged):
    return staged


def test_ingest_writes_the_tables_schema_and_layout(workdir):
    assert sorted(p.name for p in (workdir / "prep").iterdir()) == [
        "holdout.parquet",
        "layout.json",
        "schema.json",
        "train.parquet",
    ]


def test_sample_streams_row_groups(workdir):
    rows = stages.sample(workdir / "model", workdir / "s.parquet", SampleParams(rows=250, batch_size=100), seed=1)
    meta = pq.ParquetFile(workdir / "s.parquet").metadata
    assert rows == 250 and meta.num_rows == 250 and meta.num_row_groups == 3


def test_sample_multiple_of_train_rows(workdir):
    n_train = len(pd.read_parquet(workdir / "prep" / "train.parquet"))
    assert stages.sample(workdir / "model", workdir / "m.parquet", SampleParams(multiple=0.5), seed=1) == -(
        -n_train // 2
    )


def test_augment_append_marks_rows_and_keeps_dtypes(workdir):
    stages.sample(workdir / "model", workdir / "a.parquet", SampleParams(rows=120), seed=2)
    rows = stages.augment(
        workdir / "prep" / "train.parquet",
        workdir / "a.parquet",
        workdir / "aug.parquet",
        AugmentParams(rows=100),
        passed_gate(workdir / "a.parquet"),
    )
    out = pd.read_parquet(workdir / "aug.parquet")
    real = pd.read_parquet(workdir / "prep" / "train.parquet")
    assert rows == len(real) + 100 and out["is_synthetic"].sum() == 100
    assert (out.drop(columns="is_synthetic").dtypes == real.dtypes).all()


def test_augment_balance_evens_out_classes(workdir):
    stages.sample(workdir / "model", workdir / "b.parquet", SampleParams(mode="balance"), seed=3)
    stages.augment(
        workdir / "prep" / "train.parquet",
        workdir / "b.parquet",
        workdir / "bal.parquet",
        AugmentParams(strategy="balance"),
        passed_gate(workdir / "b.parquet"),
        target="species",
    )
    counts = pd.read_parquet(workdir / "bal.parquet")["species"].value_counts()
    assert counts.nunique() == 1


def test_augment_balance_without_enough_rows_fails_cleanly(workdir):
    stages.sample(workdir / "model", workdir / "few.parquet", SampleParams(rows=5), seed=3)
    with pytest.raises(SynthgenError, match="too few synthetic rows.*sample.mode: balance"):
        stages.augment(
            workdir / "prep" / "train.parquet",
            workdir / "few.parquet",
            workdir / "x.parquet",
            AugmentParams(strategy="balance"),
            passed_gate(workdir / "few.parquet"),
            target="species",
        )
    assert not (workdir / "x.parquet").exists()


def test_augment_refuses_a_failed_gate(workdir):
    (workdir / "metrics.json").write_text(json.dumps({"passed": False}))
    with pytest.raises(GateFailed, match="failed validation"):
        stages.augment(
            workdir / "prep" / "train.parquet",
            workdir / "a.parquet",
            workdir / "y.parquet",
            AugmentParams(),
            metrics_path=workdir / "metrics.json",
        )
    assert not (workdir / "y.parquet").exists()


def test_augment_needs_a_gate_verdict_for_exactly_this_file(workdir):
    stages.sample(workdir / "model", workdir / "c.parquet", SampleParams(rows=50), seed=4)
    with pytest.raises(SynthgenError, match="no metrics.json; run `synthgen validate`"):
        stages.augment(
            workdir / "prep" / "train.parquet",
            workdir / "c.parquet",
            workdir / "z.parquet",
            AugmentParams(),
            workdir / "missing.json",
        )
    metrics = passed_gate(workdir / "c.parquet")
    stages.sample(workdir / "model", workdir / "c.parquet", SampleParams(rows=50), seed=5)  # swapped after the gate
    with pytest.raises(GateFailed, match="not the file .* judged"):
        stages.augment(
            workdir / "prep" / "train.parquet", workdir / "c.parquet", workdir / "z.parquet", AugmentParams(), metrics
        )
    assert not (workdir / "z.parquet").exists()


def test_train_refuses_privacy_on_a_stratified_split_and_ingest_records_a_row_hash_one(workdir, tmp_path):
    from synthgen.config import DatasetSpec, IngestParams, PrivacyParams, TrainParams

    private = TrainParams(model="tabular_ar", epochs=1, privacy=PrivacyParams(epsilon=3.0))
    with pytest.raises(SynthgenError, match="set ingest.split: row_hash and rerun ingest"):
        stages.train(workdir / "prep" / "train.parquet", tmp_path / "model", private, seed=0)
    spec = DatasetSpec(source=str(workdir / "p.csv"), target="species")
    stages.ingest(spec, tmp_path / "prep", IngestParams(split="row_hash"), seed=0)
    assert json.loads((tmp_path / "prep" / "layout.json").read_text())["split"] == "row_hash"
    with pytest.raises(SynthgenError, match="ingest.split row_hash: image data splits by stratified only"):
        stages.ingest(DatasetSpec(source="x", modality="image"), tmp_path / "img", IngestParams(split="row_hash"), 0)


def test_the_spec_constraints_travel_from_ingest_to_the_gate_and_ingest_proposes_others(tmp_path, fast_train):
    from synthgen.config import DatasetSpec, IngestParams, ValidateParams
    from tests.unit.data.test_constraints import RULES, orders

    orders(500).to_csv(tmp_path / "orders.csv", index=False)
    spec = DatasetSpec(source=str(tmp_path / "orders.csv"), target="returned", constraints=RULES[:2])
    stages.ingest(spec, tmp_path / "prep", IngestParams(), seed=0)
    schema = json.loads((tmp_path / "prep" / "schema.json").read_text())
    assert [r["kind"] for r in schema["constraints"]] == ["inequality", "inequality"]
    proposed = json.loads((tmp_path / "prep" / "layout.json").read_text())["proposed_constraints"]
    assert {"kind": "fixed_combinations", "columns": ["shop", "region"]} in proposed  # found, not enforced
    assert not any(r["kind"] == "inequality" for r in proposed)  # the two declared ones are not repeated
    stages.train(tmp_path / "prep" / "train.parquet", tmp_path / "model", fast_train, seed=0, spec=spec)
    stages.sample(tmp_path / "model", tmp_path / "s.parquet", SampleParams(rows=800), seed=0)
    prep = tmp_path / "prep"
    try:
        metrics = stages.validate(
            prep / "train.parquet",
            prep / "holdout.parquet",
            tmp_path / "s.parquet",
            tmp_path / "v",
            ValidateParams(),
            0,
        )
    except GateFailed:  # a 3-epoch model fails on fidelity; the constraints must still hold
        pass
    metrics = json.loads((tmp_path / "v" / "details.json").read_text())
    record = metrics["checks"]["constraints"]
    assert record["verdict"] == "pass" and record["score"] == 1.0
    assert set(record["details"]["held"]) == {"delivered >= ordered", "total >= paid"}
    assert "<h2>Constraints</h2>" in (tmp_path / "v" / "report.html").read_text()


def test_a_modality_that_keeps_no_constraint_refuses_them(tmp_path):
    from synthgen.config import DatasetSpec, IngestParams

    spec = DatasetSpec(source="x", modality="image", constraints=[{"kind": "range", "column": "a", "low": 0}])
    with pytest.raises(SynthgenError, match="constraints: range is not kept for image data"):
        stages.ingest(spec, tmp_path / "img", IngestParams(), 0)


def test_sensor_constraints_are_checked_at_ingest_kept_by_sampling_and_judged_per_entity(tmp_path):
    from synthgen.config import DatasetSpec, IngestParams, TrainParams, ValidateParams
    from tests.unit.data.test_constraints import SEQUENCE_RULES, sensors

    values, lengths, channels = sensors(24)
    rows = [
        {"machine": i, "t": t, **dict(zip(channels, values[i, t].tolist(), strict=True))}
        for i in range(len(values))
        for t in range(lengths[i])
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "machines.csv", index=False)
    spec = DatasetSpec(
        source=str(tmp_path / "machines.csv"), modality="sensor", entity="machine", time="t", constraints=SEQUENCE_RULES
    )
    stages.ingest(spec, tmp_path / "prep", IngestParams(), seed=0)
    layout = json.loads((tmp_path / "prep" / "layout.json").read_text())
    assert layout["constraints"][0]["ddof"] == 1 and "proposed_constraints" not in layout
    params = TrainParams(model="sensor_ddpm", epochs=2, batch_size=8, model_config={"sampling_steps": 3})
    stages.train(tmp_path / "prep" / "train.parquet", tmp_path / "model", params, seed=0, spec=spec)
    stages.sample(tmp_path / "model", tmp_path / "s.parquet", SampleParams(rows=12), seed=0)
    prep = tmp_path / "prep"
    try:
        stages.validate(
            prep / "train.parquet",
            prep / "holdout.parquet",
            tmp_path / "s.parquet",
            tmp_path / "v",
            ValidateParams(),
            0,
        )
    except GateFailed:  # a 2-epoch model fails on fidelity; the rules must hold all the same
        pass
    record = json.loads((tmp_path / "v" / "details.json").read_text())["checks"]["sequence_constraints"]
    assert record["verdict"] == "pass" and record["score"] == 1.0
    assert len(record["details"]["held"]) == 2
