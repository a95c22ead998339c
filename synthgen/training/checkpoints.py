"""Where an interrupted training leaves its checkpoints, and which one a rerun resumes from.

The train stage names a directory beside the model's output (`models/<ds>.partial/`); each fit of
a synthesizer (a sensor model fits its attributes, then its sequences) keeps its own subdirectory.
A subdirectory holds `run.json` (a fingerprint of the data, model, params and seed),
`resume-step=N.ckpt` (the latest, every `train.checkpoint_every` steps; the best weights so far
travel inside it) and `final.ckpt` (the fit completed). A fingerprint that differs means
another run's leftovers, which are discarded: a resume never mixes two runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np

from synthgen.config import TrainParams
from synthgen.io import write_json

log = logging.getLogger("synthgen.training")
RUN_FILE = "run.json"
FINAL = "final.ckpt"
_ROOT: ContextVar[Path | None] = ContextVar("synthgen_checkpoint_root", default=None)
# Settings that may change between an interrupted run and its rerun without changing what it trains.
_NOT_FINGERPRINTED = {
    "max_time",
    "checkpoint_every",
    "progress_every",
    "accelerator",
    "devices",
    "num_nodes",
    "strategy",
}


@contextmanager
def resumable(directory: str | Path) -> Iterator[Path]:
    """Fits inside this block checkpoint into (and resume from) `directory`."""
    token = _ROOT.set(Path(directory))
    try:
        yield Path(directory)
    finally:
        _ROOT.reset(token)


def checkpoint_dir(name: str) -> Path | None:
    """The directory of the fit called `name` inside the current `resumable` block, if any."""
    root = _ROOT.get()
    return root / name if root is not None else None


def fingerprint(
    model_name: str,
    model_config: dict,
    arrays: Sequence[np.ndarray],
    params: TrainParams,
    seed: int,
    parameters: Sequence[str] = (),
) -> str:
    """Identifies what a fit trains, so a rerun resumes only its own run's checkpoints. `parameters`
    (the state dict's names, in order, and the optimizer groups' sizes) tells apart checkpoints of a
    model whose layout a synthgen version changed: their optimizer state maps onto parameters by
    group and position."""
    digest = hashlib.sha256()
    settings = params.model_dump(exclude=_NOT_FINGERPRINTED)
    payload = [model_name, model_config, settings, seed, list(parameters)]
    digest.update(json.dumps(payload, sort_keys=True, default=str).encode())
    for a in arrays:
        digest.update(str((a.shape, a.dtype)).encode())
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()[:16]


def _ours(directory: Path) -> list[Path]:
    return [*directory.glob("*.ckpt"), *directory.glob("*.ckpt.tmp"), directory / RUN_FILE]


def _remove(paths: list[Path]) -> None:
    """Files only: synthgen writes no directories there, so a directory is never its to delete."""
    for path in paths:
        if path.is_file():
            path.unlink()


def prepare(directory: Path, token: str) -> Path | None:
    """Claim `directory` for the run `token`; returns the checkpoint to resume from, if one is usable."""
    run_file = directory / RUN_FILE
    if run_file.exists():
        if json.loads(run_file.read_text()).get("run") == token:
            return latest(directory)
        log.warning("%s: checkpoints of another run (other data, model, params or seed); starting afresh", directory)
        _remove(_ours(directory))
    directory.mkdir(parents=True, exist_ok=True)
    write_json({"run": token}, run_file)
    return None


def _step(path: Path) -> int:
    found = re.search(r"step=(\d+)", path.name)
    return int(found.group(1)) if found else -1


def latest(directory: Path) -> Path | None:
    """The completed fit, else the newest periodic checkpoint. Both are written to a temporary name
    and renamed, so a kill mid-write leaves the one before; a damaged file is skipped all the same."""
    candidates = [directory / FINAL] + sorted(directory.glob("resume-*.ckpt"), key=_step, reverse=True)
    for path in candidates:
        if path.is_file() and zipfile.is_zipfile(path):
            return path
        if path.exists():
            log.warning("%s: incomplete checkpoint (interrupted while written); ignoring it", path)
    return None


def discard(root: Path) -> None:
    """Remove a finished run's checkpoints: only what synthgen wrote there, then the directory if empty."""
    if not root.is_dir():
        return
    for sub in [*root.iterdir(), root]:
        if sub.is_dir() and (sub / RUN_FILE).exists():
            _remove(_ours(sub))
        if sub.is_dir() and sub != root and not any(sub.iterdir()):
            sub.rmdir()
    if not any(root.iterdir()):
        root.rmdir()
