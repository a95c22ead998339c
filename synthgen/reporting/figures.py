"""Figures as embedded PNG data URIs, so the report opens offline and can be mailed as one file."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REAL, SYNTH = "#1f77b4", "#ff7f0e"


def _png(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def distribution(name: str, real: pd.Series, synth: pd.Series, numeric: bool) -> str:
    """Real vs synthetic: overlaid histograms (numeric) or side-by-side frequencies (categorical)."""
    fig, ax = plt.subplots(figsize=(4, 2.6))
    if numeric:
        r, s = real.dropna().to_numpy(float), synth.dropna().to_numpy(float)
        bins = np.histogram_bin_edges(np.r_[r, s], bins=30) if len(r) + len(s) else 10
        ax.hist(r, bins=bins, density=True, alpha=0.55, color=REAL, label="real")
        ax.hist(s, bins=bins, density=True, alpha=0.55, color=SYNTH, label="synthetic")
    else:
        freq = pd.DataFrame(
            {
                "real": real.astype(str).where(real.notna(), "<NA>").value_counts(normalize=True),
                "synthetic": synth.astype(str).where(synth.notna(), "<NA>").value_counts(normalize=True),
            }
        )
        freq = freq.fillna(0).sort_values("real", ascending=False).head(15)
        x = np.arange(len(freq))
        ax.bar(x - 0.2, freq["real"], 0.4, color=REAL, label="real")
        ax.bar(x + 0.2, freq["synthetic"], 0.4, color=SYNTH, label="synthetic")
        ax.set_xticks(x, [str(i)[:14] for i in freq.index], rotation=30, ha="right", fontsize=7)
    ax.set_title(name, fontsize=9)
    ax.legend(fontsize=7)
    return _png(fig)


def correlation_heatmaps(real: pd.DataFrame, synth: pd.DataFrame) -> str:
    """Real, synthetic and difference of the pairwise correlation matrices."""
    corr_real, corr_synth = real.corr(), synth.corr()
    panels = [
        ("real", corr_real, -1, 1),
        ("synthetic", corr_synth, -1, 1),
        ("|difference|", (corr_real - corr_synth).abs(), 0, 1),
    ]
    size = max(4.0, 0.5 * len(real.columns))
    fig, axes = plt.subplots(1, 3, figsize=(3 * size + 1.5, size))
    for ax, (title, matrix, low, high) in zip(axes, panels, strict=True):
        image = ax.imshow(matrix.to_numpy(), vmin=low, vmax=high, cmap="RdBu_r" if low < 0 else "Reds")
        ax.set_xticks(range(len(matrix)), [c[:12] for c in matrix.columns], rotation=90, fontsize=7)
        ax.set_yticks(range(len(matrix)), [c[:12] for c in matrix.index], fontsize=7)
        ax.set_title(title, fontsize=9)
        fig.colorbar(image, ax=ax, fraction=0.046)
    return _png(fig)


def dcr_histogram(synthetic_to_train: np.ndarray, holdout_to_train: np.ndarray) -> str:
    fig, ax = plt.subplots(figsize=(5, 2.8))
    bins = np.histogram_bin_edges(np.r_[synthetic_to_train, holdout_to_train], bins=30)
    ax.hist(holdout_to_train, bins=bins, density=True, alpha=0.55, color=REAL, label="holdout → train")
    ax.hist(synthetic_to_train, bins=bins, density=True, alpha=0.55, color=SYNTH, label="synthetic → train")
    ax.set_xlabel("distance to closest train row")
    ax.legend(fontsize=8)
    return _png(fig)


def loss_curve(curve: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(5, 2.8))
    for column, color in (("train_loss", REAL), ("val_loss", SYNTH)):
        if column in curve:
            points = curve[["step", column]].dropna()
            ax.plot(
                points["step"], points[column], color=color, label=column, marker="." if column == "val_loss" else None
            )
    ax.set_xlabel("step")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    return _png(fig)


def traces(title: str, channels: list[str], real: list[np.ndarray], synth: list[np.ndarray]) -> str:
    """Real (left) and synthetic (right) sequences of one class, one row per channel."""
    rows = len(channels)
    fig, axes = plt.subplots(rows, 2, figsize=(8, 1.3 * rows + 0.6), sharex=True, squeeze=False)
    for column, (label, seqs, color) in enumerate((("real", real, REAL), ("synthetic", synth, SYNTH))):
        axes[0, column].set_title(f"{title}: {label}", fontsize=9)
        for r, channel in enumerate(channels):
            for seq in seqs:
                axes[r, column].plot(seq[:, r], color=color, alpha=0.6, linewidth=0.8)
            axes[r, 0].set_ylabel(channel, fontsize=7)
            axes[r, column].tick_params(labelsize=6)
    for r in range(rows):  # same y-range left and right, so amplitudes compare at a glance
        low = min(axes[r, 0].get_ylim()[0], axes[r, 1].get_ylim()[0])
        high = max(axes[r, 0].get_ylim()[1], axes[r, 1].get_ylim()[1])
        axes[r, 0].set_ylim(low, high)
        axes[r, 1].set_ylim(low, high)
    fig.tight_layout()
    return _png(fig)


def _show(ax: plt.Axes, pixels: np.ndarray) -> None:
    """One (channels, h, w) image in [0, 1], without axes."""
    image = pixels.transpose(1, 2, 0)
    ax.imshow(image[..., 0] if image.shape[2] == 1 else image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def image_grid(title: str, real: np.ndarray, synthetic: np.ndarray, per_side: int) -> str:
    """One class: real images in the top row, synthetic below (each (n, channels, h, w))."""
    fig, axes = plt.subplots(2, per_side, figsize=(0.9 * per_side, 2.1), squeeze=False)
    for row, (name, images) in enumerate((("real", real), ("synthetic", synthetic))):
        for col in range(per_side):
            ax = axes[row, col]
            if col < len(images):
                _show(ax, images[col])
            else:
                ax.axis("off")
        axes[row, 0].set_ylabel(name, fontsize=7)
    fig.suptitle(title, fontsize=9)
    return _png(fig)


def closest_pairs(synthetic: np.ndarray, train: np.ndarray, distances: np.ndarray) -> str:
    """Synthetic images (top) over their nearest train images (bottom), closest first."""
    fig, axes = plt.subplots(2, len(synthetic), figsize=(0.9 * len(synthetic) + 0.5, 2.3), squeeze=False)
    for col in range(len(synthetic)):
        _show(axes[0, col], synthetic[col])
        _show(axes[1, col], train[col])
        axes[0, col].set_title(f"{distances[col]:.2f}", fontsize=7)
    axes[0, 0].set_ylabel("synthetic", fontsize=7)
    axes[1, 0].set_ylabel("nearest train", fontsize=7)
    return _png(fig)
