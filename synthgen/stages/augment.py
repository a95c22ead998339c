"""augment: real train units plus synthetic ones, marked by `is_synthetic`, streamed into one
Parquet; only for a synthetic file whose gate verdict passed (validation/binding.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from synthgen import modalities
from synthgen.config import AugmentParams
from synthgen.errors import SynthgenError
from synthgen.io import ParquetParts, is_parquet, read_table, write_parquet_batches
from synthgen.modalities.base import read_prepared
from synthgen.sampling.plan import balance_counts
from synthgen.stages.timing import timed

AUGMENT_BATCH_ROWS = 65_536


def augment(
    train_path: str | Path,
    synthetic_path: str | Path,
    out: str | Path,
    params: AugmentParams,
    metrics_path: str | Path,
    target: str | None = None,
) -> int:
    """Write train + synthetic rows to `out`; `metrics_path` must show that `synthetic_path` passed
    the gate. The class column for strategy balance comes from the modality (images: the label)."""
    from synthgen.validation.binding import require_passed

    with timed("augment") as summary:
        require_passed(metrics_path, synthetic_path)
        prepared = read_prepared(Path(train_path).parent)
        target = modalities.get(prepared.modality).augment_target(prepared, params, target)
        real = ParquetParts(train_path) if is_parquet(train_path) else read_table(train_path)
        columns = real.names if isinstance(real, ParquetParts) else list(real.columns)
        n_real = real.num_rows if isinstance(real, ParquetParts) else len(real)
        synthetic = ParquetParts(synthetic_path)
        if sorted(synthetic.names) != sorted(columns):
            raise SynthgenError(
                f"{synthetic_path}: columns differ from {train_path}; sample from a model trained on it"
            )
        quota = _quota(real, params, target, synthetic.num_rows)
        batches = _batches(real, synthetic, columns, quota, target, synthetic_path)
        rows = write_parquet_batches(batches, out)
        summary.update(real=n_real, synthetic=rows - n_real, strategy=params.strategy, out=str(out))
    return rows


def _batches(
    real: pd.DataFrame | ParquetParts,
    synthetic: ParquetParts,
    columns: list[str],
    quota: dict[Any, int],
    target: str | None,
    synthetic_path: str | Path,
) -> Iterator[pd.DataFrame | pa.RecordBatch]:
    """The real rows (streamed: a train table need not fit in memory), then the synthetic rows the
    quota takes; refuses to finish when a class is short."""
    added: dict[Any, int] = {}
    if isinstance(real, ParquetParts):
        for batch in real.iter_batches(AUGMENT_BATCH_ROWS):
            yield batch.append_column("is_synthetic", pa.array(np.zeros(batch.num_rows, dtype=bool)))
    else:
        yield real.assign(is_synthetic=False)
    for batch in synthetic.iter_batches(AUGMENT_BATCH_ROWS):
        frame = _take(batch.to_pandas()[columns], quota, added, target)
        if len(frame):
            yield frame.assign(is_synthetic=True)  # cast to the real rows' types on writing
    short = {k: want - added.get(k, 0) for k, want in quota.items() if k is not None and want > added.get(k, 0)}
    if short:
        raise SynthgenError(
            f"{synthetic_path}: too few synthetic rows for class(es) {short} to balance; "
            "set sample.mode: balance or raise sample.rows"
        )


def _quota(
    real: pd.DataFrame | ParquetParts, params: AugmentParams, target: str | None, available: int
) -> dict[Any, int]:
    """Synthetic rows wanted per class (key None = any class)."""
    if params.strategy == "append":
        return {None: available if params.rows is None else params.rows}
    columns = real.names if isinstance(real, ParquetParts) else list(real.columns)
    if not target or target not in columns:
        raise SynthgenError("augment.strategy balance needs the class target (--target or the dataset spec)")
    if isinstance(real, pd.DataFrame):
        return balance_counts(real[target].value_counts().to_dict(), params.rows)
    counts: dict[Any, int] = {}
    for batch in real.iter_batches(AUGMENT_BATCH_ROWS, [target]):
        for value, n in batch.column(target).to_pandas().value_counts().items():
            counts[value] = counts.get(value, 0) + int(n)
    return balance_counts(counts, params.rows)


def _take(frame: pd.DataFrame, quota: dict[Any, int], added: dict[Any, int], target: str | None) -> pd.DataFrame:
    if None in quota:
        keep = max(0, quota[None] - added.get(None, 0))
        added[None] = added.get(None, 0) + min(keep, len(frame))
        return frame.iloc[:keep]
    parts = []
    for cls, want in quota.items():
        rows = frame[frame[target] == cls].iloc[: max(0, want - added.get(cls, 0))]
        added[cls] = added.get(cls, 0) + len(rows)
        parts.append(rows)
    return pd.concat(parts) if parts else frame.iloc[:0]
