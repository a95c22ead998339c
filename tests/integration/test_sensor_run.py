"""`synthgen run --modality sensor` through the real CLI: outputs, long format, bad input."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.integration.conftest import synthgen

pytestmark = pytest.mark.integration


def _vibration(entities: int = 24, steps: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for e in range(entities):
        failing = e % 3 == 0
        start = pd.Timestamp("2024-03-01") + pd.Timedelta(hours=e)
        for t in range(steps - e % 4):
            wave = np.sin(t / 3 + e) * (2.0 if failing else 1.0)
            rows.append(
                {
                    "machine": f"m{e:02d}",
                    "time": (start + pd.Timedelta(seconds=10 * t)).isoformat(),
                    "vibration": wave + rng.normal() * 0.1,
                    "temperature": 40 + t * 0.2 + rng.normal(),
                    "line": "A" if e % 2 else "B",
                    "failed": "yes" if failing else "no",
                }
            )
    return pd.DataFrame(rows)


def test_sensor_run_writes_every_output_in_long_format(tmp_path, fast_params):
    # 24 machines leave 5 holdout machines: enough for every privacy test to judge (the DCR share's
    # null is the permutation of which real machines were trained on, not a half of the holdout).
    # This tests the outputs of a 30-epoch model, whose values stray out of range: the schema suite
    # reports rather than blocks here (tests/redteam judges trained models at the defaults).
    params = yaml.safe_load(fast_params.read_text())
    params["validate"]["checks"]["sequence_expectations"] = {"threshold": 1.0, "level": "warn"}
    fast_params.write_text(yaml.safe_dump(params))
    frame = _vibration().sample(frac=1, random_state=0)  # unsorted: repaired
    source = tmp_path / "vibration.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "out"
    args = ["run", "--modality", "sensor", "--source", str(source), "--entity", "machine", "--time", "time"]
    synthgen(
        *args, "--target", "failed", "--out", str(out), "--epochs", "30", "--rows", "12", "--params", str(fast_params)
    )
    for name in ("metrics.json", "report.html", "dcr.csv", "loss.csv", "prepared/layout.json", "augmented.parquet"):
        assert (out / name).exists(), name
    real = pd.read_csv(source)
    synthetic = pd.read_parquet(out / "synthetic.parquet")
    assert list(synthetic.columns) == list(real.columns) and (synthetic.dtypes == real.dtypes).all()
    assert synthetic["machine"].nunique() == 12 and not set(synthetic["machine"]) & set(real["machine"])
    assert (synthetic.groupby("machine")[["line", "failed"]].nunique() == 1).all().all()
    steps = pd.to_datetime(synthetic["time"]).groupby(synthetic["machine"]).diff().dropna()
    assert (steps == pd.Timedelta(seconds=10)).all()
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"discriminative_score", "predictive_score", "sequence_near_copies"} <= set(metrics["checks"])
    assert metrics["accepted_inconclusive"] == []
    assert all(
        metrics["checks"][name]["verdict"] != "inconclusive" for name in ("sequence_dcr_share", "sequence_near_copies")
    )
    augmented = pd.read_parquet(out / "augmented.parquet")
    assert augmented.loc[augmented["is_synthetic"], "machine"].nunique() == 12


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: pd.concat([f, f.iloc[[5]]]), "entity 'm00' has 1 duplicate timestamp"),
        (lambda f: f.assign(failed=np.where(f.index % 7 == 0, "maybe", f["failed"])), "'failed' changes within entity"),
        (lambda f: f.assign(vibration=np.where(np.arange(len(f)) % 2, "high", "low")), "are not numeric"),
    ],
)
def test_bad_sensor_input_is_one_line_exit_2_and_leaves_nothing(tmp_path, change, message):
    source = tmp_path / "bad.csv"
    change(_vibration(8, 6)).to_csv(source, index=False)
    out = tmp_path / "out"
    proc = synthgen(
        "run",
        "--modality",
        "sensor",
        "--source",
        str(source),
        "--entity",
        "machine",
        "--time",
        "time",
        "--target",
        "failed",
        "--out",
        str(out),
        check=False,
    )
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not out.exists()
    assert not list(tmp_path.glob(".out*"))
