"""ingest: a raw source → prepared/{train,holdout}.parquet and layout.json (plus what the modality
adds, such as the table schema), written together or not at all."""

from __future__ import annotations

from pathlib import Path

from synthgen import modalities
from synthgen.config import DatasetSpec, IngestParams
from synthgen.errors import SynthgenError
from synthgen.io import atomic_path
from synthgen.modalities.base import record_layout
from synthgen.stages.timing import timed


def ingest(spec: DatasetSpec, out_dir: str | Path, params: IngestParams, seed: int) -> dict:
    """Read `spec.source` as `spec.modality`, split train/holdout by the modality's unit and record
    the layout; returns the recorded layout."""
    if spec.source is None:
        raise SynthgenError("synthgen ingest: give --source FILE (or `source:` in the dataset spec)")
    modality = modalities.get(spec.modality)
    splits = getattr(modality, "splits", ("stratified",))  # the ways its unit can be split
    if params.split not in splits:
        raise SynthgenError(f"ingest.split {params.split}: {modality.name} data splits by {', '.join(splits)} only")
    kinds = getattr(modality, "constraint_kinds", ())  # the constraints: its synthesizer keeps
    unsupported = sorted({rule.kind for rule in spec.constraints} - set(kinds))
    if unsupported:
        raise SynthgenError(
            f"constraints: {', '.join(unsupported)} is not kept for {modality.name} data "
            f"({'its kinds: ' + ', '.join(kinds) if kinds else 'it keeps none'}); drop it from the spec"
        )
    with timed("ingest") as summary:
        with atomic_path(out_dir) as tmp:
            tmp.mkdir(parents=True)
            layout, done = modality.ingest(spec, tmp, params, seed)
            record_layout(tmp, modality.name, layout)
        summary.update(modality=modality.name, **done)
    return layout
