"""Exact answers over every row, read in batches: what a bounded sample cannot give.

The distribution checks look at a seeded sample of at most `validate.max_rows` rows per table;
row counts, category sets and value ranges (the schema suite must not call a rare real value
impossible) and copies of train rows need all of them, so they stream through the Parquet files
with bounded memory (a hash per train row).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc

from synthgen.io import ParquetParts
from synthgen.validation.distance import row_keys

BATCH_ROWS = 200_000


def category_sets(path: str | Path, columns: list[str]) -> dict[str, set[Any]]:
    """Every non-missing value of each column, over all rows."""
    found: dict[str, set[Any]] = {c: set() for c in columns}
    if not columns:
        return found
    for batch in ParquetParts(path).iter_batches(BATCH_ROWS, columns):
        for name in columns:
            found[name].update(pc.unique(pc.drop_null(batch.column(name))).to_pylist())
    return found


def value_ranges(path: str | Path, columns: list[str]) -> dict[str, tuple[float, float]]:
    """Each numeric column's minimum and maximum over all rows (missing values skipped)."""
    low = {c: float("inf") for c in columns}
    high = {c: float("-inf") for c in columns}
    if not columns:
        return {}
    for batch in ParquetParts(path).iter_batches(BATCH_ROWS, columns):
        for name in columns:
            found = pc.min_max(batch.column(name)).as_py()
            if found["min"] is not None:
                low[name], high[name] = min(low[name], found["min"]), max(high[name], found["max"])
    return {c: (low[c], high[c]) for c in columns if low[c] <= high[c]}


def _keys(path: str | Path, columns: list[str]) -> np.ndarray:
    parts = [
        row_keys(batch.to_pandas(), columns).to_numpy(np.uint64)
        for batch in ParquetParts(path).iter_batches(BATCH_ROWS, columns)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


def copy_rates(train: str | Path, holdout: str | Path, synthetic: str | Path, columns: list[str]) -> dict[str, float]:
    """Share of all synthetic and all holdout rows equal in every column to some train row."""
    train_keys = np.unique(_keys(train, columns))

    def rate(path: str | Path) -> float:
        keys = _keys(path, columns)
        return float(np.isin(keys, train_keys).mean()) if len(keys) else 0.0

    return {"synthetic_copy_rate": rate(synthetic), "holdout_copy_rate": rate(holdout)}


def row_count(path: str | Path) -> int:
    return ParquetParts(path).num_rows
