"""Distributed sampling: parts from any number of ranks add up to the single-process sample."""

import pandas as pd
import pytest

from synthgen import stages
from synthgen.config import AugmentParams, SampleParams
from synthgen.errors import SynthgenError
from synthgen.io import MANIFEST, read_json, read_table
from synthgen.sampling.parts import World, detect_world
from tests.conftest import passed_gate

PARAMS = SampleParams(rows=700, batch_size=100)


@pytest.fixture(scope="module")
def model(staged):
    return staged / "model"


@pytest.fixture(scope="module")
def single(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "s.parquet"
    stages.sample(model, out, PARAMS, seed=3)
    return pd.read_parquet(out)


@pytest.mark.parametrize("size", [2, 3])
def test_parts_of_any_world_size_equal_the_single_process_sample(model, single, tmp_path, size):
    out = tmp_path / "s.parquet"
    rows = [stages.sample(model, out, PARAMS, seed=3, world=World(rank, size)) for rank in reversed(range(size))]
    manifest = read_json(out / MANIFEST)
    assert manifest["rows"] == sum(rows) == 700 and manifest["world_size"] == size
    pd.testing.assert_frame_equal(read_table(out), single)


def test_an_incomplete_set_is_refused_and_the_last_rank_completes_it(model, tmp_path, single):
    out = tmp_path / "s.parquet"
    stages.sample(model, out, PARAMS, seed=3, world=World(1, 2))
    assert not (out / MANIFEST).exists()
    with pytest.raises(SynthgenError, match="incomplete distributed sample"):
        read_table(out)
    stages.sample(model, out, PARAMS, seed=3, world=World(0, 2))
    assert (out / MANIFEST).exists()
    augmented = tmp_path / "a.parquet"
    stages.augment(model.parent / "prep" / "train.parquet", out, augmented, AugmentParams(), passed_gate(out))
    assert pd.read_parquet(augmented)["is_synthetic"].sum() == 700


def test_a_part_left_from_another_run_does_not_complete_this_one(model, tmp_path):
    out = tmp_path / "s.parquet"
    stages.sample(model, out, PARAMS, seed=3, world=World(0, 2))
    stages.sample(model, out, PARAMS, seed=4, world=World(1, 2))  # another seed: another run
    assert not (out / MANIFEST).exists()
    stages.sample(model, out, PARAMS, seed=4, world=World(0, 2))
    assert read_json(out / MANIFEST)["seed"] == 4


def test_more_ranks_than_batches_is_a_clear_error(model, tmp_path):
    with pytest.raises(SynthgenError, match="lower sample.batch_size or use fewer ranks"):
        stages.sample(model, tmp_path / "s.parquet", SampleParams(rows=100, batch_size=100), 0, World(0, 2))


def test_world_from_flags_torchrun_or_nothing(monkeypatch):
    assert detect_world() == World(0, 1)
    assert detect_world(1, 4) == World(1, 4)
    with pytest.raises(SynthgenError, match="together"):
        detect_world(1, None)
    with pytest.raises(SynthgenError, match="must be in 0..3"):
        detect_world(4, 4)
    for name, value in {"TORCHELASTIC_RUN_ID": "t", "RANK": "2", "WORLD_SIZE": "3", "LOCAL_RANK": "2"}.items():
        monkeypatch.setenv(name, value)  # what torchrun sets
    assert detect_world() == World(2, 3)
