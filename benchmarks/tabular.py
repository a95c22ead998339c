"""Benchmark: synthgen's models next to SDV's synthesizers on the same seeded splits.

Run by hand:  python benchmarks/tabular.py [--datasets penguins] [--out benchmarks/RESULTS.md]
Every model is fitted on the same train split (from `synthgen ingest`'s splitter and seed) and
judged by the same synthgen checks against the same holdout. Writes a Markdown table with the
machine and date on top; fit and sampling times are wall-clock on this machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from synthgen import Synthesizer
from synthgen.config import ValidateParams, load_params, load_spec
from synthgen.data.schema import infer_schema
from synthgen.data.split import split_train_holdout
from synthgen.io import read_table
from synthgen.validation import run_gate

REPO = Path(__file__).resolve().parents[1]
THROUGHPUT_ROWS = 20_000
NOTES = "## Notes"  # hand-written analysis below this heading survives a re-run
REPORTED = [
    "quality",
    "column_shapes",
    "column_pair_trends",
    "detection",
    "utility",
    "dcr_share",
    "exact_copies",
    "dcr_ratio",
    "membership_inference",
]


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


def _ours(model: str) -> Callable[[pd.DataFrame, int, str | None], tuple[Callable[[int], pd.DataFrame], float]]:
    def fit(train: pd.DataFrame, seed: int, target: str | None) -> tuple[Callable[[int], pd.DataFrame], float]:
        params = load_params(REPO / "params.yaml").train
        if model != params.model:  # params.yaml's model_config belongs to its own model
            params = params.model_copy(update={"model": model, "model_config_": {}})
        start = time.perf_counter()
        synth = Synthesizer(model, target, seed, train_params=params).fit(train)
        return (lambda n: synth.sample(n, seed=seed)), time.perf_counter() - start

    return fit


def run(dataset: str, seed: int) -> list[dict]:
    spec = load_spec(dataset, REPO / "pipelines")
    ingest = load_params(REPO / "params.yaml").ingest
    frame = read_table(REPO / spec.source)
    schema = infer_schema(frame, spec.target, spec.columns)
    train, holdout = split_train_holdout(frame, schema, ingest.holdout_fraction, seed, ingest.min_holdout_rows)
    report_only = ValidateParams.model_validate(
        {"checks": {name: {"threshold": 0, "level": "warn"} for name in ValidateParams().checks}}
    )
    candidates = {
        "synthgen tabular_ddpm": lambda tr, s: _ours("tabular_ddpm")(tr, s, spec.target),
        "synthgen tvae": lambda tr, s: _ours("tvae")(tr, s, spec.target),
        "SDV GaussianCopula": _sdv("GaussianCopulaSynthesizer"),
        "SDV CTGAN": _sdv("CTGANSynthesizer"),
    }
    rows = []
    for label, fit in candidates.items():
        logging.info("%s: fitting %s", dataset, label)
        sample, fit_seconds = fit(train, seed)
        start = time.perf_counter()
        big = sample(THROUGHPUT_ROWS)
        rows_per_s = len(big) / (time.perf_counter() - start)
        synthetic = big.iloc[: len(train)][train.columns]
        with tempfile.TemporaryDirectory() as out:
            checks = run_gate(train, holdout, synthetic, schema, report_only, seed, Path(out))["checks"]
        rows.append(
            {
                "dataset": dataset,
                "model": label,
                "fit_s": fit_seconds,
                "sample_rows_per_s": rows_per_s,
                **{name: checks[name]["score"] for name in REPORTED},
            }
        )
        logging.info("%s", rows[-1])
    return rows


def _device() -> str:
    return f"CUDA {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "no GPU"


def _markdown(results: pd.DataFrame, seed: int) -> str:
    header = [
        "# Benchmark results",
        "",
        f"- date: {dt.date.today().isoformat()}",
        f"- machine: {platform.platform()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}, {_device()}",
        f"- command: `python benchmarks/tabular.py` (seed {seed}; synthetic rows = train rows; "
        f"sampling speed over {THROUGHPUT_ROWS:,} rows)",
        '- scores: synthgen\'s checks (README, "Checks"): quality = mean of column shapes and pair trends '
        "(higher is better); dcr_share: 0.5 ideal, higher = closer to train than to unseen rows; "
        "exact_copies: share of synthetic rows equal to a train row minus the holdout's own share; "
        "dcr_ratio: ≈1 ideal, <1 = copying.",
        "",
        "",
    ]
    table = results.copy()
    for col in REPORTED:
        table[col] = table[col].map(lambda v: "-" if pd.isna(v) else f"{v:.3f}")
    table["fit_s"] = table["fit_s"].map(lambda v: f"{v:.1f}")
    table["sample_rows_per_s"] = table["sample_rows_per_s"].map(lambda v: f"{v:,.0f}")
    return "\n".join(header) + table.to_markdown(index=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["penguins"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "RESULTS.md"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="benchmark: %(message)s", stream=sys.stderr)
    for name in ("pytorch_lightning", "lightning", "great_expectations", "sdv", "rdt", "copulas", "ctgan"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    results = pd.DataFrame([row for d in args.datasets for row in run(d, args.seed)])
    out = Path(args.out)
    notes = out.read_text().split(NOTES, 1)[1] if out.exists() and NOTES in out.read_text() else "\n"
    out.write_text(_markdown(results, args.seed) + "\n" + NOTES + notes)
    print(Path(args.out).read_text())


if __name__ == "__main__":
    main()
