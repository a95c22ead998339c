"""The five stages as library calls; the CLI and DVC are thin shells around these."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm.auto import tqdm

from synthgen.config import AugmentParams, ColumnOverride, IngestParams, SampleParams, TrainParams, ValidateParams
from synthgen.data.schema import Schema, infer_schema
from synthgen.data.split import split_train_holdout
from synthgen.errors import GateFailed, SynthgenError
from synthgen.io import (
    ParquetParts,
    atomic_path,
    is_parquet,
    read_table,
    write_json,
    write_parquet,
    write_parquet_batches,
)
from synthgen.sampling import parts
from synthgen.sampling.parts import World
from synthgen.sampling.plan import balance_counts
from synthgen.synthesizer import Synthesizer, rank_batches

log = logging.getLogger("synthgen")
AUGMENT_BATCH_ROWS = 65_536


@contextmanager
def timed(stage: str) -> Iterator[dict[str, Any]]:
    """Log one summary line per stage: what it did and how long it took."""
    summary: dict[str, Any] = {}
    start = time.perf_counter()
    yield summary
    parts = ", ".join(f"{k} {v}" for k, v in summary.items())
    log.info("%s: %s in %.1f s", stage, parts, time.perf_counter() - start)


def save_model(synth: Any, out_dir: str | Path, loss_csv: str | Path | None) -> None:
    """A fitted synthesizer (any modality) to its directory, and its loss curve for `dvc plots`."""
    synth.save(out_dir)
    if loss_csv is not None and synth.loss_curve is not None:
        with atomic_path(loss_csv) as tmp:
            synth.loss_curve.to_csv(tmp, index=False)


def ingest(
    source: str | Path,
    out_dir: str | Path,
    params: IngestParams,
    seed: int,
    target: str | None = None,
    columns: dict[str, ColumnOverride] | None = None,
) -> Schema:
    """Raw file → train.parquet, holdout.parquet and schema.json, written together or not at all."""
    with timed("ingest") as summary:
        if is_parquet(source) and ParquetParts(source).num_rows > params.max_rows_in_memory:
            return _ingest_large(source, out_dir, params, seed, target, columns, summary)
        frame = read_table(source)
        schema = infer_schema(frame, target, columns, where=str(source))
        train, holdout = split_train_holdout(
            frame, schema, params.holdout_fraction, seed, params.min_holdout_rows, where=str(source)
        )
        with atomic_path(out_dir) as tmp:
            tmp.mkdir(parents=True)
            write_parquet(train, tmp / "train.parquet")
            write_parquet(holdout, tmp / "holdout.parquet")
            schema.save(tmp / "schema.json")
        kinds = pd.Series([c.kind for c in schema.columns]).value_counts().to_dict()
        summary.update(
            rows=len(frame),
            train=len(train),
            holdout=len(holdout),
            columns=len(schema.columns),
            kinds=kinds,
            target=target,
        )
    return schema


def _ingest_large(
    source: str | Path,
    out_dir: str | Path,
    params: IngestParams,
    seed: int,
    target: str | None,
    columns: dict[str, ColumnOverride] | None,
    summary: dict[str, Any],
) -> Schema:
    """Larger than memory: schema from a sample, exact statistics and the split streamed (large_tables)."""
    from synthgen.data.large_tables import infer_large_schema, split_large

    schema, totals = infer_large_schema(source, target, columns, seed, str(source))
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        n_train, n_holdout = split_large(source, schema, totals, params, seed, tmp, str(source))
        schema.save(tmp / "schema.json")
    summary.update(rows=totals.rows, train=n_train, holdout=n_holdout, columns=len(schema.columns), streamed=True)
    return schema


def train(
    data: str | Path,
    out_dir: str | Path,
    params: TrainParams,
    seed: int,
    target: str | None = None,
    schema: Schema | None = None,
    columns: dict[str, ColumnOverride] | None = None,
    loss_csv: str | Path | None = None,
) -> Synthesizer:
    """Fit the configured model on a table and save it as data."""
    with timed("train") as summary:
        table = ParquetParts(data) if is_parquet(data) else None
        large = table is not None and table.num_rows > params.max_rows
        frame = table.sample(params.max_rows, seed) if large else read_table(data)
        if schema is not None and target and schema.target != target:
            raise SynthgenError(f"--target {target!r} differs from the schema's target {schema.target!r}; drop one")
        synth = Synthesizer(params.model, target, seed, train_params=params, columns=columns, schema=schema)
        synth.fit(frame, where=str(data))
        if large:  # a seeded sample trained the model; counts and fresh ids follow the whole table
            from synthgen.data.large_tables import population

            synth.meta.update(population(data, synth.schema))
            summary["sampled_from"] = synth.meta["n_train"]
        save_model(synth, out_dir, loss_csv)
        final = (
            synth.loss_curve.dropna(subset=["train_loss"])["train_loss"].iloc[-1]
            if synth.loss_curve is not None
            else float("nan")
        )
        summary.update(model=params.model, rows=len(frame), final_train_loss=f"{final:.4f}", saved=str(out_dir))
    return synth


def sample(model_dir: str | Path, out: str | Path, params: SampleParams, seed: int, world: World | None = None) -> int:
    """Draw rows in batches and stream them into a Parquet file (one row group per batch); with several
    ranks, this rank's share into its part of the directory `out` (sampling/parts.py)."""
    world = world or World()
    with timed("sample") as summary:
        synth = Synthesizer.load(model_dir)
        n = params.rows if params.rows is not None else math.ceil(params.multiple * synth.meta["n_train"])
        counts = None
        if params.mode == "balance":
            if not synth.schema.is_classification:
                raise SynthgenError(f"{model_dir}: sample.mode balance needs a class target; retrain with --target")
            counts = balance_counts(synth.class_counts, params.rows)
            n = sum(counts.values())
            summary["per_class"] = {str(k): v for k, v in counts.items()}
        if n == 0:
            raise SynthgenError(
                f"{out}: zero rows to sample; set sample.rows or --rows above 0 "
                "(in balance mode the classes are already balanced)"
            )
        mine = len(rank_batches(math.ceil(n / params.batch_size), world.rank, world.size))
        if mine == 0:
            raise SynthgenError(
                f"{out}: {math.ceil(n / params.batch_size)} batch(es) for {world.size} ranks leave rank {world.rank} "
                "nothing to draw; lower sample.batch_size or use fewer ranks"
            )
        batches = synth.sample_batches(
            n,
            params.conditions,
            counts,
            seed=seed,
            batch_size=params.batch_size,
            rank=world.rank,
            world_size=world.size,
        )
        start = time.perf_counter()
        progress = tqdm(batches, total=mine, desc="sample", unit="batch", leave=False, disable=None)
        if world.size == 1:
            rows = write_parquet_batches(progress, out)
        else:
            token = parts.run_token(Path(model_dir), {"params": params.model_dump(), "seed": seed, "world": world.size})
            parts.prepare(Path(out))
            rows = write_parquet_batches(progress, Path(out) / parts.part_name(world))
            complete = parts.finish(Path(out), world, token, rows, seed)
            summary.update(rank=f"{world.rank} of {world.size}", set_complete=complete)
        elapsed = time.perf_counter() - start
        summary.update(rows=rows, rows_per_s=int(rows / elapsed) if elapsed > 0 else rows, out=str(out))
    return rows


def validate(
    train_path: str | Path,
    holdout_path: str | Path,
    synthetic_path: str | Path,
    out_dir: str | Path,
    params: ValidateParams,
    seed: int,
    schema: Schema | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    """Score the synthetic set, write metrics.json and GX results; raise GateFailed when the gate fails."""
    from synthgen.reporting import write_report
    from synthgen.validation import run_gate
    from synthgen.validation.binding import bind
    from synthgen.validation.gate import check_holdout, check_synthetic, compact_metrics, failed_checks, summary_table

    with timed("validate") as summary:
        paths = (train_path, holdout_path, synthetic_path)
        (real_train, n_train), (holdout, n_holdout), (synthetic, n_synthetic) = (
            _bounded(p, params.max_rows, seed) for p in paths
        )
        schema = schema or infer_schema(real_train, target, where=str(train_path))
        schema.check_frame(holdout, str(holdout_path))
        check_synthetic(synthetic, schema, str(synthetic_path))
        exact = None
        if all(is_parquet(p) for p in paths) and max(n_train, n_holdout, n_synthetic) > params.max_rows:
            exact = _exact_over_all_rows(train_path, holdout_path, synthetic_path, schema)
        else:
            check_holdout(real_train, holdout, schema, str(holdout_path))
        out_dir = Path(out_dir)
        rows = {"train": n_train, "holdout": n_holdout, "synthetic": n_synthetic}
        metrics = bind(
            run_gate(real_train, holdout, synthetic, schema, params, seed, out_dir, rows, exact or {}), synthetic_path
        )
        write_json(compact_metrics(metrics), out_dir / "metrics.json")
        write_json(metrics, out_dir / "details.json")
        report = write_report(
            metrics,
            real_train,
            holdout,
            synthetic,
            schema,
            out_dir,
            f"synthgen validation report: {Path(synthetic_path).name}",
        )
        print(summary_table(metrics), flush=True)
        scores = {k: v["score"] for k, v in metrics["checks"].items() if k in ("quality", "dcr_share")}
        summary.update(
            synthetic=n_synthetic, gate="passed" if metrics["passed"] else "FAILED", **scores, report=str(report)
        )
    if not metrics["passed"]:
        raise GateFailed(
            f"validation gate failed on {', '.join(failed_checks(metrics))}; see {out_dir / 'metrics.json'}"
        )
    return metrics


def _bounded(path: str | Path, max_rows: int, seed: int) -> tuple[pd.DataFrame, int]:
    """A seeded sample of at most `max_rows` rows for the distribution checks, and the table's row count;
    Parquet is sampled row group by row group, so a table larger than memory is never loaded whole."""
    from synthgen.validation.gate import cap

    if not is_parquet(path):
        frame = read_table(path)
        return cap(frame, max_rows, seed), len(frame)
    parts = ParquetParts(path)
    if parts.num_rows == 0:
        raise SynthgenError(f"{path}: table has no rows; give at least a few dozen rows")
    return parts.sample(max_rows, seed), parts.num_rows


def _exact_over_all_rows(train: str | Path, holdout: str | Path, synthetic: str | Path, schema: Schema) -> dict:
    """Category coverage, train's value ranges and category sets, and copy rates over every row
    (one streamed pass per table), where the checks see samples."""
    from synthgen.validation.gate import categorical_columns, check_categories
    from synthgen.validation.streaming import copy_count, summarise

    categorical = categorical_columns(schema)
    numeric = [c.name for c in schema.columns if c.kind in ("numeric", "integer") and c.modelled]
    keyed = [c.name for c in schema.columns if c.modelled]
    real = summarise(train, categorical, numeric, keyed)
    held = summarise(holdout, categorical, keyed=keyed)
    check_categories(real.categories, held.categories, str(holdout))
    train_keys = np.unique(real.keys)
    synthetic_keys = summarise(synthetic, keyed=keyed).keys
    return {
        "copy_counts": {
            "synthetic": copy_count(synthetic_keys, train_keys),
            "synthetic_rows": len(synthetic_keys),
            "holdout": copy_count(held.keys, train_keys),
            "holdout_rows": len(held.keys),
        },
        "train_ranges": real.ranges,
        "train_categories": real.categories,
    }


def augment(
    train_path: str | Path,
    synthetic_path: str | Path,
    out: str | Path,
    params: AugmentParams,
    metrics_path: str | Path,
    target: str | None = None,
) -> int:
    """Real train rows plus synthetic rows, marked by `is_synthetic`, streamed into one Parquet; only
    for a synthetic file that `metrics_path` shows passed the gate (validation/binding.py)."""
    from synthgen.validation.binding import require_passed

    with timed("augment") as summary:
        require_passed(metrics_path, synthetic_path)
        real = ParquetParts(train_path) if is_parquet(train_path) else read_table(train_path)
        columns = real.names if isinstance(real, ParquetParts) else list(real.columns)
        n_real = real.num_rows if isinstance(real, ParquetParts) else len(real)
        synthetic = ParquetParts(synthetic_path)
        if sorted(synthetic.names) != sorted(columns):
            raise SynthgenError(
                f"{synthetic_path}: columns differ from {train_path}; sample from a model trained on it"
            )
        quota = _quota(real, params, target, synthetic.num_rows)
        added: dict[Any, int] = {}

        def batches() -> Iterator[pd.DataFrame | pa.RecordBatch]:
            if isinstance(real, ParquetParts):  # streamed: a train table need not fit in memory
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

        rows = write_parquet_batches(batches(), out)
        summary.update(real=n_real, synthetic=rows - n_real, strategy=params.strategy, out=str(out))
    return rows


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
