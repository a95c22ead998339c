"""Benchmark: synthgen's sensor model next to SDV's PARSynthesizer on the same seeded entity splits.

Run by hand:  python benchmarks/sensor.py [--datasets basic_motions japanese_vowels] [--seeds 0 1 2]
Both data sets are read from the UEA `.ts` files sktime ships inside its wheel (nothing downloaded).
Every model is judged by synthgen's sequence checks against the same holdout; the GRU discriminative
score is averaged over shuffled folds and over seeds. Writes the "sensor" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from synthgen.config import TrainParams, load_params
from synthgen.data.sequences import clean_long, infer_layout, read_sensor, split_entities
from synthgen.modalities.sensor import standardised
from synthgen.modalities.sensor.synthesizer import SequenceSynthesizer
from synthgen.validation.gate import judge_all
from synthgen.validation.sequences import SequenceContext

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import RESULTS, machine, quiet_logging, report_only, write_section  # noqa: E402  (benchmarks/ is scripts, not a package)

log = logging.getLogger("benchmark")
REPO = Path(__file__).resolve().parents[1]
DATASETS = {
    "basic_motions": ("pkg:sktime/datasets/data/BasicMotions", "80 entities x 6 channels x 100 steps, 4 classes"),
    "japanese_vowels": (
        "pkg:sktime/datasets/data/JapaneseVowels",
        "640 entities x 12 channels x 7-29 steps, 9 classes",
    ),
}
# Our model's settings per data set: BasicMotions' rotated copies as its shipped spec (stationary
# activities), with the default per-series scales, which that spec turns off (README, "Sensor data");
# the vowels are utterances, where position in time matters, so no rotated copies there.
MODEL_CONFIG = {"basic_motions": {"circular_shift": True}, "japanese_vowels": {}}
REPORTED = [
    "discriminative_score",
    "predictive_score",
    "channel_ks",
    "autocorrelation",
    "cross_correlation",
    "spectrum",
    "sequence_dcr_share",
    "sequence_near_copies",
    "sequence_membership_inference",
]


def series_summaries(seqs) -> np.ndarray:
    """Per entity and channel over its real steps: mean, standard deviation, minimum, maximum, first,
    last and lag-1 autocorrelation, and the entity's length: what a reviewer compares first, and where
    per-series normalised data or drifting levels show at once."""
    values, lengths = seqs.values.astype(np.float64), seqs.lengths
    pad = np.arange(values.shape[1])[None, :, None] >= lengths[:, None, None]
    x = np.ma.masked_array(values, np.broadcast_to(pad, values.shape))
    mean, std = x.mean(axis=1), x.std(axis=1)
    centred = x - mean[:, None, :]
    lag1 = (centred[:, 1:] * centred[:, :-1]).mean(axis=1) / np.ma.where(std > 0, std**2, 1.0)
    last = values[np.arange(len(values)), lengths - 1]
    parts = [mean, std, x.min(axis=1), x.max(axis=1), values[:, 0], last, lag1]
    return np.column_stack([np.ma.filled(p, 0.0) for p in parts] + [lengths[:, None].astype(float)])


def summary_detection(real, synthetic, seed: int, folds: int = 5) -> float:
    """|AUC - 0.5| of gradient boosting (the tabular detection check's model) telling real train series
    from synthetic ones by their summaries alone, over stratified folds (0 ideal)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from synthgen.validation.features import gradient_boosting

    x = np.vstack([series_summaries(real), series_summaries(synthetic)])
    y = np.r_[np.zeros(len(real.values)), np.ones(len(synthetic.values))]
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    model = gradient_boosting(np.zeros(x.shape[1], dtype=bool), seed)
    return float(abs(np.mean(cross_val_score(model, x, y, cv=cv, scoring="roc_auc")) - 0.5))


def _par(train: pd.DataFrame, layout, seed: int, model_config: dict):
    from sdv.metadata import Metadata
    from sdv.sequential import PARSynthesizer

    metadata = Metadata.detect_from_dataframes({"table": train})
    metadata.update_column(layout.entity, sdtype="id")
    metadata.update_column(layout.target, sdtype="categorical")
    metadata.set_sequence_key(layout.entity)
    metadata.set_sequence_index(layout.time)
    model = PARSynthesizer(metadata, context_columns=[layout.target], cuda=False, verbose=False)
    np.random.seed(seed)
    start = time.perf_counter()
    model.fit({"table": train})
    fit_s = time.perf_counter() - start

    def sample(n: int) -> pd.DataFrame:
        out = model.sample_sequences(num_sequences=n)["table"]
        return out[train.columns]

    return sample, fit_s


def _ours(train: pd.DataFrame, layout, seed: int, model_config: dict):
    params = TrainParams(model="sensor_ddpm", batch_size=32, model_config=model_config)
    start = time.perf_counter()
    synth = SequenceSynthesizer(layout, seed=seed, train_params=params).fit(train)
    return (lambda n: synth.sample(n, seed=seed)), time.perf_counter() - start


def run(dataset: str, seed: int) -> list[dict]:
    source, _ = DATASETS[dataset]
    frame = read_sensor(source)
    layout = infer_layout(frame, "entity", "step", "label")
    frame = clean_long(frame, layout, None, 256, source)
    train, holdout = split_entities(frame, layout, 0.25, seed, 2, source)
    params = report_only(off=("sequence_expectations",))  # the schema suite needs the long tables, not scored here
    real, hold = standardised(layout, train, holdout)
    rows = []
    n = train[layout.entity].nunique()
    for label, fit in {"synthgen sensor_ddpm": _ours, "SDV PARSynthesizer": _par}.items():
        log.info("%s seed %d: fitting %s", dataset, seed, label)
        sample, fit_s = fit(train, layout, seed, MODEL_CONFIG[dataset])
        start = time.perf_counter()
        synthetic = sample(n)
        sample_s = time.perf_counter() - start
        synthetic_seqs = standardised(layout, train, synthetic)[1]
        with tempfile.TemporaryDirectory() as out:
            ctx = SequenceContext(real, hold, synthetic_seqs, seed, Path(out), None)
            checks = judge_all(ctx, params, "sensor", [])["checks"]
        rows.append(
            {
                "dataset": dataset,
                "model": label,
                "seed": seed,
                "fit_s": fit_s,
                "entities_per_s": n / sample_s,
                **{name: checks[name]["score"] for name in REPORTED},
                "summary_detection": summary_detection(real, synthetic_seqs, seed),
            }
        )
        log.info("%s", rows[-1])
    holdout_row = {"dataset": dataset, "model": "real holdout (reference)", "seed": seed}
    rows.append({**holdout_row, "summary_detection": summary_detection(real, hold, seed)})
    return rows


def _markdown(results: pd.DataFrame, seeds: list[int]) -> str:
    lines = [
        "## Sensor",
        "",
        f"- machine: {machine()}",
        f"- command: `python benchmarks/sensor.py` (seeds {seeds}, mean over seeds; synthetic entities = train "
        "entities; PARSynthesizer at its defaults with the label as context)",
        '- scores: synthgen\'s sequence checks (README, "Sensor data"): discriminative |acc - 0.5| (0 ideal), '
        "predictive = next-step MAE trained on synthetic / trained on real (1 ideal); sequence_dcr_share, "
        "sequence_near_copies, sequence_membership_inference: p-values of the calibrated privacy tests "
        "(time-shift-invariant distances; the gate fails under 0.001); summary_detection: |AUC - 0.5| of "
        "gradient boosting on per-series summaries (mean, std, min, max, first, last, lag-1 autocorrelation "
        "per channel, and length), real train vs synthetic, 5 folds (0 ideal; the holdout row: real vs real)",
        "- sensor_ddpm settings per data set: "
        + "; ".join(f"`{name}`: {config or 'defaults'}" for name, config in MODEL_CONFIG.items()),
        "- data sets: " + "; ".join(f"`{name}`: {info}" for name, (_, info) in DATASETS.items()),
        "",
    ]
    summary = results.drop(columns="seed").groupby(["dataset", "model"], sort=False).mean().reset_index()
    for dataset, part in summary.groupby("dataset", sort=False):
        table = part.drop(columns="dataset").copy()
        for col in [*REPORTED, "summary_detection"]:
            table[col] = table[col].map(lambda v: "-" if pd.isna(v) else f"{v:.3f}")
        table["fit_s"] = table["fit_s"].map(lambda v: "-" if pd.isna(v) else f"{v:.0f}")
        table["entities_per_s"] = table["entities_per_s"].map(lambda v: "-" if pd.isna(v) else f"{v:.1f}")
        lines += [f"### {dataset}", "", table.to_markdown(index=False), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    quiet_logging()
    load_params(REPO / "params.yaml")  # fail early on a broken params file
    rows: list[dict] = []
    for dataset in args.datasets:
        for seed in args.seeds:
            rows += run(dataset, seed)
            write_section("sensor", _markdown(pd.DataFrame(rows), args.seeds), Path(args.out))
    print(Path(args.out).read_text())


if __name__ == "__main__":
    main()
