"""The stages for sensor data (`modality: sensor`): same files and verdicts as the tabular stages,
with whole entities as the unit (split, sampled, judged), in the input's long format."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen.config import IngestParams, SampleParams, TrainParams, ValidateParams
from synthgen.data.schema import infer_schema
from synthgen.data.sequences import SequenceLayout, clean_long, infer_layout, read_sensor, split_entities, to_arrays
from synthgen.errors import GateFailed, SynthgenError
from synthgen.io import atomic_path, read_json, read_table, write_json, write_parquet
from synthgen.pipeline import save_model, timed
from synthgen.sampling.plan import balance_counts
from synthgen.sequence_synthesizer import SequenceSynthesizer

LAYOUT = "layout.json"


def ingest(
    source: str | Path,
    out_dir: str | Path,
    params: IngestParams,
    seed: int,
    entity: str,
    time_column: str,
    target: str | None = None,
    channels: list[str] | None = None,
    static: list[str] | None = None,
    rate: float | None = None,
    max_length: int = 256,
) -> SequenceLayout:
    """Raw sensor file → checked, regular long tables split by entity, plus layout.json."""
    with timed("ingest") as summary:
        frame = read_sensor(source)
        layout = infer_layout(frame, entity, time_column, target, channels, static, where=str(source))
        frame = clean_long(frame, layout, rate, max_length, where=str(source))
        train, holdout = split_entities(
            frame, layout, params.holdout_fraction, seed, params.min_holdout_rows, where=str(source)
        )
        with atomic_path(out_dir) as tmp:
            tmp.mkdir(parents=True)
            write_parquet(train, tmp / "train.parquet")
            write_parquet(holdout, tmp / "holdout.parquet")
            write_json(layout.to_json(), tmp / LAYOUT)
        summary.update(
            entities=frame[entity].nunique(),
            train=train[entity].nunique(),
            holdout=holdout[entity].nunique(),
            channels=len(layout.channels),
            static=len(layout.static),
            length=layout.length,
            target=target,
        )
    return layout


def load_layout(prepared: str | Path) -> SequenceLayout:
    path = Path(prepared) / LAYOUT
    if not path.exists():
        raise SynthgenError(f"{path}: not found; run `synthgen ingest` for this sensor dataset first")
    return SequenceLayout.from_json(read_json(path))


def train(
    data: str | Path, layout: SequenceLayout, out_dir: str | Path, params: TrainParams, seed: int, loss_csv: Path | None
) -> SequenceSynthesizer:
    with timed("train") as summary:
        frame = read_table(data)
        synth = SequenceSynthesizer(layout, params.model, seed, params).fit(frame, where=str(data))
        save_model(synth, out_dir, loss_csv)
        summary.update(model=params.model, entities=synth.meta["n_entities"], saved=str(out_dir))
    return synth


def sample(model_dir: str | Path, out: str | Path, params: SampleParams, seed: int) -> int:
    """`rows` counts entities here: whole sequences are the unit."""
    with timed("sample") as summary:
        synth = SequenceSynthesizer.load(model_dir)
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
            write_parquet(frame, tmp)
        summary.update(entities=n, rows=len(frame), entities_per_s=round(n / elapsed, 1), out=str(out))
    return n


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


def validate(
    train_path: str | Path,
    holdout_path: str | Path,
    synthetic_path: str | Path,
    layout: SequenceLayout,
    out_dir: str | Path,
    params: ValidateParams,
    seed: int,
) -> dict[str, Any]:
    """Score synthetic entities against train and holdout; raise GateFailed when the gate fails."""
    from synthgen.reporting.sequences import write_sequence_report
    from synthgen.validation.base import Context
    from synthgen.validation.binding import bind
    from synthgen.validation.gate import compact_metrics, failed_checks, judge_all, summary_table
    from synthgen.validation.sequences import SequenceContext, nearest_distances

    with timed("validate") as summary:
        real, holdout, synthetic = read_table(train_path), read_table(holdout_path), read_table(synthetic_path)
        problems = [f"column {c!r} is missing" for c in layout.columns if c not in synthetic.columns]
        if not problems and synthetic[layout.channels].isna().any().any():
            problems.append("channels have missing values")
        if not problems:
            bad = [c for c in layout.channels if not pd.api.types.is_numeric_dtype(synthetic[c])]
            problems += [f"channel {c!r} is not numeric" for c in bad]
        out_dir = Path(out_dir)
        # The schema suite judges steps; entity ids repeat by design and are fresh in synthetic data.
        steps_of = lambda frame: frame.drop(columns=[layout.entity], errors="ignore")  # noqa: E731
        schema = infer_schema(steps_of(real), layout.target, where=str(train_path))
        ctx = SequenceContext(
            *standardised(layout, real, holdout, None if problems else synthetic),
            seed,
            out_dir,
            Context(steps_of(real), steps_of(holdout), steps_of(synthetic), schema, seed, out_dir),
        )
        result = judge_all(ctx, params, "sensor", problems)
        entities = {
            "train": real[layout.entity].nunique(),
            "holdout": holdout[layout.entity].nunique(),
            "synthetic": synthetic[layout.entity].nunique() if layout.entity in synthetic else 0,
        }
        metrics = bind({**result, "rows": entities}, synthetic_path)
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(compact_metrics(metrics), out_dir / "metrics.json")
        write_json(metrics, out_dir / "details.json")
        distances = None if problems else nearest_distances(ctx)
        report = write_sequence_report(
            metrics, real, synthetic, layout, distances, out_dir, f"synthgen sensor report: {Path(synthetic_path).name}"
        )
        print(summary_table(metrics), flush=True)
        scores = {
            k: v["score"] for k, v in metrics["checks"].items() if k in ("discriminative_score", "sequence_near_copies")
        }
        summary.update(
            synthetic=entities["synthetic"],
            gate="passed" if metrics["passed"] else "FAILED",
            **scores,
            report=str(report),
        )
    if not metrics["passed"]:
        raise GateFailed(
            f"validation gate failed on {', '.join(failed_checks(metrics))}; see {out_dir / 'metrics.json'}"
        )
    return metrics
