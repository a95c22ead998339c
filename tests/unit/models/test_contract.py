"""Runs over everything in the model registry: a model is tested the day it is registered."""

import pandas as pd
import pytest

from synthgen import Synthesizer
from synthgen.registry import MODELS

TABULAR = [name for name in MODELS.names() if MODELS.get(name).modality == "tabular"]


@pytest.fixture(scope="module", params=TABULAR)
def fitted(request, mixed):
    from synthgen.config import TrainParams

    params = TrainParams(epochs=3, batch_size=64, validation_fraction=0.2)
    return Synthesizer(request.param, target="fraud", seed=0, train_params=params).fit(mixed)


def test_sample_has_the_schema_and_dtypes(fitted, mixed):
    out = fitted.sample(150, seed=1, batch_size=64)
    assert list(out.columns) == list(mixed.columns) and len(out) == 150
    assert (out.dtypes == mixed.dtypes).all(), out.dtypes[out.dtypes != mixed.dtypes]
    assert out["customer_id"].is_unique and not out["customer_id"].isin(mixed["customer_id"]).any()
    assert not out["email"].isin(mixed["email"]).any() and not out["note"].isin(mixed["note"]).any()
    assert set(out["segment"]) <= set(mixed["segment"])


def test_conditional_sampling_gives_only_that_class(fitted):
    out = fitted.sample(40, conditions={"fraud": "yes"}, seed=2)
    assert (out["fraud"] == "yes").all() and len(out) == 40


def test_save_load_gives_same_samples(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    loaded = Synthesizer.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.sample(50, seed=5), fitted.sample(50, seed=5))


def test_unknown_model_config_key_fails(mixed):
    from synthgen.config import TrainParams
    from synthgen.errors import SynthgenError

    for name in TABULAR:
        params = TrainParams(epochs=1, model_config={"no_such_key": 1})
        with pytest.raises(SynthgenError, match="train.model_config.no_such_key"):
            Synthesizer(name, train_params=params).fit(mixed)
