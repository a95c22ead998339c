"""The sensor report: verdicts, then real and synthetic traces side by side per class, the loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.sequences import SequenceLayout
from synthgen.reporting import figures
from synthgen.reporting.html import constraints_table, escape, loss_section, verdict_table, write_dcr_plot, write_page

TRACES_PER_SIDE = 3


def _examples(frame: pd.DataFrame, layout: SequenceLayout, label: Any) -> list:
    rows = frame if label is None else frame[frame[layout.target] == label]
    ids = rows[layout.entity].drop_duplicates().iloc[:TRACES_PER_SIDE]
    return [rows[rows[layout.entity] == i][layout.channels].to_numpy(float) for i in ids]


def write_sequence_report(
    metrics: dict[str, Any],
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    layout: SequenceLayout,
    distances: tuple[np.ndarray, np.ndarray] | None,
    out_dir: Path,
    title: str,
) -> Path:
    """Write report.html with every figure embedded (it renders offline), and dcr.csv for DVC plots.
    `distances`: nearest-train-sequence distances of synthetic and of holdout sequences."""
    rows = metrics["rows"]
    sections = [
        f"<h1>{escape(title)}</h1>",
        f'<div class="banner {"passed" if metrics["passed"] else "failed"}">Gate '
        f"{'PASSED' if metrics['passed'] else 'FAILED'}: {rows['synthetic']:,} synthetic entities, "
        f"{rows['train']:,} train, {rows['holdout']:,} holdout</div>",
        "<h2>Verdicts</h2>",
        verdict_table(metrics),
        "<h2>Traces: real (left) and synthetic (right)</h2>",
    ]
    labels = sorted(train[layout.target].dropna().unique().tolist()) if layout.target else [None]
    images = [
        figures.traces(
            f"{layout.target} = {label}" if label is not None else "all",
            layout.channels,
            _examples(train, layout, label),
            _examples(synthetic, layout, label),
        )
        for label in labels
    ]
    sections.append(
        '<div class="grid" id="traces">' + "".join(f'<img alt="traces" src="{i}">' for i in images) + "</div>"
    )
    if distances is not None:
        sections += [
            "<h2>Distance to the closest real sequence</h2>",
            "<p>Synthetic sequences should sit no closer to train sequences than unseen real (holdout) ones do.</p>",
            f'<img id="dcr" alt="DCR histogram" src="{figures.dcr_histogram(*distances)}">',
        ]
        write_dcr_plot(*distances, out_dir / "dcr.csv")
    sections += ["<h2>Constraints</h2>", constraints_table(metrics, "sequence_constraints", "entities")]
    return write_page(sections + loss_section(out_dir), title, out_dir)
