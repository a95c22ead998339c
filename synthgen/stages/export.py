"""export: a synthetic or augmented set in its modality's native form (images: a PNG tree)."""

from __future__ import annotations

import logging
from pathlib import Path

from synthgen import modalities
from synthgen.io import atomic_path

log = logging.getLogger("synthgen")


def export(source: str | Path, out: str | Path, modality: str = "image") -> int:
    """Write `source` (a Parquet from sample or augment) into the new directory `out`, atomically."""
    with atomic_path(out) as tmp:
        n = modalities.get(modality).export(Path(source), tmp)
    log.info("export: %d %s into %s", n, modalities.get(modality).unit, out)
    return n
