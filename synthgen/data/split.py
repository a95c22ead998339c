"""Seeded train/holdout split; the holdout is the yardstick for privacy and utility."""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import SynthgenError

log = logging.getLogger(__name__)


def row_hash_holdout(frame: pd.DataFrame, fraction: float, seed: int) -> np.ndarray:
    """Holdout rows by a seeded hash of each row's own values: whether a row is held out depends on
    that row alone, so adding or removing one row moves no other (what a DP guarantee on train needs
    to extend to the whole table)."""
    keys = _row_hashes(frame, _hash_key(seed))
    return keys.astype(np.float64) / 2.0**64 < fraction


def entity_hash_holdout(frame: pd.DataFrame, entity: str, fraction: float, seed: int) -> list:
    """Holdout entities by a seeded hash of each entity's own rows (every column but the id, in the
    given order), not of its id: readers of .ts and .npz files number entities by position, so one
    recording removed would renumber, and move, the ones after it."""
    key = _hash_key(seed)
    rows = _row_hashes(frame.drop(columns=[entity]), key)
    held = []
    for name, index in frame.groupby(entity, sort=False).indices.items():
        digest = hashlib.blake2b(rows[index].tobytes(), digest_size=8, key=key.encode()).digest()
        if int.from_bytes(digest, "little") / 2.0**64 < fraction:
            held.append(name)
    return held


def _hash_key(seed: int) -> str:
    """The 16-character key pandas' row hash takes, from the split's seed."""
    return str(seed).rjust(16, "0")[-16:]


def _row_hashes(frame: pd.DataFrame, key: str) -> np.ndarray:
    """One uint64 per row, from its canonical values (so a column's dtype does not move the hash)."""
    canonical = pd.DataFrame({name: _canonical(frame[name]) for name in frame.columns})
    return pd.util.hash_pandas_object(canonical, index=False, hash_key=key).to_numpy()


def _canonical(values: pd.Series) -> np.ndarray:
    """Each value as text that does not depend on the column's dtype (which the other rows decide:
    one missing value makes an int64 column float64): numbers as float64, the rest as str."""
    numbers = pd.to_numeric(values.astype(object), errors="coerce")  # True: 1.0, in a bool or an object column
    text = values.astype(str).to_numpy(dtype=object)
    as_number = numbers.notna().to_numpy()
    text[as_number] = [repr(float(v)) for v in numbers.to_numpy(dtype=float)[as_number]]
    text[values.isna().to_numpy()] = "\x00missing"
    return text


def split_train_holdout(
    frame: pd.DataFrame,
    schema: Schema,
    fraction: float,
    seed: int,
    min_holdout: int,
    where: str = "input",
    method: str = "stratified",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split per class when there is a class target, so rare classes appear on both sides (or, with
    `method` row_hash, each row by its own hash: `row_hash_holdout`)."""
    if method == "row_hash":
        is_holdout = row_hash_holdout(frame, fraction, seed)
        if is_holdout.sum() < min_holdout:
            raise SynthgenError(
                f"{where}: {len(frame)} rows give only {int(is_holdout.sum())} holdout row(s) (minimum {min_holdout}); "
                "add rows or raise ingest.holdout_fraction"
            )
        return frame[~is_holdout].reset_index(drop=True), frame[is_holdout].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    if schema.is_classification:
        groups = [np.flatnonzero((frame[schema.target] == c).to_numpy()) for c in schema.classes]
    else:
        groups = [np.arange(len(frame))]
    holdout_idx = []
    for idx in groups:
        n_hold = int(round(fraction * len(idx))) if len(idx) > 1 else 0
        holdout_idx.extend(rng.permutation(idx)[:n_hold].tolist())
    if len(holdout_idx) < min_holdout:
        need = int(np.ceil(min_holdout / fraction))
        raise SynthgenError(
            f"{where}: {len(frame)} rows give only {len(holdout_idx)} holdout row(s) (minimum {min_holdout}); "
            f"add rows (about {need} needed) or raise ingest.holdout_fraction"
        )
    is_holdout = np.zeros(len(frame), dtype=bool)
    is_holdout[holdout_idx] = True
    is_holdout = _keep_categories_in_train(frame, schema, is_holdout)
    if is_holdout.sum() < min_holdout:
        raise SynthgenError(
            f"{where}: only {int(is_holdout.sum())} holdout row(s) remain after keeping every category in train "
            f"(minimum {min_holdout}); add rows, merge rare categories, or raise ingest.holdout_fraction"
        )
    train = frame[~is_holdout].reset_index(drop=True)
    for col in schema.columns:
        if train[col.name].isna().all():
            raise SynthgenError(
                f"{where}: column {col.name!r} has values only in holdout rows, none in train; "
                "drop the column or add rows where it is filled"
            )
    return train, frame[is_holdout].reset_index(drop=True)


def _keep_categories_in_train(frame: pd.DataFrame, schema: Schema, is_holdout: np.ndarray) -> np.ndarray:
    """Move holdout rows whose category never occurs in train back to train: a model cannot learn it otherwise."""
    for col in schema.columns:
        if col.kind not in ("categorical", "boolean") or not col.modelled:
            continue
        values = frame[col.name]
        seen = set(values[~is_holdout].dropna().unique())
        only_holdout = is_holdout & values.notna().to_numpy() & ~values.isin(seen).to_numpy()
        if only_holdout.any():
            log.warning(
                "column %r: %d holdout row(s) with a category unseen in train moved to train",
                col.name,
                int(only_holdout.sum()),
            )
            is_holdout = is_holdout & ~only_holdout
    return is_holdout
