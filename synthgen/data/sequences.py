"""Sensor tables: one row per (entity, time step) with channel columns, per-entity attributes and an
optional per-entity label. Checked, repaired where the repair is safe, put on a regular time grid and
turned into padded arrays for the sequence models.

Repairs (each logged): unsorted rows are sorted; short NaN runs in a channel are interpolated along
time; entities with a single step are dropped; irregular timestamps are resampled (linear
interpolation) to one step per `rate` (default: the median interval). Errors: a missing column, a
missing entity id or time, duplicate timestamps, a channel empty for a whole entity, a label or an
attribute that changes within an entity. Sequences longer than `max_length` are cut to it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.split import entity_hash_holdout
from synthgen.errors import SynthgenError
from synthgen.io import read_table, resolve_source

log = logging.getLogger(__name__)
MIN_ENTITIES = 4
LENGTH = "__length"  # the per-entity length, modelled with the attributes


@dataclass
class SequenceLayout:
    """Which column plays which part, and the time grid; saved as JSON with the model."""

    entity: str
    time: str
    channels: list[str]
    static: list[str] = field(default_factory=list)
    target: str | None = None
    time_is_datetime: bool = False
    time_dtype: str = "float64"
    step: float = 1.0  # seconds for datetimes, time units otherwise
    length: int = 0  # padded length (the longest sequence, capped at max_length)
    classes: list[Any] = field(default_factory=list)
    dtypes: dict[str, str] = field(default_factory=dict)
    constraints: list[dict[str, Any]] = field(default_factory=list)  # the spec's, checked (data/constraints.py)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        return out if self.constraints else {k: v for k, v in out.items() if k != "constraints"}  # older bytes stay

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SequenceLayout:
        """Its own fields only: layout.json also holds what ingest adds about the prepared data (the split,
        proposed constraints)."""
        own = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in own})

    @property
    def columns(self) -> list[str]:
        return [self.entity, self.time, *self.channels, *self.static, *([self.target] if self.target else [])]


def _show(value: Any) -> str:
    """A value as a user typed it (2, 'a'), not as numpy prints it (np.int64(2))."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _require(frame: pd.DataFrame, names: list[str], where: str, what: str) -> None:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise SynthgenError(
            f"{where}: {what} column(s) {missing} not found; columns are {list(frame.columns)[:20]}; "
            "fix the spec or the flags"
        )


def _times(values: pd.Series, name: str, where: str) -> tuple[pd.Series, bool]:
    """Time as float: seconds since the epoch for datetimes, the value itself for numbers."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float), False
    parsed = pd.to_datetime(values, errors="coerce", utc=True)
    bad = parsed.isna() & values.notna()
    if bad.any():
        raise SynthgenError(
            f"{where}: time column {name!r} has values that are neither numbers nor dates "
            f"(e.g. {values[bad].iloc[0]!r}); fix them or choose another --time column"
        )
    return parsed.astype("int64").astype(float) / 1e9, True


def infer_layout(
    frame: pd.DataFrame,
    entity: str,
    time: str,
    target: str | None = None,
    channels: list[str] | None = None,
    static: list[str] | None = None,
    where: str = "input",
) -> SequenceLayout:
    """Channels: numeric columns that vary within an entity; static: columns constant within each."""
    _require(frame, [entity, time, *([target] if target else []), *(channels or []), *(static or [])], where, "named")
    rest = [c for c in frame.columns if c not in (entity, time, target)]
    grouped = frame.groupby(entity, sort=False)
    varies = {c: bool((grouped[c].nunique(dropna=False) > 1).any()) for c in rest}
    if static is None:
        static = [c for c in rest if not varies[c] and c not in (channels or [])]
    if channels is None:
        channels = [c for c in rest if c not in static]
    not_numeric = [c for c in channels if not pd.api.types.is_numeric_dtype(frame[c])]
    if not_numeric:
        raise SynthgenError(
            f"{where}: column(s) {not_numeric} change within entities but are not numeric; sensor channels must be "
            "numbers: convert them, declare them static, or drop them"
        )
    if not channels:
        raise SynthgenError(f"{where}: no numeric channel column besides {entity!r} and {time!r}; add channels")
    for col in [*static, *([target] if target else [])]:
        changing = grouped[col].nunique(dropna=False)
        changing = changing[changing > 1]
        if len(changing):
            raise SynthgenError(
                f"{where}: column {col!r} changes within entity {_show(changing.index[0])} but is per entity "
                f"({'the label' if col == target else 'static'}); fix the data, or drop it (per-step labels are "
                "not supported)"
            )
    return SequenceLayout(
        entity,
        time,
        list(channels),
        list(static),
        target,
        dtypes={c: str(frame[c].dtype) for c in frame.columns},
        time_dtype=str(frame[time].dtype),
    )


def clean_long(
    frame: pd.DataFrame, layout: SequenceLayout, rate: float | None, max_length: int, where: str
) -> pd.DataFrame:
    """Checked and repaired long table on a regular grid; fills in the layout's time grid and length."""
    frame = frame[layout.columns].copy()
    for col in (layout.entity, layout.time):
        if frame[col].isna().any():
            raise SynthgenError(
                f"{where}: column {col!r} is empty in {int(frame[col].isna().sum())} row(s); fill or drop them"
            )
    t, layout.time_is_datetime = _times(frame[layout.time], layout.time, where)
    frame["__t"] = t.to_numpy()
    dup = frame.duplicated([layout.entity, "__t"])
    if dup.any():
        row = frame[dup].iloc[0]
        raise SynthgenError(
            f"{where}: entity {_show(row[layout.entity])} has {int(dup.sum())} duplicate timestamp(s) (e.g. "
            f"{_show(row[layout.time])}); aggregate or drop duplicates first"
        )
    if not frame.sort_values([layout.entity, "__t"], kind="stable").index.equals(frame.index):
        log.warning("%s: rows were not sorted by entity and time; sorted them", where)
        frame = frame.sort_values([layout.entity, "__t"], kind="stable")
    sizes = frame.groupby(layout.entity, sort=False).size()
    single = sizes[sizes < 2].index
    if len(single):
        log.warning("%s: dropped %d entit(ies) with a single step (e.g. %s)", where, len(single), _show(single[0]))
        frame = frame[~frame[layout.entity].isin(single)]
    if frame[layout.entity].nunique() < MIN_ENTITIES:
        raise SynthgenError(f"{where}: fewer than {MIN_ENTITIES} entities with two or more steps; add entities")
    frame = _fill_gaps(frame, layout, where)
    intervals = frame.groupby(layout.entity, sort=False)["__t"].diff().dropna()
    layout.step = float(rate or intervals.median())
    if rate or not np.allclose(intervals, layout.step, rtol=1e-6):
        log.warning("%s: timestamps are irregular or a rate is set; resampled to one step per %g", where, layout.step)
        frame = _resample(frame, layout)
    layout.length = int(min(frame.groupby(layout.entity, sort=False).size().max(), max_length))
    cut = frame.groupby(layout.entity, sort=False).cumcount() >= layout.length
    if cut.any():
        log.warning("%s: cut %d row(s) beyond max_length %d steps", where, int(cut.sum()), layout.length)
        frame = frame[~cut]
    return frame.drop(columns="__t").reset_index(drop=True)


def _fill_gaps(frame: pd.DataFrame, layout: SequenceLayout, where: str) -> pd.DataFrame:
    values = frame[layout.channels].astype(float)
    empty = values.isna().groupby(frame[layout.entity], sort=False).all()
    if empty.to_numpy().any():
        entity, channel = empty.stack()[empty.stack()].index[0]
        raise SynthgenError(
            f"{where}: channel {channel!r} is empty for all of entity {_show(entity)}; fill it or drop the entity"
        )
    gaps = int(values.isna().sum().sum())
    if gaps:
        log.warning("%s: interpolated %d missing channel value(s) along time", where, gaps)
        filled = values.groupby(frame[layout.entity], sort=False).transform(
            lambda s: s.interpolate(limit_direction="both")
        )
        frame[layout.channels] = filled
    return frame


def _resample(frame: pd.DataFrame, layout: SequenceLayout) -> pd.DataFrame:
    parts = []
    for _, group in frame.groupby(layout.entity, sort=False):
        t = group["__t"].to_numpy()
        grid = np.arange(t[0], t[-1] + layout.step * 1e-9, layout.step)
        part = pd.DataFrame({c: np.interp(grid, t, group[c].to_numpy(dtype=float)) for c in layout.channels})
        for col in [layout.entity, *layout.static, *([layout.target] if layout.target else [])]:
            part[col] = group[col].iloc[0]
        part["__t"] = grid
        part[layout.time] = grid
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out[layout.time] = _format_times(out["__t"].to_numpy(), layout)
    return out


def _format_times(seconds: np.ndarray, layout: SequenceLayout) -> pd.Series:
    if not layout.time_is_datetime:
        if layout.time_dtype.startswith(("int", "Int", "uint")) and np.allclose(seconds, np.round(seconds)):
            return pd.Series(np.round(seconds)).astype(layout.time_dtype)
        return pd.Series(seconds).astype(layout.time_dtype if layout.time_dtype.startswith("float") else "float64")
    stamps = pd.to_datetime(pd.Series(np.round(seconds * 1e9).astype("int64")), utc=True)
    if layout.time_dtype.startswith("datetime64"):
        return stamps.dt.tz_convert(None).astype(layout.time_dtype) if "UTC" not in layout.time_dtype else stamps
    return stamps.dt.strftime("%Y-%m-%d %H:%M:%S").astype(object)


@dataclass
class SequenceArrays:
    """Padded arrays: values (entities, length, channels), with each sequence's true length."""

    ids: np.ndarray
    values: np.ndarray
    lengths: np.ndarray
    static: pd.DataFrame  # one row per entity: static columns, the label and `__length`
    starts: np.ndarray  # each entity's first time, as float


def to_arrays(frame: pd.DataFrame, layout: SequenceLayout) -> SequenceArrays:
    """Pad each sequence to the layout's length by repeating its last step (a flat tail, never zeros)."""
    t, _ = _times(frame[layout.time], layout.time, "prepared data")
    groups = frame.assign(__t=t.to_numpy()).groupby(layout.entity, sort=False)
    ids, seqs, lengths, starts, rows = [], [], [], [], []
    for entity, group in groups:
        seq = group[layout.channels].to_numpy(dtype=np.float32)[: layout.length]
        lengths.append(len(seq))
        seqs.append(np.concatenate([seq, np.repeat(seq[-1:], layout.length - len(seq), axis=0)]))
        ids.append(entity)
        starts.append(group["__t"].iloc[0])
        rows.append(group.iloc[0][[*layout.static, *([layout.target] if layout.target else [])]])
    static = pd.DataFrame(rows).reset_index(drop=True) if rows else pd.DataFrame()
    static = static.astype({c: layout.dtypes[c] for c in static.columns if c in layout.dtypes})
    static[LENGTH] = np.asarray(lengths, dtype=np.int64)
    return SequenceArrays(np.asarray(ids), np.stack(seqs), np.asarray(lengths), static, np.asarray(starts))


def to_long(
    ids: np.ndarray,
    values: np.ndarray,
    lengths: np.ndarray,
    static: pd.DataFrame,
    starts: np.ndarray,
    layout: SequenceLayout,
) -> pd.DataFrame:
    """Arrays back to the input's long format and dtypes."""
    n, length = len(ids), values.shape[1]
    keep = (np.arange(length)[None, :] < lengths[:, None]).ravel()
    out = pd.DataFrame({layout.entity: np.repeat(ids, length)[keep]})
    seconds = (starts[:, None] + np.arange(length)[None, :] * layout.step).ravel()[keep]
    out[layout.time] = _format_times(seconds, layout).to_numpy()
    flat = values.reshape(n * length, -1)[keep]
    for i, channel in enumerate(layout.channels):
        dtype = layout.dtypes.get(channel, "float64")
        column = np.round(flat[:, i]) if dtype.startswith(("int", "Int", "uint")) else flat[:, i]
        out[channel] = pd.Series(column).astype(dtype).to_numpy()
    for col in [*layout.static, *([layout.target] if layout.target else [])]:
        out[col] = np.repeat(static[col].to_numpy(), length)[keep]
    return out.astype({c: layout.dtypes[c] for c in out.columns if c in layout.dtypes and c != layout.time})


def split_entities(
    frame: pd.DataFrame,
    layout: SequenceLayout,
    fraction: float,
    seed: int,
    min_holdout: int,
    where: str,
    method: str = "stratified",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Whole entities go to train or holdout, so no sequence is on both sides: stratified by label, or
    with `method` row_hash each entity by a seeded hash of its own rows alone (no entity moves another)."""
    rng = np.random.default_rng(seed)
    per_entity = frame.groupby(layout.entity, sort=False).first()
    holdout: list[Any] = []
    if method == "row_hash":
        holdout = entity_hash_holdout(frame, layout.entity, fraction, seed)
    else:
        groups = [per_entity.index.to_numpy()]
        if layout.target:
            groups = [idx.to_numpy() for _, idx in per_entity.groupby(layout.target, sort=True).groups.items()]
        for idx in groups:
            n_hold = int(round(fraction * len(idx))) if len(idx) > 1 else 0
            holdout.extend(rng.permutation(idx)[:n_hold].tolist())
    if len(holdout) < min_holdout:
        raise SynthgenError(
            f"{where}: {len(per_entity)} entities give only {len(holdout)} holdout entit(ies) (minimum "
            f"{min_holdout}); add entities or raise ingest.holdout_fraction"
        )
    is_holdout = frame[layout.entity].isin(holdout).to_numpy()
    return frame[~is_holdout].reset_index(drop=True), frame[is_holdout].reset_index(drop=True)


def read_sensor(source: str | Path) -> pd.DataFrame:
    """A long table (CSV, Parquet, JSON Lines), a wide `.npz`, or UEA/sktime `.ts` file(s) (a directory
    of them is read as one set: TRAIN and TEST files together, entities numbered across files)."""
    path = resolve_source(source)
    ts_files = sorted(path.glob("*.ts")) if path.is_dir() else [path] if path.suffix.lower() == ".ts" else []
    if ts_files:
        frames, offset = [], 0
        for file in ts_files:
            frames.append(read_ts(file, offset))
            offset += frames[-1]["entity"].nunique()
        return pd.concat(frames, ignore_index=True)
    if path.suffix.lower() == ".npz":
        return read_npz(path, str(source))
    return read_table(path)


def read_ts(path: Path, entity_offset: int = 0) -> pd.DataFrame:
    """The UEA/UCR `.ts` text format: `@` header lines, then one entity per line, channels separated by
    `:`, values by `,`, the class label last (when `@classLabel true`)."""
    header: dict[str, str] = {}
    frames = []
    with open(path, encoding="utf-8") as handle:
        lines = (line.strip() for line in handle)
        for line in lines:
            if line.lower().startswith("@data"):
                break
            if line.startswith("@"):
                key, _, value = line[1:].partition(" ")
                header[key.lower()] = value.strip()
        labelled = header.get("classlabel", "false").lower().startswith("true")
        for number, line in enumerate(line for line in lines if line and not line.startswith("#")):
            fields = line.split(":")
            label = fields.pop() if labelled else None
            try:
                channels = [np.array([float(v) if v != "?" else np.nan for v in f.split(",")]) for f in fields]
            except ValueError as exc:
                raise SynthgenError(f"{path}: entity {number + 1} has a value that is not a number ({exc})") from exc
            steps = max(len(c) for c in channels)
            part = pd.DataFrame(
                {f"channel_{i}": np.pad(c, (0, steps - len(c)), constant_values=np.nan) for i, c in enumerate(channels)}
            )
            part.insert(0, "step", np.arange(steps))
            part.insert(0, "entity", entity_offset + number)
            if labelled:
                part["label"] = label
            frames.append(part)
    if not frames:
        raise SynthgenError(f"{path}: no series after @data; is this a .ts file?")
    return pd.concat(frames, ignore_index=True)


def read_npz(path: str | Path, where: str) -> pd.DataFrame:
    """A wide array file: `x` (entities × steps × channels), optional `y` labels, as a long table.
    Steps where every channel is NaN are dropped, so NaN-padded tails give variable lengths."""
    with np.load(path, allow_pickle=False) as data:
        if "x" not in data:
            raise SynthgenError(f"{where}: no array named 'x' (entities × steps × channels); keys are {list(data)}")
        x = data["x"]
        y = data["y"] if "y" in data else None
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise SynthgenError(f"{where}: 'x' has shape {x.shape}; expected entities × steps × channels")
    if y is not None and len(y) != len(x):
        raise SynthgenError(f"{where}: 'y' has {len(y)} labels for {len(x)} entities; give one label per entity")
    n, steps, channels = x.shape
    frame = pd.DataFrame(x.reshape(n * steps, channels), columns=[f"channel_{i}" for i in range(channels)])
    frame.insert(0, "step", np.tile(np.arange(steps), n))
    frame.insert(0, "entity", np.repeat(np.arange(n), steps))
    if y is not None:
        frame["label"] = np.repeat(y, steps)
    return frame[frame.iloc[:, 2 : 2 + channels].notna().any(axis=1)].reset_index(drop=True)  # NaN tails: shorter
