"""Parquet tables larger than memory: the schema from a seeded sample, exact statistics streamed over
every row, and a train/holdout split written row group by row group.

A sample decides what each column is (kinds do not change with more rows), but what a sample can
miss must come from all rows: every class of the target, every category (a value too rare to risk
in the holdout stays in train), missing targets, the largest id (fresh ids must not collide).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from synthgen.data.schema import ColumnOverride, Schema, infer_schema
from synthgen.encoding.protection import protected_offset
from synthgen.errors import SynthgenError
from synthgen.io import ParquetParts

log = logging.getLogger(__name__)
SCHEMA_SAMPLE_ROWS = 100_000
BATCH_ROWS = 250_000
RARE = 20  # a category with fewer rows than this stays in train: the holdout could take all of them


@dataclass
class Totals:
    """What a sample cannot tell about the whole table."""

    rows: int = 0
    counts: dict[str, Counter] = field(default_factory=dict)  # per categorical column: value -> rows
    missing: dict[str, int] = field(default_factory=dict)  # per column: missing values
    maxima: dict[str, float] = field(default_factory=dict)  # per integer id column


def scan(path: str | Path, schema: Schema) -> Totals:
    """One streamed pass over every row."""
    categorical = [c.name for c in schema.columns if c.kind in ("categorical", "boolean")]
    ids = [c.name for c in schema.columns if c.kind == "id" and c.dtype.startswith(("int", "Int", "uint"))]
    totals = Totals(counts={c: Counter() for c in categorical}, missing=dict.fromkeys(schema.names, 0))
    for batch in ParquetParts(path).iter_batches(BATCH_ROWS):
        totals.rows += batch.num_rows
        for name in schema.names:
            totals.missing[name] += batch.column(name).null_count
        for name in categorical:
            for item in pc.value_counts(pc.drop_null(batch.column(name))).to_pylist():
                totals.counts[name][item["values"]] += item["counts"]
        for name in ids:
            high = pc.max(batch.column(name)).as_py()
            if high is not None:
                totals.maxima[name] = max(totals.maxima.get(name, high), high)
    return totals


def infer_large_schema(
    path: str | Path, target: str | None, columns: dict[str, ColumnOverride] | None, seed: int, where: str
) -> tuple[Schema, Totals]:
    """Kinds from a seeded sample; classes, categories and missing targets from every row."""
    schema = infer_schema(ParquetParts(path).sample(SCHEMA_SAMPLE_ROWS, seed), target, columns, where)
    totals = scan(path, schema)
    if target and totals.missing.get(target):
        raise SynthgenError(
            f"{where}: target {target!r} is missing in {totals.missing[target]} row(s); "
            "drop those rows or pick another target"
        )
    if schema.is_classification:
        schema.classes = sorted(totals.counts[target], key=str)
    return schema, totals


def split_large(
    path: str | Path,
    schema: Schema,
    totals: Totals,
    holdout_fraction: float,
    min_holdout_rows: int,
    seed: int,
    out_dir: Path,
    where: str,
) -> tuple[int, int]:
    """Stream the rows into train.parquet and holdout.parquet; each batch's holdout draw has its own seed."""
    rare = {
        name: pa.array([v for v, n in counts.items() if n < RARE])
        for name, counts in totals.counts.items()
        if schema.column(name).modelled and any(n < RARE for n in counts.values())
    }
    writers: dict[str, pq.ParquetWriter] = {}
    sizes = {"train": 0, "holdout": 0}
    try:
        for b, batch in enumerate(ParquetParts(path).iter_batches(BATCH_ROWS)):
            rng = np.random.default_rng(np.random.SeedSequence([seed, b]))
            holdout = rng.random(batch.num_rows) < holdout_fraction
            for name, values in rare.items():
                holdout &= ~pc.fill_null(pc.is_in(batch.column(name), value_set=values), False).to_numpy(
                    zero_copy_only=False
                )
            for part, mask in (("train", ~holdout), ("holdout", holdout)):
                rows = batch.filter(pa.array(mask))
                if part not in writers:
                    writers[part] = pq.ParquetWriter(out_dir / f"{part}.parquet", batch.schema)
                writers[part].write_batch(rows)
                sizes[part] += rows.num_rows
    finally:
        for writer in writers.values():
            writer.close()
    if sizes["holdout"] < min_holdout_rows:
        raise SynthgenError(
            f"{where}: only {sizes['holdout']} holdout row(s) (minimum {min_holdout_rows}); "
            "raise ingest.holdout_fraction"
        )
    kept = {name: len(values) for name, values in rare.items()}
    if kept:
        log.info("rare categories (under %d rows) kept in train: %s", RARE, kept)
    return sizes["train"], sizes["holdout"]


def population(path: str | Path, schema: Schema) -> dict[str, Any]:
    """The whole table's row count, class counts and id maxima, for a model trained on a sample of it."""
    totals = scan(path, schema)
    counts = totals.counts.get(schema.target, Counter()) if schema.is_classification else Counter()
    return {
        "n_train": totals.rows,
        "class_counts": [int(counts.get(c, 0)) for c in schema.classes],
        "id_offsets": {name: protected_offset(high) for name, high in totals.maxima.items()},
    }
