"""Sensor data (`modality: sensor`): multivariate series per entity (machine, patient, account) in
long format. Whole entities are the unit that is split, sampled and judged; the input's long
format comes back out."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen.config import AugmentParams, DatasetSpec, IngestParams, SampleParams, TrainParams
from synthgen.data import constraints
from synthgen.data.schema import infer_schema
from synthgen.data.sequences import SequenceLayout, clean_long, infer_layout, read_sensor, split_entities, to_arrays
from synthgen.errors import SynthgenError
from synthgen.io import atomic_path, read_table, write_parquet, write_parquet_batches
from synthgen.modalities.base import Prepared, Scored, ToJudge
from synthgen.modalities.sensor.synthesizer import SequenceSynthesizer
from synthgen.registry import MODALITIES
from synthgen.sampling.parts import World
from synthgen.sampling.plan import balance_counts

__all__ = ["SequenceSynthesizer", "Sensor", "standardised"]


class Sensor:
    """Sequences per entity, judged as whole sequences."""

    name = "sensor"
    synthesizer = SequenceSynthesizer
    unit = "entities"
    splits = ("stratified", "row_hash")  # ingest.split values: row_hash assigns each row or entity alone
    distributed_sampling = False
    constraint_kinds = ("normalized", "monotone")  # per entity (data/constraints.py)

    def ingest(self, spec: DatasetSpec, out: Path, params: IngestParams, seed: int) -> tuple[dict, dict]:
        """Raw sensor file → checked, regular long tables split by entity."""
        if not (spec.entity and spec.time):
            raise SynthgenError("modality sensor needs the entity and time columns: give --entity COL and --time COL")
        source = spec.source
        frame = read_sensor(source)
        layout = infer_layout(frame, spec.entity, spec.time, spec.target, spec.channels, spec.static, str(source))
        frame = clean_long(frame, layout, spec.rate, spec.max_length, where=str(source))
        arrays = to_arrays(frame, layout)
        layout.constraints = constraints.declared_sequences(
            spec.constraints, layout.channels, arrays.values, arrays.lengths, str(source)
        )
        found = constraints.propose_sequences(layout.channels, arrays.values, arrays.lengths)
        proposed = constraints.proposals(found, layout.constraints, "entity")
        train, holdout = split_entities(
            frame, layout, params.holdout_fraction, seed, params.min_holdout_rows, str(source), params.split
        )
        write_parquet(train, out / "train.parquet")
        write_parquet(holdout, out / "holdout.parquet")
        entity = spec.entity
        summary = dict(
            entities=frame[entity].nunique(), train=train[entity].nunique(), holdout=holdout[entity].nunique()
        )
        summary.update(channels=len(layout.channels), static=len(layout.static), length=layout.length)
        recorded = {**layout.to_json(), **({"split": params.split} if params.split != "stratified" else {}), **proposed}
        done = {"target": spec.target, "split": params.split, "constraints": len(layout.constraints)}
        return recorded, {**summary, **done, "proposed_constraints": len(proposed.get("proposed_constraints", []))}

    def fit(
        self, prepared: Prepared, data: Path, params: TrainParams, seed: int, spec: DatasetSpec, schema: Path | None
    ) -> tuple[SequenceSynthesizer, dict]:
        layout = SequenceLayout.from_json(prepared.layout)
        synth = SequenceSynthesizer(layout, params.model, seed, params).fit(read_table(data), where=str(data))
        return synth, {"entities": synth.meta["n_entities"]}

    def sample(
        self, synth: SequenceSynthesizer, out: Path, params: SampleParams, seed: int, world: World, model_dir: Path
    ) -> tuple[int, dict]:
        """`rows` counts entities here: whole sequences are the unit."""
        layout = synth.layout
        counts = None
        n = params.rows if params.rows is not None else math.ceil(params.multiple * synth.meta["n_entities"])
        if params.mode == "balance":
            if not layout.target:
                raise SynthgenError(f"{model_dir}: sample.mode balance needs a label (--target)")
            counts = balance_counts(dict(zip(layout.classes, synth.meta["class_counts"], strict=True)), params.rows)
            n = sum(counts.values())
        if n == 0:
            raise SynthgenError(f"{out}: zero entities to sample; raise sample.rows (classes may already be balanced)")
        start = time.perf_counter()
        frame = synth.sample(n, params.conditions, counts, seed=seed)
        elapsed = time.perf_counter() - start
        with atomic_path(out) as tmp:
            write_parquet_batches([frame], tmp, synth.provenance())
        return n, {"entities": n, "rows": len(frame), "entities_per_s": round(n / elapsed, 1)}

    def score(self, job: ToJudge) -> Scored:
        """Synthetic entities against train and holdout, on the real channels' scale."""
        from synthgen.validation.base import Context
        from synthgen.validation.sequences import SequenceContext

        layout = SequenceLayout.from_json(job.prepared.layout)
        real, holdout, synthetic = (read_table(p) for p in job.tables)
        problems = _problems(synthetic, layout)
        # The schema suite judges steps; entity ids repeat by design and are fresh in synthetic data.
        steps = [frame.drop(columns=[layout.entity], errors="ignore") for frame in (real, holdout, synthetic)]
        table_schema = infer_schema(steps[0], layout.target, where=str(job.train))
        ctx = SequenceContext(
            *standardised(layout, real, holdout, None if problems else synthetic),
            job.seed,
            job.out_dir,
            Context(*steps, table_schema, job.seed, job.out_dir),
        )
        if layout.constraints:  # judged on the real scale, entity by entity
            arrays = [to_arrays(f, layout) for f in (real, holdout, *([] if problems else [synthetic]))]
            ctx.constraints = {
                "rules": layout.constraints,
                "channels": layout.channels,
                **dict(zip(("train", "holdout", "synthetic"), ((a.values, a.lengths) for a in arrays), strict=False)),
            }
        counts = {
            "train": real[layout.entity].nunique(),
            "holdout": holdout[layout.entity].nunique(),
            "synthetic": synthetic[layout.entity].nunique() if layout.entity in synthetic else 0,
        }
        inputs = {"real": real, "synthetic": synthetic, "layout": layout}
        return Scored(ctx, problems, counts, ("discriminative_score", "sequence_near_copies"), inputs)

    def report(self, metrics: dict[str, Any], scored: Scored, out_dir: Path, title: str) -> Path:
        from synthgen.reporting.sequences import write_sequence_report
        from synthgen.validation.sequences import nearest_distances

        distances = None if scored.problems else nearest_distances(scored.context)
        inputs = scored.report_inputs
        return write_sequence_report(
            metrics, inputs["real"], inputs["synthetic"], inputs["layout"], distances, out_dir, title
        )

    def augment_target(self, prepared: Prepared, params: AugmentParams, target: str | None) -> str | None:
        if params.strategy == "balance":
            raise SynthgenError(
                "augment.strategy balance counts rows; for sensor data sample with sample.mode: balance "
                "(whole entities per class) and augment with strategy append"
            )
        return None

    def export(self, source: Path, out: Path) -> int:
        raise SynthgenError(f"{source}: sensor data needs no export, the long-format Parquet file is the deliverable")


def _problems(synthetic: pd.DataFrame, layout: SequenceLayout) -> list[str]:
    """What keeps the sequence checks from reading the synthetic set at all."""
    problems = [f"column {c!r} is missing" for c in layout.columns if c not in synthetic.columns]
    if not problems and synthetic[layout.channels].isna().any().any():
        problems.append("channels have missing values")
    if not problems:
        bad = [c for c in layout.channels if not pd.api.types.is_numeric_dtype(synthetic[c])]
        problems += [f"channel {c!r} is not numeric" for c in bad]
    return problems


def standardised(layout: SequenceLayout, train: pd.DataFrame, *others: pd.DataFrame | None) -> list[Any]:
    """Padded arrays scaled by the real train channels' mean and std (the checks' common yardstick);
    None stays None."""
    from synthgen.validation.sequences import Sequences

    steps = train[layout.channels].to_numpy(float)
    mean, std = steps.mean(axis=0), np.where(steps.std(axis=0) > 0, steps.std(axis=0), 1.0)

    def scaled(frame: pd.DataFrame) -> Sequences:
        arrays = to_arrays(frame, layout)
        return Sequences(((arrays.values - mean) / std).astype(np.float32), arrays.lengths)

    return [scaled(f) if f is not None else None for f in (train, *others)]


MODALITIES.register("sensor")(Sensor())
