"""Distributed sampling: each rank writes its own Parquet part; a manifest marks the set complete.

Ranks share nothing but the output directory. Rank r draws its contiguous run of the seeded batch
sequence one process would draw (each batch's seeds derive from (seed, batch index)), so the parts
read in rank order are exactly the rows a single process makes, for any world size. Whichever
rank finishes last finds every part of this run and writes `_manifest.json`; readers take the parts
the manifest lists and refuse a directory without one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightning_fabric.plugins.environments import SLURMEnvironment, TorchElasticEnvironment

from synthgen.errors import SynthgenError
from synthgen.io import MANIFEST, read_json, write_json


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1


def detect_world(rank: int | None = None, size: int | None = None) -> World:
    """Explicit --rank/--world-size, else what torchrun or SLURM gave this process (Lightning's own
    detection), else a single process."""
    if (rank is None) != (size is None):
        raise SynthgenError("give --rank and --world-size together (or neither, under torchrun or SLURM)")
    if rank is not None and size is not None:
        if not 0 <= rank < size:
            raise SynthgenError(f"--rank {rank} must be in 0..{size - 1} for --world-size {size}")
        return World(rank, size)
    for environment in (TorchElasticEnvironment, SLURMEnvironment):
        if environment.detect():
            found = environment()
            return World(found.global_rank(), found.world_size())
    return World()


def part_name(world: World) -> str:
    return f"part-{world.rank:05d}-of-{world.size:05d}.parquet"


def _receipt(out_dir: Path, rank: int) -> Path:
    return out_dir / f"_part-{rank:05d}.json"


def run_token(model_dir: Path, settings: dict[str, Any]) -> str:
    """Identifies one sampling run (same model, params, seed and world size on every rank), so parts
    left over from a different run never complete this one."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for name in sorted(p.name for p in model_dir.iterdir() if p.is_file()):
        digest.update(name.encode())
        digest.update((model_dir / name).read_bytes())
    return digest.hexdigest()[:16]


def prepare(out_dir: Path) -> None:
    """Make the parts directory (replacing a single-file output of an earlier run) and withdraw any
    manifest: the set is incomplete until every rank of this run has written its part."""
    if out_dir.is_file():
        out_dir.unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST).unlink(missing_ok=True)


def finish(out_dir: Path, world: World, token: str, rows: int, seed: int, device: str = "cpu") -> bool:
    """Record this rank's part (and the device it drew on); write the manifest when every part of
    this run is there. Returns whether this rank completed the set."""
    receipt = {"run": token, "rows": rows, "file": part_name(world), "device": device}
    write_json(receipt, _receipt(out_dir, world.rank))
    receipts = []
    for rank in range(world.size):
        path = _receipt(out_dir, rank)
        receipt = read_json(path) if path.exists() else None
        if receipt is None or receipt.get("run") != token:
            return False
        receipts.append(receipt)
    manifest = {
        "run": token,
        "seed": seed,
        "world_size": world.size,
        "rows": sum(r["rows"] for r in receipts),
        "parts": [{"file": r["file"], "rows": r["rows"], "device": r.get("device")} for r in receipts],
    }
    write_json(manifest, out_dir / MANIFEST)
    return True
