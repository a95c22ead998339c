"""Real data no model here was tuned on, split three ways: train, holdout and a fresh split that
plays the perfect generator (it must pass) and the carrier of leaks (they must fail).

Tables: penguins (mixed kinds, missing values; small), plotly's tips (244 rows) and the 16 most varied pixel columns of
scikit-learn's digits as a 1,797-row integer table, whose fresh split holds over 1,000 rows.
Sequences: ItalyPowerDemand (1,096 daily load curves of 24 hours) and JapaneseVowels (640
utterances of 7 to 29 steps, 12 channels), from the copies sktime ships.
Images: scikit-learn's digits (8x8, 10 classes), from the copy this repository ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthgen.config import ValidateParams
from synthgen.data.schema import Schema, infer_schema
from synthgen.registry import CHECKS
from tests.conftest import REPO

DIGITS = REPO / "data" / "raw" / "digits" / "digits.npz"
DEFAULT = ValidateParams()


@dataclass
class Split:
    train: Any
    holdout: Any
    fresh: Any
    schema: Schema | None = None


def _three_way(n: int, sizes: tuple[int, int], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return order[: sizes[0]], order[sizes[0] : sizes[0] + sizes[1]], order[sizes[0] + sizes[1] :]


def table_split(frame: pd.DataFrame, sizes: tuple[int, int], seed: int, target: str | None) -> Split:
    parts = [frame.iloc[i].reset_index(drop=True) for i in _three_way(len(frame), sizes, seed)]
    return Split(*parts, schema=infer_schema(parts[0], target))


@pytest.fixture(scope="session")
def tips() -> pd.DataFrame:
    """plotly's restaurant tips (244 rows, 7 mixed columns), shipped inside plotly (an sdmetrics dependency)."""
    import plotly.data

    return plotly.data.tips()


@pytest.fixture(scope="session")
def digits_table() -> pd.DataFrame:
    from sklearn.datasets import load_digits

    frame = load_digits(as_frame=True).frame
    pixels = frame.drop(columns="target").var().sort_values().index[-16:]
    return frame[[*sorted(pixels), "target"]].astype({"target": str})


@pytest.fixture(scope="session")
def italy_power() -> np.ndarray:
    """(1096, 24, 1) standardised like validate does (train-wide mean and sd are ~0 and ~1 already)."""
    from synthgen.data.sequences import read_sensor
    from synthgen.io import resolve_source
    from synthgen.validation.redteam import sequence_array

    return sequence_array(read_sensor(resolve_source("pkg:sktime/datasets/data/ItalyPowerDemand")))


@pytest.fixture(scope="session")
def japanese_vowels() -> np.ndarray:
    """(640, 29, 12): utterances of 7 to 29 steps, NaN after each one's end."""
    from synthgen.data.sequences import read_sensor
    from synthgen.io import resolve_source
    from synthgen.validation.redteam import sequence_array

    return sequence_array(read_sensor(resolve_source("pkg:sktime/datasets/data/JapaneseVowels")))


@pytest.fixture(scope="session")
def digit_images():
    from synthgen.data.images import read_images

    return read_images(DIGITS)


def verdicts(ctx: Any, modality: str) -> dict[str, dict[str, Any]]:
    """Every check of `modality` judged with the shipped defaults (the real gate's judge)."""
    from synthgen.validation.gate import judge_all

    return judge_all(ctx, DEFAULT, modality, [])


def privacy_failures(ctx: Any, modality: str) -> list[str]:
    """The fail-level privacy checks of `modality` that fail at the shipped thresholds (the part of
    the gate that must catch a leak; fidelity checks may catch some leaks too, by accident)."""
    failed = []
    for name in CHECKS.names():
        check, cfg = CHECKS.get(name)(), DEFAULT.checks[name]
        if check.modality != modality or check.kind != "privacy" or cfg.level != "fail":
            continue
        if not check.passes(check.compute(ctx).score, cfg.threshold):
            failed.append(name)
    return failed


def context(train: Any, holdout: Any, synthetic: Any, schema: Schema | None, seed: int, out: Path) -> Any:
    from synthgen.validation.base import Context

    return Context(train, holdout, synthetic.reset_index(drop=True), schema, seed, out)
