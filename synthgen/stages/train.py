"""train: the prepared train table → a fitted synthesizer saved as data in the model directory,
and its loss curve for `dvc plots`.

Checkpoints go to `<out_dir>.partial/` while it trains; a rerun after a crash resumes from them,
and they are removed once the model is saved."""

from __future__ import annotations

from pathlib import Path

from synthgen import modalities
from synthgen.config import DatasetSpec, TrainParams
from synthgen.errors import SynthgenError
from synthgen.io import atomic_path
from synthgen.modalities.base import LAYOUT_FILE, Prepared, read_prepared
from synthgen.stages.timing import timed
from synthgen.synthesizer import BaseSynthesizer
from synthgen.training import checkpoints


def partial_dir(out_dir: str | Path) -> Path:
    """Where a training of `out_dir` keeps its resume checkpoints: beside it, never inside."""
    out_dir = Path(out_dir)
    return out_dir.with_name(out_dir.name + ".partial")


def train(
    data: str | Path,
    out_dir: str | Path,
    params: TrainParams,
    seed: int,
    spec: DatasetSpec | None = None,
    schema: str | Path | None = None,
    loss_csv: str | Path | None = None,
) -> BaseSynthesizer:
    """Fit `params.model` on `data`, whose modality ingest recorded beside it (a table otherwise).

    Args:
        spec: the dataset's options (target, column overrides); default: none.
        schema: a tabular schema.json to train against; default: inferred from `data`.
        loss_csv: where to write the loss curve (step, train_loss, val_loss); default: nowhere.
    """
    data = Path(data)
    with timed("train") as summary:
        prepared = read_prepared(data.parent)
        _check_split_for_privacy(prepared, params)
        modality = modalities.get(prepared.modality)
        schema_path = Path(schema) if schema is not None else None
        with checkpoints.resumable(partial_dir(out_dir)):
            synth, done = modality.fit(prepared, data, params, seed, spec or DatasetSpec(), schema_path)
        if not synth.is_global_zero:
            summary.update(rank=synth.global_rank, saved="by rank 0")
            return synth
        save_model(synth, out_dir, loss_csv)
        checkpoints.discard(partial_dir(out_dir))
        summary.update(model=params.model, **done, **synth.training_summary, saved=str(out_dir))
    return synth


def _check_split_for_privacy(prepared: Prepared, params: TrainParams) -> None:
    """A DP guarantee on train covers the whole table only if no row decides where another goes;
    ingest's stratified split does (one more row of a class moves others), a row_hash split does not."""
    if not params.privacy.enabled or not (prepared.directory / LAYOUT_FILE).exists():
        return  # no privacy asked, or tables ingest did not split (the user's own train table)
    if prepared.layout.get("split", "stratified") != "row_hash":
        raise SynthgenError(
            f"{prepared.directory}: train.privacy needs a split where no row moves another, but ingest split this "
            "per class; set ingest.split: row_hash and rerun ingest"
        )


def save_model(synth: BaseSynthesizer, out_dir: str | Path, loss_csv: str | Path | None) -> None:
    """A fitted synthesizer to its directory, and its loss curve beside the reports."""
    synth.save(out_dir)
    if loss_csv is not None and synth.loss_curve is not None:
        with atomic_path(loss_csv) as tmp:
            synth.loss_curve.to_csv(tmp, index=False)
