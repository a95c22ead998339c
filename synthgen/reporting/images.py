"""The image report: verdicts, a real/synthetic sample grid per class, the synthetic images closest
to a training image beside that image, the distance histogram and the loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from synthgen.reporting import figures
from synthgen.reporting.html import escape, loss_section, verdict_table, write_dcr_plot, write_page

PER_SIDE = 8
CLOSEST = 10


def write_image_report(metrics: dict[str, Any], ctx: Any, out_dir: Path, title: str) -> Path:
    """report.html with every figure embedded (it renders offline), and dcr.csv for DVC plots."""
    from synthgen.validation.images import closest_train, image_distances

    rows = metrics["rows"]
    sections = [
        f"<h1>{escape(title)}</h1>",
        f'<div class="banner {"passed" if metrics["passed"] else "failed"}">Gate '
        f"{'PASSED' if metrics['passed'] else 'FAILED'}: {rows['synthetic']:,} synthetic images, "
        f"{rows['train']:,} train, {rows['holdout']:,} holdout</div>",
        "<h2>Verdicts</h2>",
        verdict_table(metrics),
    ]
    if ctx.synthetic is None:
        return write_page(sections + loss_section(out_dir), title, out_dir)
    grids = []
    for name in ctx.classes:
        real = ctx.train.pixels[ctx.train.labels == name][:PER_SIDE]
        synthetic = ctx.synthetic.pixels[ctx.synthetic.labels == name][:PER_SIDE]
        grids.append(figures.image_grid(f"class {name}", real, synthetic, PER_SIDE))
    near, index = closest_train(ctx)
    to_train = near[:, 0]
    holdout_to_train = image_distances(ctx).unseen_to_train[: len(ctx.holdout.pixels)]
    closest = np.argsort(to_train, kind="stable")[:CLOSEST]
    pairs = figures.closest_pairs(ctx.synthetic.pixels[closest], ctx.train.pixels[index[closest, 0]], to_train[closest])
    sections += [
        "<h2>Samples per class: real (top) and synthetic (bottom)</h2>",
        '<div class="grid" id="grids">' + "".join(f'<img alt="sample grid" src="{g}">' for g in grids) + "</div>",
        "<h2>Closest to a training image</h2>",
        f"<p>The {CLOSEST} synthetic images nearest (pixel L2 under flips and 1-pixel moves, shown above each) "
        "to any training image, over that training image. Near-copies would show here first.</p>",
        f'<img id="closest" alt="closest pairs" src="{pairs}">',
        "<h2>Distance to the closest training image</h2>",
        "<p>Synthetic images should sit no closer to train images than unseen real (holdout) ones do.</p>",
        f'<img id="dcr" alt="DCR histogram" src="{figures.dcr_histogram(to_train, holdout_to_train)}">',
    ]
    write_dcr_plot(to_train, holdout_to_train, out_dir / "dcr.csv")
    return write_page(sections + loss_section(out_dir), title, out_dir)
