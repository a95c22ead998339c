"""export: a synthetic or augmented set in its modality's native form (images: a PNG tree)."""

from __future__ import annotations

from pathlib import Path

from synthgen import modalities
from synthgen.io import atomic_path
from synthgen.stages.timing import timed


def export(source: str | Path, out: str | Path, modality: str = "image") -> int:
    """Write `source` (a Parquet from sample or augment) into the new directory `out`, atomically;
    returns how many units (images, ...) it wrote."""
    chosen = modalities.get(modality)
    with timed("export") as summary, atomic_path(out) as tmp:
        n = chosen.export(Path(source), tmp)
        summary.update(**{chosen.unit: n}, out=str(out))
    return n
