"""The gate's verdict is bound to the synthetic file it judged: validate writes the file's hash into
metrics.json, and augment refuses any synthetic file whose hash is not that of a passed gate. No
path round the gate: not calling validate, nor swapping the file afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthgen.errors import GateFailed, SynthgenError
from synthgen.io import read_json, table_digest


def bind(metrics: dict[str, Any], synthetic_path: str | Path) -> dict[str, Any]:
    """metrics with the judged file's name and SHA-256 added."""
    return {**metrics, "synthetic": {"file": Path(synthetic_path).name, "sha256": table_digest(synthetic_path)}}


def require_passed(metrics_path: str | Path, synthetic_path: str | Path) -> None:
    """Raise unless `metrics_path` is a passed gate for exactly the bytes at `synthetic_path`."""
    metrics_path = Path(metrics_path)
    digest = table_digest(synthetic_path)  # names a missing synthetic file first
    if not metrics_path.exists():
        raise SynthgenError(
            f"{metrics_path}: no metrics.json; run `synthgen validate` on {synthetic_path} first "
            "(augment needs a passed gate)"
        )
    metrics = read_json(metrics_path)
    if not metrics.get("passed"):
        raise GateFailed(f"{metrics_path}: the synthetic set failed validation; refusing to augment")
    judged = (metrics.get("synthetic") or {}).get("sha256")
    if judged != digest:
        raise GateFailed(
            f"{synthetic_path}: not the file {metrics_path} judged (hash differs or is missing); "
            "validate this file before augmenting"
        )
