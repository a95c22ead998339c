"""Exact answers over every row, read in batches: what a bounded sample cannot give.

The distribution checks look at a seeded sample of at most `validate.max_rows` rows per table;
category coverage, category sets and value ranges (the schema suite must not call a rare real value
impossible) and copies of train rows need all of them, so each table is read once, streamed, with
memory bounded by a hash per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc

from synthgen.io import ParquetParts
from synthgen.validation.distance import row_keys

BATCH_ROWS = 200_000


@dataclass
class Summary:
    """One table's exact statistics, from a single streamed pass."""

    categories: dict[str, set[Any]] = field(default_factory=dict)  # every non-missing value
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)  # min and max, missing skipped
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))  # one hash per row


def summarise(path: str | Path, categorical: list[str] = (), numeric: list[str] = (), keyed: list[str] = ()) -> Summary:
    """Category sets of `categorical`, ranges of `numeric` and row hashes over `keyed`, in one pass."""
    columns = sorted({*categorical, *numeric, *keyed})
    summary = Summary(categories={c: set() for c in categorical})
    low, high, keys = {}, {}, []
    for batch in ParquetParts(path).iter_batches(BATCH_ROWS, columns):
        for name in categorical:
            summary.categories[name].update(pc.unique(pc.drop_null(batch.column(name))).to_pylist())
        for name in numeric:
            found = pc.min_max(batch.column(name)).as_py()
            if found["min"] is not None:
                low[name] = min(low.get(name, found["min"]), found["min"])
                high[name] = max(high.get(name, found["max"]), found["max"])
        if keyed:
            keys.append(row_keys(batch.to_pandas(), list(keyed)).to_numpy(np.uint64))
    summary.ranges = {name: (low[name], high[name]) for name in low}
    if keys:
        summary.keys = np.concatenate(keys)
    return summary


def copy_count(keys: np.ndarray, train_keys: np.ndarray) -> int:
    """Number of rows whose hash is among train's."""
    return int(np.isin(keys, train_keys).sum())
