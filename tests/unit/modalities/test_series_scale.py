"""Each series' level and spread as attributes: computed over real steps, restored exactly."""

import numpy as np
import pandas as pd

from synthgen.config import TrainParams
from synthgen.data.sequences import clean_long, infer_layout
from synthgen.modalities.sensor import series_scale
from synthgen.modalities.sensor.synthesizer import SequenceSynthesizer

CHANNELS = ["a", "b"]


def _padded() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(5, 9, 2)) * [1.0, 3.0] + [10.0, -2.0]
    lengths = np.array([9, 4, 7, 2, 9])
    for i, n in enumerate(lengths):
        values[i, n:] = values[i, n - 1]  # the flat tail `to_arrays` pads with
    return values, lengths


def test_level_and_spread_are_the_real_steps_mean_and_std():
    values, lengths = _padded()
    scales = series_scale.scales(values, lengths, CHANNELS)
    for i, n in enumerate(lengths):
        assert np.allclose(scales.loc[i, "__level b"], values[i, :n, 1].mean())
        assert np.allclose(scales.loc[i, "__spread b"], values[i, :n, 1].std())


def test_standardise_then_restore_gives_back_the_series():
    values, lengths = _padded()
    scales = series_scale.scales(values, lengths, CHANNELS)
    back = series_scale.restore(series_scale.standardise(values, lengths, scales, CHANNELS), lengths, scales, CHANNELS)
    for i, n in enumerate(lengths):
        assert np.allclose(back[i, :n], values[i, :n], atol=1e-4)


def test_restored_series_have_exactly_the_drawn_level_and_spread():
    values, lengths = _padded()
    drawn = pd.DataFrame({"__level a": [0, 1, 2, 3, 4.0], "__spread a": [1, 0, 2, 0.5, 3.0],
                          "__level b": [-1.0] * 5, "__spread b": [2.0] * 5})  # fmt: skip
    out = series_scale.restore(values * 0.3 + 5, lengths, drawn, CHANNELS)  # shapes with the wrong scale
    got = series_scale.scales(out, lengths, CHANNELS)
    assert np.allclose(got[drawn.columns].to_numpy(), drawn.to_numpy(), atol=1e-9)
    assert np.allclose(out[1, :4, 0], 1.0)  # spread 0: a flat series at its level


def test_per_series_levels_keep_their_real_spread_after_a_fit():
    """Machines each at their own temperature level (spread 5 between machines, 0.5 within): the
    synthetic machines' levels must vary like the real ones, not shrink toward the common mean."""
    rng = np.random.default_rng(1)
    levels = rng.normal(50, 5, 40)
    frame = pd.DataFrame(
        [{"machine": e, "t": t, "temp": levels[e] + rng.normal() * 0.5} for e in range(40) for t in range(12)]
    )
    layout = infer_layout(frame, "machine", "t", None)
    frame = clean_long(frame, layout, None, 256, "machines")
    params = TrainParams(model="sensor_ddpm", epochs=2, batch_size=16, model_config={"sampling_steps": 3})
    synth = SequenceSynthesizer(layout, seed=0, train_params=params).fit(frame)
    assert synth.meta["series_scale"]
    out = synth.sample(200, seed=0).groupby("machine")["temp"]
    real = frame.groupby("machine")["temp"]
    assert 0.6 < out.mean().std() / real.mean().std() < 1.5
    assert 0.6 < out.std(ddof=0).mean() / real.std(ddof=0).mean() < 1.5


def test_a_spec_can_turn_series_scales_off():
    frame = pd.DataFrame([{"machine": e, "t": t, "temp": float(e + t)} for e in range(8) for t in range(6)])
    layout = infer_layout(frame, "machine", "t", None)
    frame = clean_long(frame, layout, None, 256, "machines")
    params = TrainParams(model="sensor_ddpm", epochs=1, batch_size=8, model_config={"series_scale": False})
    synth = SequenceSynthesizer(layout, seed=0, train_params=params).fit(frame)
    assert synth.meta["series_scale"] is False and synth.attributes is None  # equal lengths, no attributes
