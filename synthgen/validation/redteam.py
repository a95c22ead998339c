"""Leaking sets that a gate must fail, built from real records: the red-team a gate is measured by.

Each builder takes real records the model never saw (`fresh`, which must pass) and train records,
and swaps a share of the fresh ones for disguised copies of train records: exact, near (numerics
moved by about 1% of a standard deviation, kept on the column's grid and range), time-shifted
(sequences), flipped or moved a pixel (images), or one record duplicated many times. Used by
tests/redteam and benchmarks/redteam.py, and by anyone who wants to try the gate on their own data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema

NEAR_SCALE = 0.01  # near copies move numerics by this many standard deviations


def grid_step(values: np.ndarray) -> float:
    """The spacing the column's values are recorded on: the smallest gap between distinct values
    (25 for masses weighed to 25 g, 0.1 for lengths to a tenth), 0 for a constant column."""
    distinct = np.unique(np.round(values[np.isfinite(values)], 9))
    return float(np.diff(distinct).min()) if len(distinct) > 1 else 0.0


def near_table_rows(train: pd.DataFrame, schema: Schema, rows: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Copies of train rows `rows`, each numeric moved by ~1% of its sd, on its grid and in its range
    (a column whose grid is coarser than that keeps its value: any move would be a large one)."""
    out = train.iloc[rows].reset_index(drop=True).copy()
    for col in schema.columns:
        if col.kind not in ("numeric", "integer") or not col.modelled:
            continue
        real = train[col.name].to_numpy(dtype=float, na_value=np.nan)
        grid = grid_step(real)
        if grid == 0:
            continue
        step = np.round(NEAR_SCALE * np.nanstd(real) / grid) * grid  # 0 where the grid is coarser than 1% sd
        moved = out[col.name].to_numpy(dtype=float, na_value=np.nan) + rng.choice([-1, 1], len(out)) * step
        moved = np.clip(moved, np.nanmin(real), np.nanmax(real))
        out[col.name] = moved.astype(train[col.name].dtype) if col.kind == "integer" else moved
    return out


def mix_rows(fresh: pd.DataFrame, leaked: pd.DataFrame, share: float, rng: np.random.Generator) -> pd.DataFrame:
    """`fresh` with round(share·n) randomly chosen rows replaced by the first rows of `leaked`."""
    n = len(fresh)
    k = int(round(share * n))
    out = fresh.reset_index(drop=True).copy()
    where = rng.choice(n, k, replace=False)
    out.iloc[where] = leaked.iloc[:k].to_numpy()
    return out.astype(fresh.dtypes.to_dict())


def table_leaks(
    train: pd.DataFrame, fresh: pd.DataFrame, schema: Schema, seed: int
) -> dict[str, Callable[[float], pd.DataFrame]]:
    """Leaking tables by name, each a function of the leaked share."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(train), len(fresh), replace=len(fresh) > len(train))
    exact = train.iloc[picks].reset_index(drop=True)
    near = near_table_rows(train, schema, picks, rng)
    duplicated = train.iloc[np.repeat(picks[:1], len(fresh))].reset_index(drop=True)
    return {
        "exact": lambda share: mix_rows(fresh, exact, share, np.random.default_rng(seed + 1)),
        "near": lambda share: mix_rows(fresh, near, share, np.random.default_rng(seed + 2)),
        "duplicated": lambda share: mix_rows(fresh, duplicated, share, np.random.default_rng(seed + 3)),
    }


def mix_arrays(fresh: np.ndarray, leaked: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """The array version of `mix_rows` (sequences or images as the first axis)."""
    out = fresh.copy()
    k = int(round(share * len(fresh)))
    out[rng.choice(len(fresh), k, replace=False)] = leaked[:k]
    return out


def sequence_array(frame: pd.DataFrame, entity: str = "entity", step: str = "step") -> np.ndarray:
    """A long table's channels as (entities, steps, channels) float32 in entity and step order, NaN
    after the end of entities shorter than the longest (what `sequence_leaks` and
    `sequence_context` take)."""
    frame = frame.sort_values([entity, step], kind="stable")
    channels = [c for c in frame.columns if c.startswith("channel_")]
    ids = pd.factorize(frame[entity], sort=True)[0]
    position = frame.groupby(ids).cumcount().to_numpy()
    out = np.full((ids.max() + 1, position.max() + 1, len(channels)), np.nan, dtype=np.float32)
    out[ids, position] = frame[channels].to_numpy(np.float32)
    return out


def sequence_leaks(train: np.ndarray, fresh: np.ndarray, seed: int) -> dict[str, Callable[[float], np.ndarray]]:
    """Leaking sequence sets (entities, steps, channels) by name, each a function of the leaked share.
    Entities of different lengths are NaN after their end; they get no shifted copies (a shift would
    move the padding into the series)."""
    rng = np.random.default_rng(seed)
    picks = train[rng.choice(len(train), len(fresh), replace=len(fresh) > len(train))]
    length = train.shape[1]
    sd = np.nanstd(train.reshape(-1, train.shape[2]), axis=0)
    near = picks + rng.normal(0, NEAR_SCALE, picks.shape) * sd
    circular = np.stack([np.roll(s, rng.integers(1, length), axis=0) for s in picks])
    lag = max(1, length // 20)
    linear = np.concatenate([picks[:, lag:], np.repeat(picks[:, -1:], lag, axis=1)], axis=1)  # a late start
    duplicated = np.repeat(picks[:1], len(fresh), axis=0)
    builds = {
        "exact": picks,
        "near": near,
        "circular_shift": circular,
        "linear_shift": linear,
        "duplicated": duplicated,
    }
    if np.isnan(train).any():
        builds = {k: v for k, v in builds.items() if not k.endswith("_shift")}
    return {
        name: (lambda share, a=leaked, i=i: mix_arrays(fresh, a, share, np.random.default_rng(seed + i)))
        for i, (name, leaked) in enumerate(builds.items())
    }


def image_leaks(train: np.ndarray, fresh: np.ndarray, seed: int) -> dict[str, Callable[[float], np.ndarray]]:
    """Leaking image sets (n, channels, h, w) in [0, 1] by name, each a function of the leaked share."""
    rng = np.random.default_rng(seed)
    picks = train[rng.choice(len(train), len(fresh), replace=len(fresh) > len(train))]
    builds = {
        "exact": picks,
        "near": np.clip(picks + rng.normal(0, NEAR_SCALE, picks.shape), 0, 1).astype(picks.dtype),
        "flipped": picks[..., ::-1].copy(),
        "shifted": np.roll(picks, 1, axis=-1),
        "duplicated": np.repeat(picks[:1], len(fresh), axis=0),
    }
    return {
        name: (lambda share, a=leaked, i=i: mix_arrays(fresh, a, share, np.random.default_rng(seed + i)))
        for i, (name, leaked) in enumerate(builds.items())
    }


def sequence_context(train: np.ndarray, holdout: np.ndarray, synthetic: np.ndarray, seed: int, out: Path) -> Any:
    """What validate hands the sensor checks, for (entities, steps, channels) arrays (NaN after an
    entity's end when lengths differ): standardised arrays, and one row per step for the schema suite."""
    from synthgen.data.schema import infer_schema
    from synthgen.validation.base import Context
    from synthgen.validation.sequences import SequenceContext, Sequences

    def steps(values: np.ndarray) -> pd.DataFrame:
        n, length, channels = values.shape
        frame = pd.DataFrame(values.reshape(-1, channels), columns=[f"channel_{c}" for c in range(channels)])
        return frame.assign(step=np.tile(np.arange(length), n)).dropna().reset_index(drop=True)

    def standardised(values: np.ndarray) -> Sequences:
        lengths = (~np.isnan(values[..., 0])).sum(axis=1)
        return Sequences(np.nan_to_num((values - mean) / sd).astype(np.float32), lengths)

    arrays = (train, holdout, synthetic)
    flat = train.reshape(-1, train.shape[2])
    mean, sd = np.nanmean(flat, axis=0), np.nanstd(flat, axis=0) + 1e-12
    seqs = [standardised(a) for a in arrays]
    tables = [steps(a) for a in arrays]
    return SequenceContext(*seqs, seed, out, Context(*tables, infer_schema(tables[0]), seed, out))


def image_context(train: Any, holdout: Any, synthetic: Any, layout: Any, seed: int, out: Path) -> Any:
    """What validate hands the image checks, for `Images` of one layout."""
    from synthgen.data.images import summary_rows, to_table
    from synthgen.data.schema import infer_schema
    from synthgen.validation.base import Context
    from synthgen.validation.images import ImageContext

    rows = [summary_rows(to_table(s, layout)) for s in (train, holdout, synthetic)]
    tables = Context(*rows, infer_schema(rows[0], "label"), seed, out)
    return ImageContext(train, holdout, synthetic, layout.classes, seed, out, tables)
