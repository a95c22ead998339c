"""train: the prepared train table → a fitted synthesizer saved as data in the model directory,
and its loss curve for `dvc plots`."""

from __future__ import annotations

from pathlib import Path

from synthgen import modalities
from synthgen.config import DatasetSpec, TrainParams
from synthgen.io import atomic_path
from synthgen.modalities.base import read_prepared
from synthgen.stages.timing import timed
from synthgen.synthesizer import BaseSynthesizer


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
        modality = modalities.get(prepared.modality)
        schema_path = Path(schema) if schema is not None else None
        synth, done = modality.fit(prepared, data, params, seed, spec or DatasetSpec(), schema_path)
        save_model(synth, out_dir, loss_csv)
        summary.update(model=params.model, **done, saved=str(out_dir))
    return synth


def save_model(synth: BaseSynthesizer, out_dir: str | Path, loss_csv: str | Path | None) -> None:
    """A fitted synthesizer to its directory, and its loss curve beside the reports."""
    synth.save(out_dir)
    if loss_csv is not None and synth.loss_curve is not None:
        with atomic_path(loss_csv) as tmp:
            synth.loss_curve.to_csv(tmp, index=False)
