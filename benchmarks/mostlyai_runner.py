"""Fit mostlyai-engine's TabularARGN (its defaults) on one table and write a synthetic sample.

Runs in mostlyai-engine's own venv, not synthgen's (its dependencies pin their own versions):
    python -m venv .venv-mostlyai && .venv-mostlyai/bin/pip install torch==2.13.0 mostlyai-engine==2.7.3
    .venv-mostlyai/bin/pip uninstall -y torchvision torchaudio   # they break `import transformers`
benchmarks/dp.py (and anyone by hand) calls it as:
    .venv-mostlyai/bin/python benchmarks/mostlyai_runner.py TRAIN.parquet OUT.parquet --rows N --seed S [--epsilon E]
With --epsilon, DP training: the total epsilon is split as synthgen splits it, 10% for the value
ranges (`value_protection_epsilon`) and 90% for DP-SGD (`max_epsilon`), delta 1e-5. Prints one
JSON line: fit seconds, sample seconds and the epsilon mostlyai reports, if any.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train")
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epsilon", type=float, help="total DP epsilon; omit for no DP")
    args = parser.parse_args()

    from mostlyai import engine
    from mostlyai.engine.domain import DifferentialPrivacyConfig

    engine.set_random_state(args.seed)
    train = pd.read_parquet(args.train)
    dp = None
    if args.epsilon is not None:
        dp = DifferentialPrivacyConfig(
            max_epsilon=0.9 * args.epsilon, value_protection_epsilon=0.1 * args.epsilon, delta=1e-5
        )
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        start = time.perf_counter()
        engine.split(tgt_data=train, model_type="TABULAR", workspace_dir=ws)
        engine.analyze(workspace_dir=ws, differential_privacy=dp)
        engine.encode(workspace_dir=ws)
        engine.train(workspace_dir=ws, differential_privacy=dp, device="cpu")
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        engine.generate(workspace_dir=ws, sample_size=args.rows, device="cpu")
        sample_s = time.perf_counter() - start
        synthetic = pd.concat([pd.read_parquet(p) for p in sorted((ws / "SyntheticData").glob("*.parquet"))])
        synthetic.reset_index(drop=True).to_parquet(args.out)
        progress = ws / "ModelStore" / "model-data" / "progress-messages.csv"
        epsilon = None
        if progress.exists() and "dp_eps" in (log := pd.read_csv(progress)) and log["dp_eps"].notna().any():
            epsilon = float(log["dp_eps"].dropna().iloc[-1])
    print(json.dumps({"fit_s": fit_s, "sample_s": sample_s, "dp_epsilon_trained": epsilon}))


if __name__ == "__main__":
    main()
