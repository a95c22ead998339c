"""The stages for images (`modality: image`): same files and verdicts as the tabular stages, with one
row per image (PNG bytes, label, width, height) in every Parquet file."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen.config import IngestParams, SampleParams, TrainParams, ValidateParams
from synthgen.data.images import LABEL, ImageLayout, from_table, read_images, split_images, to_table
from synthgen.data.schema import infer_schema
from synthgen.errors import GateFailed, SynthgenError
from synthgen.image_synthesizer import ImageSynthesizer
from synthgen.io import atomic_path, read_json, read_table, write_json, write_parquet, write_parquet_batches
from synthgen.pipeline import save_model, timed
from synthgen.sampling.plan import balance_counts

LAYOUT = "images.json"
SAMPLE_BATCH = 1000


def ingest(
    source: str | Path, out_dir: str | Path, params: IngestParams, seed: int, size: int | None, label: str | None
) -> ImageLayout:
    """Images → train.parquet and holdout.parquet (PNG rows, split per class) plus images.json."""
    with timed("ingest") as summary:
        images, layout = read_images(source, size, label or LABEL)
        train, holdout = split_images(images, params.holdout_fraction, seed, params.min_holdout_rows, str(source))
        with atomic_path(out_dir) as tmp:
            tmp.mkdir(parents=True)
            write_parquet(to_table(train, layout), tmp / "train.parquet")
            write_parquet(to_table(holdout, layout), tmp / "holdout.parquet")
            write_json(layout.to_json(), tmp / LAYOUT)
        summary.update(
            images=len(images.labels),
            train=len(train.labels),
            holdout=len(holdout.labels),
            size=layout.size,
            channels=layout.channels,
            bits=layout.depth,
            classes=len(layout.classes),
        )
    return layout


def load_layout(prepared: str | Path) -> ImageLayout:
    path = Path(prepared) / LAYOUT
    if not path.exists():
        raise SynthgenError(f"{path}: not found; run `synthgen ingest` for this image dataset first")
    return ImageLayout.from_json(read_json(path))


def train(
    data: str | Path, layout: ImageLayout, out_dir: str | Path, params: TrainParams, seed: int, loss_csv: Path | None
) -> ImageSynthesizer:
    with timed("train") as summary:
        images = from_table(read_table(data), layout, str(data))
        synth = ImageSynthesizer(layout, params.model, seed, params).fit(images)
        save_model(synth, out_dir, loss_csv)
        summary.update(model=params.model, images=len(images.labels), saved=str(out_dir))
    return synth


def _plan(synth: ImageSynthesizer, params: SampleParams, seed: int, where: Any) -> np.ndarray:
    """The class of every image to draw: proportional, one class (conditions), or balancing."""
    layout = synth.layout
    if params.mode == "balance":
        counts = balance_counts(dict(zip(layout.classes, synth.meta["class_counts"], strict=True)), params.rows)
        return np.concatenate([np.full(k, c, dtype=object) for c, k in counts.items()] or [np.array([], object)])
    n = params.rows if params.rows is not None else math.ceil(params.multiple * synth.meta["n_images"])
    unknown = set(params.conditions) - {LABEL}
    if unknown:
        raise SynthgenError(f"{where}: images can only be conditioned on {LABEL!r}, not {sorted(unknown)}")
    if LABEL in params.conditions:
        return np.full(n, str(params.conditions[LABEL]), dtype=object)
    return synth.class_plan(n, seed)


def sample(model_dir: str | Path, out: str | Path, params: SampleParams, seed: int) -> int:
    """`rows` counts images; written in batches of PNG rows."""
    with timed("sample") as summary:
        synth = ImageSynthesizer.load(model_dir)
        labels = _plan(synth, params, seed, model_dir)
        if len(labels) == 0:
            raise SynthgenError(f"{out}: zero images to sample; raise sample.rows (classes may already be balanced)")
        start = time.perf_counter()

        def batches() -> Iterator[pd.DataFrame]:
            for b in range(math.ceil(len(labels) / SAMPLE_BATCH)):
                part = labels[b * SAMPLE_BATCH : (b + 1) * SAMPLE_BATCH]
                yield to_table(synth.sample(part, seed=seed + b, batch_size=SAMPLE_BATCH), synth.layout)

        rows = write_parquet_batches(batches(), out)
        elapsed = time.perf_counter() - start
        summary.update(images=rows, images_per_s=round(rows / elapsed, 1), out=str(out))
    return rows


def summary_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per image for the schema suite: label and stated size. (Brightness and contrast
    ranges were tried: a strict range fails on one image in a thousand that real holdouts share.)"""
    return frame[[c for c in frame.columns if c != "image"]]


def validate(
    train_path: str | Path,
    holdout_path: str | Path,
    synthetic_path: str | Path,
    layout: ImageLayout,
    out_dir: str | Path,
    params: ValidateParams,
    seed: int,
) -> dict[str, Any]:
    """Score synthetic images against train and holdout; raise GateFailed when the gate fails."""
    from synthgen.reporting.images import write_image_report
    from synthgen.validation.base import Context
    from synthgen.validation.binding import bind
    from synthgen.validation.gate import compact_metrics, failed_checks, judge_all, summary_table
    from synthgen.validation.images import ImageContext

    with timed("validate") as summary:
        tables = {"train": read_table(train_path), "holdout": read_table(holdout_path)}
        real, holdout = (
            from_table(tables[k], layout, str(p)) for k, p in (("train", train_path), ("holdout", holdout_path))
        )
        problems: list[str] = []
        synthetic_table = read_table(synthetic_path)
        try:
            synthetic = from_table(synthetic_table, layout, str(synthetic_path))
        except SynthgenError as exc:
            problems.append(str(exc))
            synthetic = None
        out_dir = Path(out_dir)
        summaries = [summary_rows(tables["train"]), summary_rows(tables["holdout"])]
        synthetic_rows = summary_rows(synthetic_table) if synthetic is not None else summaries[0].iloc[:0]
        schema = infer_schema(summaries[0], LABEL, where=str(train_path))
        ctx = ImageContext(
            real,
            holdout,
            synthetic,
            layout.classes,
            seed,
            out_dir,
            Context(*summaries, synthetic_rows, schema, seed, out_dir),
        )
        result = judge_all(ctx, params, "image", problems)
        counts = {"train": len(real.labels), "holdout": len(holdout.labels), "synthetic": len(synthetic_table)}
        metrics = bind({**result, "rows": counts}, synthetic_path)
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(compact_metrics(metrics), out_dir / "metrics.json")
        write_json(metrics, out_dir / "details.json")
        report = write_image_report(metrics, ctx, out_dir, f"synthgen image report: {Path(synthetic_path).name}")
        print(summary_table(metrics), flush=True)
        scores = {k: v["score"] for k, v in metrics["checks"].items() if k in ("image_detection", "image_near_copies")}
        summary.update(
            synthetic=counts["synthetic"],
            gate="passed" if metrics["passed"] else "FAILED",
            **scores,
            report=str(report),
        )
    if not metrics["passed"]:
        raise GateFailed(
            f"validation gate failed on {', '.join(failed_checks(metrics))}; see {out_dir / 'metrics.json'}"
        )
    return metrics
