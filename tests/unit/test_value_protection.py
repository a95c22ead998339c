"""Every saved model file of every modality is scanned for train values that point at an individual:
numbers and categories that fewer than k records hold, and whole records (images, sequences)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from synthgen import Synthesizer
from synthgen.config import TrainParams
from synthgen.encoding.protection import PROTECT_K, rare_values


def _stored(model_dir: Path) -> tuple[set[str], np.ndarray, np.ndarray]:
    """Every string and every number in every file of a saved model (JSON, CSV, weights), but what is
    not a value of the data: the settings a user chose (`model_config`, a DP fit's `settings`), record
    counts (`counts`, `class_counts`, `n_train`, ...), the training record (steps, batch sizes, the
    DP-SGD plan) and the loss curve's step counter."""
    strings: set[str] = set()
    numbers: list[float] = []
    weights: list[np.ndarray] = []

    def walk(value) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                strings.add(str(k))
                if k not in ("model_config", "settings", "training") and "count" not in k and not k.startswith("n_"):
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            strings.add(value)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, (int, float)):
            numbers.append(float(value))

    files = sorted(p for p in model_dir.rglob("*") if p.is_file())
    assert files, model_dir
    for path in files:
        if path.suffix == ".json":
            walk(json.loads(path.read_text()))
        elif path.suffix == ".csv":
            losses = pd.read_csv(path).drop(columns=["step", "epoch"], errors="ignore")
            numbers.extend(losses.to_numpy(float, na_value=np.nan).ravel().tolist())
        elif path.suffix == ".pt":
            for tensor in torch.load(path, weights_only=True).values():
                weights.append(tensor.detach().float().flatten().numpy())
        else:
            raise AssertionError(f"unexpected file {path.name}: scan it too")
    return strings, np.asarray(numbers), np.concatenate(weights) if weights else np.zeros(0, np.float32)


def _holds_a_record(weights: np.ndarray, records: np.ndarray) -> bool:
    """Whether any record (a row of values) is stored as a run of consecutive weights (float32).
    Single weights are not compared: among millions of float32 weights, some equal some data value
    by chance; a run of a record's values does not."""
    records = np.ascontiguousarray(records, dtype=np.float32)
    width = records.shape[1]
    if len(weights) < width:
        return False
    wanted = {row.tobytes() for row in records}
    windows = np.lib.stride_tricks.sliding_window_view(np.ascontiguousarray(weights, np.float32), width)
    return any(window.tobytes() in wanted for window in windows)


def _rare_numbers(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    values = [rare_values(frame[c].dropna().to_numpy(float)) for c in columns]
    rare = np.concatenate(values) if values else np.zeros(0)
    return rare[~np.isin(rare, [0.0, 1.0, -1.0])]  # weights hold these by construction


def _found(rare: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """Rare values stored as themselves in the model's JSON and CSV files."""
    return rare[np.isin(rare, numbers)]


def test_a_saved_table_model_holds_no_individuals_values(tmp_path, mixed):
    frame = mixed.copy()
    frame.loc[0, "amount"] = 98765.43  # an outlier
    frame.loc[1, "segment"] = "sovereign wealth fund"  # a category one record holds
    params = TrainParams(epochs=3, batch_size=64, validation_fraction=0.0, model_config={"hidden": 16, "embedding": 8})
    synth = Synthesizer(target="fraud", seed=0, train_params=params).fit(frame)
    synth.save(tmp_path / "model")
    strings, numbers, weights = _stored(tmp_path / "model")
    numeric = ["age", "amount"]
    assert not len(_found(_rare_numbers(frame, numeric), numbers))
    assert not _holds_a_record(weights, frame[numeric].dropna().to_numpy())
    rare_categories = {str(v) for c in ("segment",) for v in rare_values(frame[c].dropna().to_numpy(), PROTECT_K)}
    assert not rare_categories & strings and "sovereign wealth fund" not in strings
    assert not {str(v) for v in frame["customer_id"]} & strings  # ids: only a fresh offset
    sampled = synth.sample(2000, seed=1)
    assert sampled["amount"].max() < 98765.43 and "sovereign wealth fund" not in set(sampled["segment"])


@pytest.fixture(scope="module")
def machines():
    from tests.unit.modalities.test_sensor_synthesizer import _machines

    return _machines(20)


def test_a_saved_sequence_model_holds_no_individuals_values(tmp_path, machines):
    from synthgen.data.sequences import clean_long, infer_layout
    from synthgen.modalities.sensor.synthesizer import SequenceSynthesizer

    layout = infer_layout(machines, "machine", "t", "failed")
    frame = clean_long(machines, layout, None, 256, "machines")
    params = TrainParams(model="sensor_ddpm", epochs=2, batch_size=8, model_config={"sampling_steps": 3})
    synth = SequenceSynthesizer(layout, seed=0, train_params=params).fit(frame)
    synth.save(tmp_path / "model")
    strings, numbers, weights = _stored(tmp_path / "model")
    starts = frame.groupby("machine")["t"].min()
    seconds = (pd.to_datetime(starts).astype("int64") / 1e9).to_numpy()
    assert not len(_found(rare_values(seconds), numbers))  # no recording's own start time
    assert not len(_found(_rare_numbers(frame, ["temp", "load"]), numbers))
    series = [g["temp"].to_numpy()[:8] for _, g in frame.groupby("machine")]
    assert not _holds_a_record(weights, np.stack(series))


def test_a_saved_image_model_holds_no_training_image(tmp_path):
    from synthgen.data.images import ImageLayout
    from synthgen.modalities.image.synthesizer import ImageSynthesizer
    from tests.unit.modalities.test_image_synthesizer import _squares

    images = _squares()
    params = TrainParams(model="image_ddpm", epochs=2, batch_size=16, model_config={"sampling_steps": 4})
    synth = ImageSynthesizer(ImageLayout(8, 1, 8, ["a", "b"]), seed=0, train_params=params).fit(images)
    synth.save(tmp_path / "model")
    _, numbers, weights = _stored(tmp_path / "model")
    flat = images.pixels.reshape(len(images.pixels), -1)
    assert not _holds_a_record(weights, flat) and not _holds_a_record(numbers, flat)
    assert not _holds_a_record(weights, flat[:, :8])  # nor a row of one


def _dp_table(n=3000):
    rng = np.random.default_rng(11)
    return pd.DataFrame(
        {
            "amount": np.round(rng.lognormal(4, 0.6, n), 2),
            "age": rng.integers(18, 90, n),
            "segment": np.where(np.arange(n) == 0, "sovereign wealth fund", rng.choice(["retail", "sme"], n)),
            "active": rng.random(n) < 0.6,
            "label": rng.choice(["no", "yes"], n, p=[0.8, 0.2]),
        }
    )


def test_a_dp_table_model_holds_no_train_value_at_all(tmp_path):
    """No bounds or categories declared: every statistic comes from a DP mechanism, so no number in
    the saved files is any train value (not only no rare one), and a one-row category is dropped."""
    from synthgen.config import PrivacyParams

    frame = _dp_table()
    params = TrainParams(
        model="tabular_ar",
        epochs=2,
        batch_size=300,
        privacy=PrivacyParams(epsilon=8.0),
        model_config={"width": 16, "depth": 1},
    )
    synth = Synthesizer(target="label", seed=0, train_params=params).fit(frame)
    synth.save(tmp_path / "model")
    strings, numbers, weights = _stored(tmp_path / "model")
    values = np.unique(frame[["amount", "age"]].to_numpy(float))
    values = values[~np.isin(values, [0.0, 1.0, -1.0])]
    assert not values[np.isin(values, numbers)].tolist()
    assert not _holds_a_record(weights, frame[["amount", "age"]].to_numpy())
    assert "sovereign wealth fund" not in strings and {"retail", "sme"} <= strings
    assert "sovereign wealth fund" not in set(synth.sample(1000, seed=1)["segment"])


def test_a_dp_sequence_model_holds_no_train_value_at_all(tmp_path, machines):
    """No bounds declared: channel ranges, start times, class counts and the attributes all come from
    DP mechanisms, so no channel value and no start time of any recording is in the saved files."""
    from tests.unit.modalities.test_sensor_synthesizer import _dp_fit

    synth = _dp_fit(200.0)  # enough for DP bounds from 20 entities
    synth.save(tmp_path / "model")
    strings, numbers, weights = _stored(tmp_path / "model")
    frame = machines
    values = np.unique(frame[["temp", "load"]].to_numpy(float))
    assert not values[np.isin(values, numbers)].tolist()
    seconds = (pd.to_datetime(frame.groupby("machine")["t"].min()).astype("int64") / 1e9).to_numpy()
    assert not seconds[np.isin(seconds, numbers)].tolist()
    assert not {str(v) for v in frame["machine"]} & strings
    series = [g["temp"].to_numpy()[:8] for _, g in frame.groupby("machine")]
    assert not _holds_a_record(weights, np.stack(series))
