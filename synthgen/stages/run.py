"""run: every stage for one source, without DVC, built in a temporary sibling of --out that
replaces it at the end. Bad input leaves --out untouched; a failed gate still delivers its metrics
and report (but no augmented.parquet), since that is what a reviewer needs to see."""

from __future__ import annotations

import logging
from pathlib import Path

from synthgen import modalities
from synthgen.config import DatasetSpec, Params
from synthgen.errors import GateFailed, SynthgenError
from synthgen.io import atomic_path, claim_output_dir, mark_output_dir
from synthgen.modalities.base import read_prepared
from synthgen.registry import MODELS
from synthgen.stages.augment import augment
from synthgen.stages.ingest import ingest
from synthgen.stages.names import check_names
from synthgen.stages.sample import sample
from synthgen.stages.train import train
from synthgen.stages.validate import validate

log = logging.getLogger("synthgen")


def run(spec: DatasetSpec, out_dir: str | Path, params: Params, seed: int) -> None:
    """ingest → train → sample → validate → augment into `out_dir` (prepared/, model/, loss.csv,
    synthetic.parquet, metrics.json, report.html, augmented.parquet).

    When params.train.model is of another modality, the modality's own default model trains (with
    its own default config), so `synthgen run --modality image` needs no params file.
    """
    modality = modalities.get(spec.modality)
    train_params = params.train
    if MODELS.get(train_params.model).modality != modality.name:
        default = modality.synthesizer.default_model
        train_params = train_params.model_copy(update={"model": default, "model_config_": {}})
    if train_params.devices == "auto":
        # One process: `run` builds everything in one temporary directory, which DDP's extra
        # processes (each rerunning this command) must not share. Several: the train stage.
        train_params = train_params.model_copy(update={"devices": 1})
    if train_params.devices not in (1, "1") or train_params.num_nodes != 1:
        raise SynthgenError(
            f"synthgen run trains in one process (train.devices {train_params.devices!r}, num_nodes "
            f"{train_params.num_nodes}); set devices: 1, or train on several with `synthgen train` / `dvc repro`"
        )
    params = params.model_copy(update={"train": train_params})
    check_names(params, "--model/--params")
    gate_failure: GateFailed | None = None
    claim_output_dir(out_dir)
    with atomic_path(out_dir) as out:
        out.mkdir(parents=True)
        mark_output_dir(out)
        ingest(spec, out / "prepared", params.ingest, seed)
        prepared = read_prepared(out / "prepared")
        target = modality.augment_target(prepared, params.augment, spec.target)  # refuses a bad strategy early
        train(prepared.train, out / "model", train_params, seed, spec, loss_csv=out / "loss.csv")
        sample(out / "model", out / "synthetic.parquet", params.sample, seed, accelerator=train_params.accelerator)
        try:
            validate(prepared.train, prepared.holdout, out / "synthetic.parquet", out, params.validate_, seed, spec)
        except GateFailed as exc:  # name the final directory, not the temporary one
            gate_failure = GateFailed(str(exc).replace(str(out), str(out_dir)))
        if gate_failure is None:
            metrics = out / "metrics.json"
            augment(
                prepared.train, out / "synthetic.parquet", out / "augmented.parquet", params.augment, metrics, target
            )
    log.info("run: outputs in %s", out_dir)
    if gate_failure is not None:
        raise gate_failure
