"""Images (`modality: image`): class-labelled images of one size, one Parquet row per image (PNG
bytes, label, width, height) in every table; exported as a class-per-folder PNG tree."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen.config import AugmentParams, DatasetSpec, IngestParams, SampleParams, TrainParams
from synthgen.data.images import (
    IMAGE,
    LABEL,
    ImageLayout,
    export_folders,
    from_table,
    read_images,
    split_images,
    summary_rows,
    to_table,
)
from synthgen.data.schema import infer_schema
from synthgen.errors import SynthgenError
from synthgen.io import read_table, write_parquet, write_parquet_batches
from synthgen.modalities.base import Prepared, Scored, ToJudge
from synthgen.modalities.image.synthesizer import ImageSynthesizer
from synthgen.registry import MODALITIES
from synthgen.sampling.parts import World
from synthgen.sampling.plan import balance_counts

__all__ = ["Image", "ImageSynthesizer"]
SAMPLE_BATCH = 1000


class Image:
    """Labelled images, judged on pixels and on a small CNN's features."""

    name = "image"
    synthesizer = ImageSynthesizer
    unit = "images"
    splits = ("stratified",)  # ingest.split values: per class
    distributed_sampling = False

    def ingest(self, spec: DatasetSpec, out: Path, params: IngestParams, seed: int) -> tuple[dict, dict]:
        """Images → train.parquet and holdout.parquet (PNG rows, split per class)."""
        images, layout = read_images(spec.source, spec.image_size, spec.target or LABEL)
        train, holdout = split_images(images, params.holdout_fraction, seed, params.min_holdout_rows, str(spec.source))
        write_parquet(to_table(train, layout), out / "train.parquet")
        write_parquet(to_table(holdout, layout), out / "holdout.parquet")
        summary = dict(images=len(images.labels), train=len(train.labels), holdout=len(holdout.labels))
        summary.update(size=layout.size, channels=layout.channels, bits=layout.depth, classes=len(layout.classes))
        return layout.to_json(), summary

    def fit(
        self, prepared: Prepared, data: Path, params: TrainParams, seed: int, spec: DatasetSpec, schema: Path | None
    ) -> tuple[ImageSynthesizer, dict]:
        layout = ImageLayout.from_json(prepared.layout)
        images = from_table(read_table(data), layout, str(data))
        synth = ImageSynthesizer(layout, params.model, seed, params).fit(images)
        return synth, {"images": len(images.labels)}

    def sample(
        self, synth: ImageSynthesizer, out: Path, params: SampleParams, seed: int, world: World, model_dir: Path
    ) -> tuple[int, dict]:
        """`rows` counts images; written in batches of PNG rows."""
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
        return rows, {"images": rows, "images_per_s": round(rows / elapsed, 1)}

    def score(self, job: ToJudge) -> Scored:
        """Synthetic images against train and holdout; unreadable synthetic rows are schema problems."""
        from synthgen.validation.base import Context
        from synthgen.validation.images import ImageContext

        layout = ImageLayout.from_json(job.prepared.layout)
        train_table, holdout_table, synthetic_table = (read_table(p) for p in job.tables)
        real = from_table(train_table, layout, str(job.train))
        holdout = from_table(holdout_table, layout, str(job.holdout))
        problems: list[str] = []
        try:
            synthetic = from_table(synthetic_table, layout, str(job.synthetic))
        except SynthgenError as exc:
            problems.append(str(exc))
            synthetic = None
        summaries = [summary_rows(train_table), summary_rows(holdout_table)]
        synthetic_rows = summary_rows(synthetic_table) if synthetic is not None else summaries[0].iloc[:0]
        table_schema = infer_schema(summaries[0], LABEL, where=str(job.train))
        rows_context = Context(*summaries, synthetic_rows, table_schema, job.seed, job.out_dir)
        ctx = ImageContext(real, holdout, synthetic, layout.classes, job.seed, job.out_dir, rows_context)
        counts = {"train": len(real.labels), "holdout": len(holdout.labels), "synthetic": len(synthetic_table)}
        return Scored(ctx, problems, counts, ("image_detection", "image_near_copies"))

    def report(self, metrics: dict[str, Any], scored: Scored, out_dir: Path, title: str) -> Path:
        from synthgen.reporting.images import write_image_report

        return write_image_report(metrics, scored.context, out_dir, title)

    def augment_target(self, prepared: Prepared, params: AugmentParams, target: str | None) -> str | None:
        return LABEL

    def export(self, source: Path, out: Path) -> int:
        frame = read_table(source)
        missing = [c for c in (IMAGE, LABEL) if c not in frame.columns]
        if missing:
            raise SynthgenError(f"{source}: column(s) {missing} missing; export reads image tables written by synthgen")
        out.mkdir(parents=True)
        return export_folders(frame, out)


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


MODALITIES.register("image")(Image())
