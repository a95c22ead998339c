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


def test_the_default_attributes_model_draws_levels_with_their_real_correlation():
    """Each series' levels are attributes (series_scale.py), drawn by `tabular_gaussian` by default:
    two channels whose levels move together in the real series move together in the drawn ones."""
    rng = np.random.default_rng(0)
    level = rng.normal(size=80)
    frame = pd.DataFrame(
        {
            "machine": np.repeat(np.arange(80), 6),
            "t": np.tile(np.arange(6), 80),
            "temp": np.repeat(level, 6) + rng.normal(size=480) * 0.3,
            "load": np.repeat(2 * level + rng.normal(size=80) * 0.3, 6) + rng.normal(size=480) * 0.3,
        }
    )
    layout = infer_layout(frame, "machine", "t", None)
    params = TrainParams(model="sensor_ddpm", epochs=1, batch_size=16, model_config={"sampling_steps": 2, "width": 16})
    synth = SequenceSynthesizer(layout, seed=0, train_params=params).fit(clean_long(frame, layout, None, 256, "m"))
    assert synth.attributes_model == "tabular_gaussian"
    levels = synth.sample(400, seed=1).groupby("machine")[["temp", "load"]].mean()
    assert levels.corr().loc["temp", "load"] > 0.9  # real: 0.99


def test_a_tabular_model_name_is_refused():
    layout = infer_layout(_machines(), "machine", "t", "failed")
    with pytest.raises(SynthgenError, match="is for tabular data, not sensor"):
        SequenceSynthesizer(layout, model="tabular_ar")


def _dp_fit(epsilon: float, seed: int = 0, lengths_vary: bool = True, **privacy) -> SequenceSynthesizer:
    from synthgen.config import PrivacyParams

    frame = _machines(20)
    if not lengths_vary:  # and no static attribute: the attributes model is fitted under DP all the same
        frame = frame[frame.groupby("machine").cumcount() < 8].drop(columns="kind")
    layout = infer_layout(frame, "machine", "t", "failed")
    frame = clean_long(frame, layout, None, 256, "machines")
    params = TrainParams(
        model="sensor_ddpm",
        epochs=2,
        batch_size=8,
        model_config={"sampling_steps": 3, "width": 16},
        privacy=PrivacyParams(epsilon=epsilon, **privacy),
    )
    return SequenceSynthesizer(layout, seed=seed, train_params=params).fit(frame)


def test_a_dp_fit_spends_one_budget_over_attributes_and_sequences_and_repeats_byte_for_byte(tmp_path):
    bounds = {"temp": [0.0, 50.0], "load": [-1.0, 2.0]}
    synth = _dp_fit(20.0, bounds=bounds, noise_seed=11)
    spent = synth.meta["privacy"]
    assert spent["epsilon"] <= 20.0 * (1 + 1e-9) and spent["delta"] <= 1e-5
    whats = [r["what"] for r in spent["releases"]]
    assert {"model weights: DP-SGD", "attributes: model weights: DP-SGD", "class counts of failed"} <= set(whats)
    assert not any("temp" in w or "load" in w for w in whats)  # declared bounds spend nothing
    attributes = sum(r["epsilon"] for r in spent["releases"] if r["what"].startswith("attributes: "))
    assert attributes <= 20.0 * 0.25 * (1 + 1e-9)
    assert synth.provenance() == {"privacy": {"epsilon": spent["epsilon"], "delta": spent["delta"]}}
    out = synth.sample(8, seed=1)
    assert out["temp"].between(0, 50).all() and out["load"].between(-1, 2).all()  # the declared bounds hold
    synth.save(tmp_path / "a")
    _dp_fit(20.0, bounds=bounds, noise_seed=11).save(tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert any(f.name == "model.pt" for f in files)
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    loaded = SequenceSynthesizer.load(tmp_path / "a")
    pd.testing.assert_frame_equal(loaded.sample(3, seed=4), synth.sample(3, seed=4))
    assert loaded.provenance() == synth.provenance()


def test_a_dp_fit_without_declared_bounds_on_too_few_entities_names_the_column_and_the_fix():
    # The noise is fresh (no noise_seed): the first column may, rarely, get bounds by luck, and then
    # the second is the one named.
    pattern = r"column '(temp|load)'.*too few for DP bounds.*train.privacy.bounds: \{(temp|load)"
    with pytest.raises(SynthgenError, match=pattern):
        _dp_fit(1.0)


def test_under_dp_lengths_are_modelled_even_when_every_train_entity_has_the_same_length():
    """Whether lengths differ is a fact about the entities: deciding on it would tell one more short
    entity apart with certainty, so a DP fit always has the attributes model."""
    synth = _dp_fit(20.0, lengths_vary=False, bounds={"temp": [0.0, 50.0], "load": [-1.0, 2.0]})
    assert synth.attributes is not None and synth.attributes_model == "tabular_ar"
    assert any(r["what"].startswith("attributes: ") for r in synth.meta["privacy"]["releases"])
    assert synth.sample(4, seed=1).groupby("machine").size().between(2, 8).all()


def test_a_preprocessing_share_that_leaves_dp_sgd_nothing_is_refused_before_training():
    with pytest.raises(SynthgenError, match="preprocessing_share 0.8 leaves the sequence model's DP-SGD almost"):
        _dp_fit(20.0, bounds={"temp": [0.0, 50.0], "load": [-1.0, 2.0]}, preprocessing_share=0.8)
