"""Reading user tables and writing outputs atomically, so a failed stage leaves nothing half-written."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from synthgen.errors import SynthgenError

SUPPORTED = ".csv, .tsv, .parquet (file or directory), .jsonl/.ndjson"


def resolve_source(source: str | Path) -> Path:
    """A path, or `pkg:<package>/<path>` for data an installed package ships inside itself."""
    text = str(source)
    if not text.startswith("pkg:"):
        return Path(source)
    package, _, inner = text[4:].partition("/")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SynthgenError(f"{text}: package {package!r} is not installed; pip install it (see README)")
    return Path(next(iter(spec.submodule_search_locations))) / inner


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, Parquet file/directory or JSON Lines file into a DataFrame with clear errors."""
    path = Path(path)
    if not path.exists():
        raise SynthgenError(f"{path}: file not found; check the path (supported: {SUPPORTED})")
    suffix = path.suffix.lower()
    try:
        if path.is_dir() or suffix in {".parquet", ".pq"}:
            parts = distributed_parts(path) if path.is_dir() else None
            frame = (pa.concat_tables([pq.read_table(f) for f in parts]) if parts else pq.read_table(path)).to_pandas()
        elif suffix in {".csv", ".tsv", ".txt"}:
            if path.stat().st_size == 0:
                raise SynthgenError(f"{path}: file is empty; give a table with a header row and data")
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        elif suffix in {".jsonl", ".ndjson"}:
            frame = pd.read_json(path, lines=True)
        else:
            raise SynthgenError(f"{path}: unsupported file type {suffix!r}; use {SUPPORTED}")
    except (pa.ArrowInvalid, OSError) as exc:
        raise SynthgenError(f"{path}: cannot read as Parquet ({_first_line(exc)}); re-export the file") from exc
    except (pd.errors.EmptyDataError, pd.errors.ParserError, ValueError) as exc:
        raise SynthgenError(f"{path}: cannot parse ({_first_line(exc)}); fix the file format") from exc
    if frame.empty:
        raise SynthgenError(f"{path}: table has no rows; give at least a few dozen rows")
    return frame


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@contextlib.contextmanager
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of `dest`; it replaces `dest` only if the block succeeds."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
        if dest.is_dir():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp)
        elif tmp.exists():
            tmp.unlink()


def write_parquet(frame: pd.DataFrame, dest: str | Path) -> None:
    """Write one DataFrame to Parquet atomically."""
    write_parquet_batches([frame], dest)


PROVENANCE_KEY = b"synthgen"  # Parquet schema metadata: what the set's model says of it (its DP budget)


def parquet_provenance(path: str | Path) -> dict[str, Any]:
    """What `write_parquet_batches(..., provenance=)` stored in a Parquet set, when every file of it
    holds the same; {} for other files and sets written without it."""
    if not is_parquet(path):
        return {}
    found = {(pq.read_schema(f).metadata or {}).get(PROVENANCE_KEY) for f in parquet_files(path)}
    if len(found) != 1 or None in found:  # parts of different origins, or one without: nothing to claim
        return {}
    return json.loads(found.pop())


def write_parquet_batches(
    batches: Iterable[pd.DataFrame | pa.RecordBatch], dest: str | Path, provenance: dict[str, Any] | None = None
) -> int:
    """Stream DataFrames (or Arrow batches) into one Parquet file, one row group each, every batch cast
    to the first one's schema; returns the rows written. `provenance` goes into the schema metadata,
    so the set carries it wherever it is copied (`parquet_provenance`)."""
    rows = 0
    with atomic_path(dest) as tmp:
        writer: pq.ParquetWriter | None = None
        try:
            for batch in batches:
                table = (
                    pa.Table.from_batches([batch])
                    if isinstance(batch, pa.RecordBatch)
                    else pa.Table.from_pandas(batch, preserve_index=False)
                )
                if writer is None:
                    schema = table.schema
                    if provenance:
                        extra = {PROVENANCE_KEY: json.dumps(provenance, sort_keys=True).encode()}
                        schema = schema.with_metadata({**(schema.metadata or {}), **extra})
                    writer = pq.ParquetWriter(tmp, schema)
                writer.write_table(table.cast(writer.schema))
                rows += table.num_rows
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise SynthgenError(f"{dest}: nothing to write (zero batches)")
    return rows


def write_json(payload: Any, dest: str | Path) -> None:
    """Write JSON atomically, keys sorted so reruns give identical bytes."""
    with atomic_path(dest) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise SynthgenError(f"{path}: file not found; run the stage that writes it first")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SynthgenError(f"{path}: not valid JSON ({_first_line(exc)}); rerun the stage that writes it") from exc


MANIFEST = "_manifest.json"  # written when a distributed sample is complete (sampling/parts.py)


def is_parquet(path: str | Path) -> bool:
    """A Parquet file, a directory of them or a distributed sample (what ParquetParts reads)."""
    path = Path(path)
    return path.is_dir() or path.suffix.lower() in {".parquet", ".pq"}


def distributed_parts(path: Path) -> list[Path] | None:
    """A distributed sample's part files as its manifest lists them (None when `path` is no such
    directory); one without its manifest is incomplete and an error."""
    if (path / MANIFEST).exists():
        return [path / part["file"] for part in read_json(path / MANIFEST)["parts"]]
    receipts = list(path.glob("_part-*.json"))
    if receipts:
        raise SynthgenError(
            f"{path}: incomplete distributed sample ({len(receipts)} part(s), no {MANIFEST}); "
            "run the sample stage on every rank"
        )
    return None


def parquet_files(path: str | Path) -> list[Path]:
    """The Parquet files behind a path, in order: the file itself, a distributed sample's parts, or a
    directory's *.parquet files, sorted."""
    path = Path(path)
    if not path.exists():
        raise SynthgenError(f"{path}: file not found; check the path")
    if not path.is_dir():
        return [path]
    files = distributed_parts(path) or sorted(p for p in path.rglob("*.parquet") if not p.name.startswith((".", "_")))
    if not files:
        raise SynthgenError(f"{path}: no .parquet files in this directory; check the path")
    return files


def table_digest(path: str | Path) -> str:
    """SHA-256 over the bytes of a table's files (a Parquet file, or every part of a directory, in
    order): metrics.json carries it, so a gate verdict vouches for exactly one synthetic set."""
    path = Path(path)
    digest = hashlib.sha256()
    for file in parquet_files(path) if is_parquet(path) else [path]:
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


OUTPUT_MARKER = ".synthgen-output"


def claim_output_dir(path: str | Path, option: str = "--out") -> None:
    """Refuse a directory synthgen did not write: an output directory is replaced whole, so it must be
    new, empty, or hold the marker a previous synthgen run left there."""
    path = Path(path).expanduser()
    if not path.exists():
        return
    if not path.is_dir():
        raise SynthgenError(f"{path}: {option} is an existing file; give a new directory")
    if any(path.iterdir()) and not (path / OUTPUT_MARKER).is_file():
        raise SynthgenError(
            f"{path}: {option} is a non-empty directory synthgen did not write (no {OUTPUT_MARKER}); "
            "give a new or empty directory"
        )


def mark_output_dir(path: Path) -> None:
    """Leave the marker that lets a later run replace this directory."""
    (path / OUTPUT_MARKER).write_text("written by synthgen run; a later run with the same --out replaces it\n")


class ParquetParts:
    """One or more Parquet files read as one table, in batches (a file or a distributed sample)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.files = [pq.ParquetFile(f) for f in parquet_files(path)]
        except (pa.ArrowInvalid, OSError) as exc:
            raise SynthgenError(f"{path}: cannot read as Parquet ({_first_line(exc)}); re-export the file") from exc

    @property
    def names(self) -> list[str]:
        return self.files[0].schema_arrow.names

    @property
    def num_rows(self) -> int:
        return sum(f.metadata.num_rows for f in self.files)

    def iter_batches(self, batch_size: int, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        for file in self.files:
            yield from file.iter_batches(batch_size=batch_size, columns=columns)

    def sample(self, n: int, seed: int) -> pd.DataFrame:
        """A seeded uniform sample of `n` rows (all when fewer), read row group by row group, so memory
        follows `n` and the largest row group, not the table."""
        total = self.num_rows
        if total <= n:
            return pa.concat_tables([f.read() for f in self.files]).to_pandas()
        keep = np.sort(np.random.default_rng(seed).choice(total, n, replace=False))
        pieces, offset = [], 0
        for file in self.files:
            for group in range(file.num_row_groups):
                size = file.metadata.row_group(group).num_rows
                rows = keep[(keep >= offset) & (keep < offset + size)] - offset
                if len(rows):
                    pieces.append(file.read_row_group(group).take(rows))
                offset += size
        return pa.concat_tables(pieces).to_pandas()
