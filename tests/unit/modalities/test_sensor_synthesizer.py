"""The sequence contract: fit, sample shape and dtypes, lengths, conditioning, save → load."""

import numpy as np
import pandas as pd
import pytest

from synthgen.config import TrainParams
from synthgen.data.sequences import clean_long, infer_layout
from synthgen.errors import SynthgenError
from synthgen.modalities.sensor.synthesizer import SequenceSynthesizer
from synthgen.registry import MODELS

SEQUENCE_MODELS = [name for name in MODELS.names() if MODELS.get(name).modality == "sensor"]


def _machines(n: int = 16) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for e in range(n):
        kind = "press" if e % 2 else "lathe"
        for t in range(8 + e % 5):  # lengths 8..12
            rows.append(
                {
                    "machine": e,
                    "t": pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=t),
                    "kind": kind,
                    "temp": 20 + t + rng.normal(),
                    "load": float(e % 2) + rng.normal() * 0.1,
                    "failed": "yes" if e % 4 == 0 else "no",
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module", params=SEQUENCE_MODELS)
def fitted(request):
    frame = _machines()
    layout = infer_layout(frame, "machine", "t", "failed")
    frame = clean_long(frame, layout, None, 256, "machines")
    params = TrainParams(model=request.param, epochs=2, batch_size=8, model_config={"sampling_steps": 3})
    return SequenceSynthesizer(layout, seed=0, train_params=params).fit(frame), frame


def test_samples_keep_the_long_format_dtypes_and_plausible_lengths(fitted):
    synth, real = fitted
    out = synth.sample(6, seed=1)
    assert list(out.columns) == list(real.columns) and (out.dtypes == real.dtypes).all()
    lengths = out.groupby("machine").size()
    assert len(lengths) == 6 and lengths.between(2, 12).all()
    assert not set(out["machine"]) & set(real["machine"])  # fresh ids
    assert (out.groupby("machine")["kind"].nunique() == 1).all()  # attributes stay per entity
    steps = out.groupby("machine")["t"].diff().dropna()
    assert (steps == pd.Timedelta(minutes=1)).all()


def test_conditions_and_class_counts_are_exact(fitted):
    synth, _ = fitted
    assert (synth.sample(4, conditions={"failed": "yes"}, seed=2)["failed"] == "yes").all()
    counts = synth.sample(0, class_counts={"yes": 3, "no": 1}, seed=3).groupby("machine")["failed"].first()
    assert counts.value_counts().to_dict() == {"yes": 3, "no": 1}


def test_save_load_gives_the_same_samples(fitted, tmp_path):
    synth, _ = fitted
    synth.save(tmp_path / "m")
    pd.testing.assert_frame_equal(SequenceSynthesizer.load(tmp_path / "m").sample(3, seed=4), synth.sample(3, seed=4))


def test_a_tabular_model_name_is_refused():
    layout = infer_layout(_machines(), "machine", "t", "failed")
    with pytest.raises(SynthgenError, match="is for tabular data, not sensor"):
        SequenceSynthesizer(layout, model="tabular_ar")
