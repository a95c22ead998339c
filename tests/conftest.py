"""Shared fixtures: the shipped penguins table and a small table with every column kind."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthgen.config import TrainParams

if os.environ.get("PYTEST_XDIST_WORKER"):
    # pytest-xdist runs one worker per core (`-n auto`): each worker, and the CLI and dvc processes
    # it starts, gets its share of the cores. Two workers of two torch threads each on two cores
    # run several times slower than one.
    _threads = str(max(1, (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))
    os.environ.update(OMP_NUM_THREADS=_threads, MKL_NUM_THREADS=_threads)
    import torch

    torch.set_num_threads(int(_threads))

REPO = Path(__file__).resolve().parents[1]
PENGUINS = REPO / "data" / "raw" / "penguins" / "penguins.csv"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked slow first (a stable sort): under xdist each then starts on a worker of its own
    at once, instead of the longest two running one after the other at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def passed_gate(synthetic: Path) -> Path:
    """A metrics.json that passes `synthetic` (bound to its hash), for tests of augment's mixing alone:
    the gate itself is tested in tests/unit/validation and tests/redteam."""
    from synthgen.io import write_json
    from synthgen.validation.binding import bind

    path = Path(synthetic).with_name(Path(synthetic).name + ".metrics.json")
    write_json(bind({"passed": True}, synthetic), path)
    return path


@pytest.fixture(scope="session")
def penguins() -> pd.DataFrame:
    return pd.read_csv(PENGUINS)


@pytest.fixture(scope="session")
def mixed() -> pd.DataFrame:
    """200 rows: id, integer, numeric with a spike and NaN, categorical, boolean, datetime, email, text."""
    rng = np.random.default_rng(7)
    n = 200
    amount = np.round(rng.lognormal(3, 0.5, n), 2)
    amount[rng.random(n) < 0.2] = 0.0  # a point mass
    amount[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "age": rng.integers(18, 80, n),
            "amount": amount,
            "segment": rng.choice(["retail", "sme", "corporate"], n, p=[0.6, 0.3, 0.1]),
            "active": rng.random(n) < 0.7,
            "opened": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
            "email": [f"user{i}@example.com" for i in range(n)],
            "note": [
                f"customer {i} asked about fees and the {w} plan"
                for i, w in zip(range(n), rng.choice(["basic", "gold"], n), strict=True)
            ],
            "fraud": rng.choice(["no", "yes"], n, p=[0.85, 0.15]),
        }
    )


@pytest.fixture()
def fast_train() -> TrainParams:
    """A budget small enough for unit tests; real Lightning training all the same."""
    return TrainParams(epochs=3, batch_size=64, validation_fraction=0.0, model_config={"hidden": 32, "embedding": 8})


@pytest.fixture()
def fast_private_train(fast_train: TrainParams) -> TrainParams:
    """fast_train for DP runs: tabular_ar, the table model with a DP-SGD path (no privacy set yet)."""
    return fast_train.model_copy(update={"model": "tabular_ar", "model_config_": {"width": 32, "depth": 1}})


@pytest.fixture(scope="session")
def staged(tmp_path_factory, penguins) -> Path:
    """penguins ingested (prep/) and a tiny model trained on it (model/), through the stage functions."""
    from synthgen import stages
    from synthgen.config import DatasetSpec, IngestParams

    root = tmp_path_factory.mktemp("stages")
    penguins.to_csv(root / "p.csv", index=False)
    spec = DatasetSpec(source=str(root / "p.csv"), target="species")
    stages.ingest(spec, root / "prep", IngestParams(), seed=0)
    params = TrainParams(epochs=2, batch_size=128, validation_fraction=0.0, model_config={"hidden": 16, "embedding": 8})
    stages.train(root / "prep" / "train.parquet", root / "model", params, seed=0, spec=spec)
    return root
