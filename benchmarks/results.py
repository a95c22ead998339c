"""Shared by the benchmark scripts: each owns one marked section of RESULTS.md and leaves the rest
(other modalities, hand-written notes) as it is."""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from synthgen.config import ValidateParams

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    device = f"CUDA {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "no GPU"
    return (
        f"{dt.date.today().isoformat()}; {platform.platform()}, {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, torch {torch.__version__}, {device}"
    )


def write_section(name: str, body: str, path: Path = RESULTS) -> None:
    """Replace the text between this benchmark's markers (appended at the end the first time)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def report_only(off: tuple[str, ...] = ()) -> ValidateParams:
    """Every check at warn: benchmarks compare the scores of many generators, and a failing one
    must not stop the run. Privacy checks may be loosened only when named with a reason."""
    checks = ValidateParams().checks
    return ValidateParams.model_validate(
        {
            "checks": {name: {"threshold": 0, "level": "off" if name in off else "warn"} for name in checks},
            "allow_unsafe": {name: "benchmark: scores are reported, verdicts unused" for name in checks},
        }
    )


def quiet_logging() -> None:
    """Our progress lines only; library chatter at warning level."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s", stream=sys.stderr)
    for name in ("benchmark", "synthgen"):
        logging.getLogger(name).setLevel(logging.INFO)
    warnings.filterwarnings("ignore")


def run_datasets(section: str, datasets: list[str], run_one: Callable[[str], list[dict]],
                 markdown: Callable[[pd.DataFrame, int], str], seed: int, out: str) -> None:  # fmt: skip
    """Run each data set and rewrite `section` after each one, so a long run leaves partial results."""
    rows: list[dict] = []
    for dataset in datasets:
        rows += run_one(dataset)
        write_section(section, markdown(pd.DataFrame(rows), seed), Path(out))
    print(Path(out).read_text())


def section_header(title: str, *bullets: str) -> list[str]:
    """A RESULTS.md section's first lines: its title, the machine and date, then one bullet each."""
    return [f"## {title}", "", f"- machine: {machine()}", *(f"- {b}" for b in bullets), ""]
