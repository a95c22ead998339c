"""Benchmark: differential privacy at epsilon 1, 3 and 10 and without, synthgen next to mostlyai-engine.

Run by hand (mostlyai-engine in its own venv: its dependencies pin their own versions):
    pip install -c constraints.txt -e ".[bench,dp]"
    python -m venv .venv-mostlyai && .venv-mostlyai/bin/pip install torch==2.13.0 mostlyai-engine==2.7.3
    .venv-mostlyai/bin/pip uninstall -y torchvision torchaudio
    python benchmarks/dp.py --mostlyai-python .venv-mostlyai/bin/python [--datasets penguins tips]
Each data set is split once (ingest's row_hash split: the one a DP guarantee needs); each model and
epsilon trains on the same train rows and is judged by synthgen's checks against the same holdout.
synthgen's DP runs declare the public knowledge of each table (`PUBLIC`: domain ranges and category
sets, README "Differential privacy"); mostlyai-engine finds its value ranges with its own DP
mechanism. Both split epsilon 10% / 90% between value ranges and DP-SGD, delta 1e-5.
Writes the "dp" section of RESULTS.md (machine and date on top).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from synthgen import Synthesizer
from synthgen.config import PrivacyParams, TrainParams
from synthgen.data.schema import infer_schema
from synthgen.data.split import split_train_holdout
from synthgen.errors import SynthgenError
from synthgen.validation import run_gate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import RESULTS, quiet_logging, report_only, run_datasets, section_header  # noqa: E402
from tabular import DATASETS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RUNNER = Path(__file__).resolve().parent / "mostlyai_runner.py"
EPSILONS: list[float | None] = [1.0, 3.0, 10.0, None]  # None: no DP
SCORES = ["utility", "quality", "detection", "dcr_share"]
log = logging.getLogger("benchmark")
_SPEC = yaml.safe_load((REPO / "pipelines" / "penguins_dp.yaml").read_text())["train"]
PUBLIC = {  # what is known without looking at the rows: the penguins_dp spec's ranges; tips' menu and week
    "penguins": {"bounds": _SPEC["privacy"]["bounds"], "categories": _SPEC["privacy"]["categories"]},
    "tips": {
        "bounds": {"total_bill": [0, 60], "tip": [0, 15], "size": [1, 8]},
        "categories": {"sex": ["Female", "Male"], "smoker": ["No", "Yes"], "day": ["Thur", "Fri", "Sat", "Sun"]},
    },
    "health_insurance": {},  # 17,800 train rows: ranges and categories found privately
}


def _dp_params(n_rows: int, epsilon: float, public: dict) -> TrainParams:
    """The penguins_dp spec's training (30 passes, a small model, a higher learning rate), with batches
    that grow with the table (a twentieth of it, up to 1,024 rows), delta 1e-5 as mostlyai-engine's."""
    return TrainParams(
        epochs=_SPEC["epochs"],
        batch_size=max(_SPEC["batch_size"], min(1024, n_rows // 20)),
        privacy=PrivacyParams(epsilon=epsilon, delta=1e-5, **public),
        model_config=_SPEC.get("model_config", {}),
    )


def _ours(
    train: pd.DataFrame, target: str, epsilon: float | None, public: dict, seed: int
) -> tuple[pd.DataFrame, dict]:
    params = TrainParams() if epsilon is None else _dp_params(len(train), epsilon, public)
    start = time.perf_counter()
    synth = Synthesizer(target=target, seed=seed, train_params=params).fit(train)
    fit_s = time.perf_counter() - start
    spent = synth.meta.get("privacy", {}).get("epsilon")
    return synth.sample(len(train), seed=seed), {"fit_s": fit_s, "epsilon_spent": spent}


def _mostlyai(
    python: str, train: pd.DataFrame, epsilon: float | None, seed: int, rows: int | None = None
) -> tuple[pd.DataFrame, dict]:
    """mostlyai-engine in its own venv (mostlyai_runner.py): `rows` synthetic rows (default: train's),
    its fit and in-process sampling seconds, and the epsilon it spent."""
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "train.parquet", Path(tmp) / "synthetic.parquet"
        train.to_parquet(src)
        cmd = [python, str(RUNNER), str(src), str(out), "--rows", str(rows or len(train)), "--seed", str(seed)]
        if epsilon is not None:
            cmd += ["--epsilon", str(epsilon)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SynthgenError(f"mostlyai-engine failed: {proc.stderr.strip().splitlines()[-1]}")
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        dp = info["dp_epsilon_trained"]
        spent = None if epsilon is None else (0.1 * epsilon + dp if dp is not None else None)
        return pd.read_parquet(out), {"fit_s": info["fit_s"], "sample_s": info["sample_s"], "epsilon_spent": spent}


def _like(train: pd.DataFrame, synthetic: pd.DataFrame) -> pd.DataFrame:
    """mostlyai-engine's nullable dtypes (Int64, Float64, string) as train's numpy ones, where they fit."""
    out = synthetic[train.columns].copy()
    for name, dtype in train.dtypes.items():
        column = out[name]
        if pd.api.types.is_numeric_dtype(dtype):
            column = pd.to_numeric(column, errors="coerce").astype(float)
            out[name] = column.astype(dtype) if column.notna().all() else column
        else:
            out[name] = column.astype(object).where(column.notna(), None)
    return out


def run(dataset: str, seed: int, mostlyai_python: str | None, epsilons: list[float | None] = EPSILONS) -> list[dict]:
    data = DATASETS[dataset]
    frame = data.load()
    schema = infer_schema(frame, data.target)
    train, holdout = split_train_holdout(frame, schema, 0.2, seed, 5, method="row_hash")
    params = report_only()
    rows = []
    with tempfile.TemporaryDirectory() as out:
        checks = run_gate(train, holdout, holdout, schema, params, seed, Path(out))["checks"]
    rows.append({"dataset": dataset, "model": "real holdout (reference)", **{s: checks[s]["score"] for s in SCORES}})
    for epsilon in epsilons:
        makers = {"synthgen tabular_ar": lambda e=epsilon: _ours(train, data.target, e, PUBLIC[dataset], seed)}
        if mostlyai_python:
            makers["mostlyai-engine TabularARGN"] = lambda e=epsilon: _mostlyai(mostlyai_python, train, e, seed)
        for label, make in makers.items():
            row = {"dataset": dataset, "model": label, "epsilon": "∞" if epsilon is None else f"{epsilon:g}"}
            log.info("%s: %s at epsilon %s", dataset, label, row["epsilon"])
            try:
                synthetic, info = make()
            except SynthgenError as exc:
                rows.append({**row, "note": str(exc)[:160]})
                continue
            with tempfile.TemporaryDirectory() as out:
                result = run_gate(train, holdout, _like(train, synthetic), schema, params, seed, Path(out))
            checks = result["checks"]
            note = {"note": "; ".join(result["problems"])} if result["problems"] else {}
            rows.append({**row, **info, **{s: checks[s]["score"] for s in SCORES}, **note})
            log.info("%s", rows[-1])
    return rows


def _markdown(results: pd.DataFrame, seed: int) -> str:
    lines = section_header(
        "Differential privacy",
        f"command: `python benchmarks/dp.py --mostlyai-python .venv-mostlyai/bin/python` (seed {seed}; "
        "row_hash split; synthetic rows = train rows; delta 1e-5; epsilon split 10% value ranges / 90% DP-SGD)",
        "scores: utility = TSTR/TRTR (macro-F1 of a gradient-boosting classifier of the target); quality = "
        "SDMetrics quality; detection = |GBM real-vs-synthetic AUC - 0.5| (0 ideal); dcr_share: p-value of the "
        "calibrated copy test (the gate fails under 0.001). epsilon_spent: what each tool reports it spent.",
    )
    for dataset, part in results.groupby("dataset", sort=False):
        cols = [c for c in ["model", "epsilon", "epsilon_spent", "fit_s", *SCORES, "note"] if c in part]
        table = part[cols].copy()
        for col in [c for c in ("epsilon_spent", "fit_s", *SCORES) if c in table]:
            digits = 4 if col == "dcr_share" else 3  # a p-value under the gate's 0.001 must not round up to it
            table[col] = table[col].map(lambda v, d=digits: "-" if pd.isna(v) else f"{v:.{d}f}")
        lines += [f"### {dataset}", "", table.fillna("").to_markdown(index=False, disable_numparse=True), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--mostlyai-python", help="python of a venv with mostlyai-engine; omit to run synthgen only")
    parser.add_argument("--epsilons", nargs="+", default=["1", "3", "10", "inf"], help="inf: without DP")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    quiet_logging()
    epsilons = [None if e == "inf" else float(e) for e in args.epsilons]
    run_datasets("dp", args.datasets, lambda d: run(d, args.seed, args.mostlyai_python, epsilons), _markdown,
                 args.seed, args.out)  # fmt: skip


if __name__ == "__main__":
    main()
