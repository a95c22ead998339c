"""The distance space for privacy checks, as METRICS.md defines it.

Numerics (and datetimes) are standardised by the train mean/sd, missing → 0 plus a missing flag;
categoricals are one-hot scaled by 1/√2 so a mismatch weighs as much as a 1-sd difference.
Distances are Euclidean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from synthgen.data.schema import NUMERIC_KINDS, Schema
from synthgen.encoding.columns import to_float


class DistanceSpace:
    def __init__(self, schema: Schema, train: pd.DataFrame, columns: list[str]) -> None:
        self.schema = schema
        self.columns = columns
        self.stats: dict[str, tuple[float, float]] = {}
        self.categories: dict[str, list[str]] = {}
        for name in columns:
            col = schema.column(name)
            if col.kind in NUMERIC_KINDS:
                x = to_float(train[name], col)
                sd = float(np.nanstd(x)) if np.isfinite(np.nanstd(x)) else 0.0
                self.stats[name] = (float(np.nanmean(x)), sd if sd > 0 else 1.0)
            else:
                self.categories[name] = sorted(train[name].dropna().astype(str).unique())

    def embed(self, frame: pd.DataFrame) -> np.ndarray:
        parts = []
        for name in self.columns:
            if name in self.stats:
                mean, sd = self.stats[name]
                x = (to_float(frame[name], self.schema.column(name)) - mean) / sd
                missing = np.isnan(x)
                parts += [np.where(missing, 0.0, x)[:, None], missing[:, None].astype(float)]
            else:
                values = pd.Categorical(frame[name].astype(str).where(frame[name].notna()), self.categories[name])
                onehot = np.zeros((len(frame), len(self.categories[name]) + 1))
                onehot[np.arange(len(frame)), values.codes] = 1.0  # code -1 (unseen/missing) → last column
                parts.append(onehot / np.sqrt(2))
        return np.concatenate(parts, axis=1) if parts else np.zeros((len(frame), 0))


def nearest(reference: np.ndarray, queries: np.ndarray, k: int = 1) -> np.ndarray:
    """Euclidean distances from each query to its k nearest reference rows, shape (n, k)."""
    index = NearestNeighbors(n_neighbors=min(k, len(reference))).fit(reference)
    return index.kneighbors(queries, return_distance=True)[0]


def nearest_with_index(reference: np.ndarray, queries: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Distances to, and indices of, each query's k nearest reference rows."""
    return NearestNeighbors(n_neighbors=min(k, len(reference))).fit(reference).kneighbors(queries)


def nearest_index(reference: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of each query's nearest reference row."""
    return NearestNeighbors(n_neighbors=1).fit(reference).kneighbors(queries, return_distance=False)[:, 0]


def row_keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """A hashable key per row; floats to 10 significant digits so decoding noise is no difference.
    Vectorised per column: exact-copy checks hash every row of tables of millions."""
    normalised = {}
    for c in columns:
        values = frame[c]
        if pd.api.types.is_float_dtype(values):
            normalised[c] = _significant(values.to_numpy(dtype=float))
        elif values.dtype == object:
            normalised[c] = values.map(
                lambda v: "NA" if pd.isna(v) else (f"{v:.10g}" if isinstance(v, float) else str(v))
            )
        else:
            normalised[c] = values.to_numpy()
    return pd.util.hash_pandas_object(pd.DataFrame(normalised, index=frame.index), index=False)


def _significant(x: np.ndarray, digits: int = 10) -> np.ndarray:
    """Round to `digits` significant digits (NaN and 0 stay as they are)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(x)))
    scale = 10.0 ** (digits - 1 - np.where(np.isfinite(magnitude), magnitude, 0.0))
    return np.round(x * scale) / scale
