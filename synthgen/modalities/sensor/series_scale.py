"""Each series' own level and spread, modelled as attributes (DoppelGANger's auto-normalisation).

A diffusion model over whole sequences standardised per channel narrows the spread of per-series
levels: on JapaneseVowels the synthetic per-series means had 0.76 of the real spread, and a detector
on per-series summaries (mean, std, min, max, last) told them apart at AUC 0.87. So each series is
standardised by its own mean and standard deviation per channel; those two numbers per channel
become attributes, learned jointly with the label and length by the tabular model; the sequence
model learns the standardised shapes conditioned on them; and at sampling each shape is
standardised again exactly and given its drawn level and spread. Per-series mean and standard
deviation then come out as the tabular model draws them, the figures it is good at.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthgen.data.constraints import masked_steps


def level_column(channel: str) -> str:
    return f"__level {channel}"


def spread_column(channel: str) -> str:
    return f"__spread {channel}"


def columns(channels: list[str]) -> list[str]:
    return [name for c in channels for name in (level_column(c), spread_column(c))]


def _moments(values: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (population) standard deviation per entity and channel over the real steps only."""
    x = masked_steps(values, lengths)
    return np.ma.filled(x.mean(axis=1), 0.0), np.ma.filled(x.std(axis=1), 0.0)


def scales(values: np.ndarray, lengths: np.ndarray, channels: list[str]) -> pd.DataFrame:
    """One row per entity: each channel's level and spread, as attribute columns."""
    mean, std = _moments(values, lengths)
    out = {}
    for i, channel in enumerate(channels):
        out[level_column(channel)], out[spread_column(channel)] = mean[:, i], std[:, i]
    return pd.DataFrame(out)


def _level_spread(attributes: pd.DataFrame, channels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    level = attributes[[level_column(c) for c in channels]].to_numpy(np.float64)
    spread = np.clip(attributes[[spread_column(c) for c in channels]].to_numpy(np.float64), 0.0, None)
    return level, spread


def _standardised(values: np.ndarray, level: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """(entities, steps, channels) minus each entity's level over its spread (a spread of 0 divides by 1)."""
    return (values - level[:, None, :]) / np.where(spread > 0, spread, 1.0)[:, None, :]


def standardise(values: np.ndarray, lengths: np.ndarray, attributes: pd.DataFrame, channels: list[str]) -> np.ndarray:
    """Each series minus its level over its spread (a constant channel stays 0)."""
    return _standardised(values, *_level_spread(attributes, channels)).astype(np.float32)


def restore(shapes: np.ndarray, lengths: np.ndarray, attributes: pd.DataFrame, channels: list[str]) -> np.ndarray:
    """Generated shapes standardised again over their real steps, then given the drawn level and spread:
    each series' mean and standard deviation are exactly the drawn ones."""
    z = _standardised(shapes, *_moments(shapes, lengths))
    level, spread = _level_spread(attributes, channels)
    return z * spread[:, None, :] + level[:, None, :]
