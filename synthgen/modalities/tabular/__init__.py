"""Tables (`modality: tabular`): one row per record, a schema of column kinds and roles, rows as the
unit that is split, sampled and judged. Parquet larger than memory is split and sampled streamed."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen.config import AugmentParams, DatasetSpec, IngestParams, SampleParams, TrainParams
from synthgen.data import constraints
from synthgen.data.schema import Schema, infer_schema
from synthgen.data.split import split_train_holdout
from synthgen.errors import SynthgenError
from synthgen.io import ParquetParts, is_parquet, read_table, write_parquet, write_parquet_batches
from synthgen.logs import progress
from synthgen.modalities.base import Prepared, Scored, ToJudge
from synthgen.modalities.tabular.synthesizer import Synthesizer
from synthgen.registry import MODALITIES
from synthgen.sampling import parts
from synthgen.sampling.parts import World
from synthgen.sampling.plan import balance_counts
from synthgen.synthesizer import rank_batches

__all__ = ["Synthesizer", "Tabular"]


class Tabular:
    """Tables: the default modality."""

    name = "tabular"
    synthesizer = Synthesizer
    unit = "rows"
    splits = ("stratified", "row_hash")  # ingest.split values: row_hash assigns each row or entity alone
    distributed_sampling = True
    constraint_kinds = ("inequality", "range", "fixed_combinations")  # data/constraints.py

    def ingest(self, spec: DatasetSpec, out: Path, params: IngestParams, seed: int) -> tuple[dict, dict]:
        source, target = spec.source, spec.target
        if is_parquet(source) and ParquetParts(source).num_rows > params.max_rows_in_memory:
            return self._ingest_large(spec, out, params, seed)
        frame = read_table(source)
        schema = infer_schema(frame, target, spec.columns, where=str(source))
        schema.constraints = constraints.declared(spec.constraints, schema, frame, str(source))
        proposed = constraints.proposals(constraints.propose(frame, schema), schema.constraints, "row")
        train, holdout = split_train_holdout(
            frame, schema, params.holdout_fraction, seed, params.min_holdout_rows, str(source), params.split
        )
        write_parquet(train, out / "train.parquet")
        write_parquet(holdout, out / "holdout.parquet")
        schema.save(out / "schema.json")
        kinds = pd.Series([c.kind for c in schema.columns]).value_counts().to_dict()
        summary = dict(rows=len(frame), train=len(train), holdout=len(holdout), columns=len(schema.columns))
        layout = {"target": target, **({"split": params.split} if params.split != "stratified" else {}), **proposed}
        done = {"kinds": kinds, "target": target, "split": params.split, "constraints": len(schema.constraints)}
        return layout, {**summary, **done, "proposed_constraints": len(proposed.get("proposed_constraints", []))}

    @staticmethod
    def _ingest_large(spec: DatasetSpec, out: Path, params: IngestParams, seed: int) -> tuple[dict, dict]:
        """Larger than memory: schema from a sample, exact statistics and the split streamed (large_tables)."""
        from synthgen.data.large_tables import infer_large_schema, split_large

        source = spec.source
        if spec.constraints:
            raise SynthgenError(
                f"{source}: constraints are checked on every real row, which a table larger than "
                f"ingest.max_rows_in_memory ({params.max_rows_in_memory}) is not read into; raise it or drop them"
            )
        if params.split != "stratified":
            raise SynthgenError(
                f"{source}: ingest.split {params.split} is for tables that fit in memory "
                f"(ingest.max_rows_in_memory {params.max_rows_in_memory}); raise it or use split: stratified"
            )
        schema, totals = infer_large_schema(source, spec.target, spec.columns, seed, str(source))
        n_train, n_holdout = split_large(
            source, schema, totals, params.holdout_fraction, params.min_holdout_rows, seed, out, str(source)
        )
        schema.save(out / "schema.json")
        summary = dict(rows=totals.rows, train=n_train, holdout=n_holdout, columns=len(schema.columns), streamed=True)
        return {"target": spec.target}, summary

    def fit(
        self, prepared: Prepared, data: Path, params: TrainParams, seed: int, spec: DatasetSpec, schema: Path | None
    ) -> tuple[Synthesizer, dict]:
        table = ParquetParts(data) if is_parquet(data) else None
        large = table is not None and table.num_rows > params.max_rows
        if large and params.privacy.enabled:  # a fixed-size sample and exact population counts are not DP
            raise SynthgenError(
                f"{data}: {table.num_rows} rows is more than train.max_rows {params.max_rows}, which train.privacy "
                "does not sample; raise train.max_rows to the table's size"
            )
        frame = table.sample(params.max_rows, seed) if large else read_table(data)
        known = _recorded_schema(prepared, schema)
        target = spec.target
        if known is not None and target and known.target != target:
            raise SynthgenError(f"--target {target!r} differs from the schema's target {known.target!r}; drop one")
        synth = Synthesizer(params.model, target, seed, train_params=params, columns=spec.columns, schema=known)
        synth.fit(frame, where=str(data))
        summary: dict[str, Any] = {}
        if large:  # a seeded sample trained the model; counts and fresh ids follow the whole table
            from synthgen.data.large_tables import population

            synth.meta.update(population(data, synth.schema))
            summary["sampled_from"] = synth.meta["n_train"]
        losses = synth.loss_curve["train_loss"].dropna() if synth.loss_curve is not None else []
        final = losses.iloc[-1] if len(losses) else float("nan")  # a DP fit records none
        return synth, {"rows": len(frame), "final_train_loss": f"{final:.4f}", **summary}

    def sample(
        self, synth: Synthesizer, out: Path, params: SampleParams, seed: int, world: World, model_dir: Path
    ) -> tuple[int, dict]:
        """Rows in batches streamed into Parquet (one row group per batch); with several ranks, this
        rank's share into its part of the directory `out` (sampling/parts.py)."""
        n, counts, summary = self._plan(synth, params, model_dir, out)
        n_batches = math.ceil(n / params.batch_size)
        mine = len(rank_batches(n_batches, world.rank, world.size))
        if mine == 0:
            raise SynthgenError(
                f"{out}: {n_batches} batch(es) for {world.size} ranks leave rank {world.rank} "
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
        batches = progress(batches, mine, "sample", "batch")
        if world.size == 1:
            rows = write_parquet_batches(batches, out, synth.provenance())
        else:
            token = parts.run_token(model_dir, {"params": params.model_dump(), "seed": seed, "world": world.size})
            parts.prepare(out)
            rows = write_parquet_batches(batches, out / parts.part_name(world), synth.provenance())
            complete = parts.finish(out, world, token, rows, seed, str(synth.device()))
            summary.update(rank=f"{world.rank} of {world.size}", set_complete=complete)
        elapsed = time.perf_counter() - start
        return rows, {**summary, "rows": rows, "rows_per_s": int(rows / elapsed) if elapsed > 0 else rows}

    @staticmethod
    def _plan(
        synth: Synthesizer, params: SampleParams, model_dir: Path, out: Path
    ) -> tuple[int, dict | None, dict[str, Any]]:
        """How many rows, and per class in balance mode."""
        n = params.rows if params.rows is not None else math.ceil(params.multiple * synth.meta["n_train"])
        counts, summary = None, {}
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
        return n, counts, summary

    def score(self, job: ToJudge) -> Scored:
        from synthgen.validation.gate import check_holdout, check_synthetic, tabular_context

        max_rows, seed = job.params.max_rows, job.seed
        (real_train, n_train), (holdout, n_holdout), (synthetic, n_synthetic) = (
            _bounded(p, max_rows, seed) for p in job.tables
        )
        recorded = _recorded_schema(job.prepared, job.schema)
        known = recorded or infer_schema(real_train, job.spec.target, where=str(job.train))
        known.check_frame(holdout, str(job.holdout))
        check_synthetic(synthetic, known, str(job.synthetic))
        exact = None
        if all(is_parquet(p) for p in job.tables) and max(n_train, n_holdout, n_synthetic) > max_rows:
            exact = _exact_over_all_rows(job.train, job.holdout, job.synthetic, known)
        else:
            check_holdout(real_train, holdout, known, str(job.holdout))
        ctx, problems = tabular_context(real_train, holdout, synthetic, known, job.params, seed, job.out_dir, exact)
        counts = {"train": n_train, "holdout": n_holdout, "synthetic": n_synthetic}
        return Scored(ctx, problems, counts, ("quality", "dcr_share"))

    def report(self, metrics: dict[str, Any], scored: Scored, out_dir: Path, title: str) -> Path:
        from synthgen.reporting import write_report

        ctx = scored.context
        return write_report(metrics, ctx.train, ctx.holdout, ctx.synthetic, ctx.schema, out_dir, title)

    def augment_target(self, prepared: Prepared, params: AugmentParams, target: str | None) -> str | None:
        return target or prepared.layout.get("target")

    def export(self, source: Path, out: Path) -> int:
        raise SynthgenError(f"{source}: a table needs no export, the Parquet file is the deliverable")


MODALITIES.register("tabular")(Tabular())


def _recorded_schema(prepared: Prepared, schema: Path | None) -> Schema | None:
    """The schema named by --schema, else the one ingest wrote beside the tables, else None (inferred)."""
    if schema is None and prepared.schema.exists():
        schema = prepared.schema
    return Schema.load(schema) if schema is not None else None


def _bounded(path: Path, max_rows: int, seed: int) -> tuple[pd.DataFrame, int]:
    """A seeded sample of at most `max_rows` rows for the distribution checks, and the table's row count;
    Parquet is sampled row group by row group, so a table larger than memory is never loaded whole."""
    from synthgen.validation.gate import cap

    if not is_parquet(path):
        frame = read_table(path)
        return cap(frame, max_rows, seed), len(frame)
    table = ParquetParts(path)
    if table.num_rows == 0:
        raise SynthgenError(f"{path}: table has no rows; give at least a few dozen rows")
    return table.sample(max_rows, seed), table.num_rows


def _exact_over_all_rows(train: Path, holdout: Path, synthetic: Path, schema: Schema) -> dict:
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
