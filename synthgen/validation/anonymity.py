"""Singling-out, linkability and inference risks, as anonymeter (Giomi et al., PoPETs 2023) defines them.

anonymeter itself pins numpy < 1.27 and pyarrow < 22, so its published estimates are re-implemented
here. Each attack is run against real train records (which the generator saw) and, as the control,
against as many holdout records (which it did not). The risk is
(attack success − control success) / (1 − control success): 0 when the synthetic data helps the
attacker no more on trained-on records than on unseen ones. The 95% interval comes from the Wilson
interval of the attack's success rate; a random-guess attack is reported as the sanity baseline.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from synthgen.data.schema import NUMERIC_KINDS
from synthgen.encoding.columns import to_float
from synthgen.registry import CHECKS
from synthgen.validation.base import Check, CheckSkipped, Context, Outcome
from synthgen.validation.distance import DistanceSpace, nearest_index

MAX_TARGETS = 500
PREDICATE_COLUMNS = 3
NUMERIC_TOLERANCE = 0.05
Z = 1.96


def wilson(successes: int, n: int) -> tuple[float, float, float]:
    """Success rate with its 95% Wilson score interval."""
    if n == 0:
        return 0.0, 0.0, 1.0
    p = successes / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return p, max(0.0, centre - half), min(1.0, centre + half)


def risk(attack: list[bool], control: list[bool], baseline: list[bool]) -> Outcome:
    rate, low, high = wilson(int(np.sum(attack)), len(attack))
    control_rate = float(np.mean(control)) if len(control) else 0.0
    scale = 1 - control_rate if control_rate < 1 else 1.0

    def norm(r: float) -> float:
        return max(0.0, (r - control_rate) / scale)

    return Outcome(
        norm(rate),
        {
            "risk_ci95": [round(norm(low), 4), round(norm(high), 4)],
            "attack_success": round(rate, 4),
            "control_success": round(control_rate, 4),
            "baseline_success": round(float(np.mean(baseline)), 4),
            "attacks": len(attack),
        },
    )


def _targets(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame, np.random.Generator]:
    """Equal numbers of trained-on (train) and unseen (holdout) target records."""
    rng = np.random.default_rng(ctx.seed + 7)
    n = min(len(ctx.train), len(ctx.holdout), MAX_TARGETS)
    if n < 10 or len(ctx.modelled_columns) < 2:
        raise CheckSkipped("needs at least 10 train and holdout rows and 2 modelled columns")
    train = ctx.train.iloc[rng.choice(len(ctx.train), n, replace=False)].reset_index(drop=True)
    holdout = ctx.holdout.iloc[rng.choice(len(ctx.holdout), n, replace=False)].reset_index(drop=True)
    return train, holdout, rng


def _values(frame: pd.DataFrame, ctx: Context, name: str) -> np.ndarray:
    col = ctx.schema.column(name)
    if col.kind in NUMERIC_KINDS:
        return to_float(frame[name], col)
    return frame[name].astype(str).where(frame[name].notna(), "<NA>").to_numpy()


@CHECKS.register("singling_out_risk")
class SinglingOutRisk(Check):
    name = "singling_out_risk"
    kind = "privacy"
    direction = "lower_is_better"
    description = (
        "anonymeter singling-out risk: 3-column predicates read off synthetic rows that isolate one real record"
    )

    def compute(self, ctx: Context) -> Outcome:
        # As anonymeter does, a predicate is checked against the whole original (train) table, and
        # against the control (holdout) table: a copied record is singled out in the first only.
        _, holdout, rng = _targets(ctx)
        train, columns = ctx.train, ctx.modelled_columns
        values = {
            c: (_values(train, ctx, c), _values(holdout, ctx, c), _values(ctx.synthetic, ctx, c)) for c in columns
        }
        numeric = {c for c in columns if ctx.schema.column(c).kind in NUMERIC_KINDS}
        attack, control, baseline = [], [], []
        for _ in range(MAX_TARGETS):
            row = rng.integers(len(ctx.synthetic))
            chosen = rng.choice(columns, size=min(PREDICATE_COLUMNS, len(columns)), replace=False)
            masks = [np.ones(len(train), bool), np.ones(len(holdout), bool), np.ones(len(train), bool)]
            for c in chosen:
                real, unseen, synth = values[c]
                value, random_value = synth[row], rng.choice(real)
                if c in numeric:  # values sit on the column's grid, so equality is meaningful
                    tests = [
                        np.isclose(real, value, rtol=1e-9, atol=0),
                        np.isclose(unseen, value, rtol=1e-9, atol=0),
                        np.isclose(real, random_value, rtol=1e-9, atol=0),
                    ]
                else:
                    tests = [real == value, unseen == value, real == random_value]
                masks = [m & t for m, t in zip(masks, tests, strict=True)]
            attack.append(masks[0].sum() == 1)
            control.append(masks[1].sum() == 1)
            baseline.append(masks[2].sum() == 1)
        return risk(attack, control, baseline)


def _split_columns(ctx: Context, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    columns = list(rng.permutation(ctx.modelled_columns))
    half = len(columns) // 2
    return columns[:half], columns[half:]


@CHECKS.register("linkability_risk")
class LinkabilityRisk(Check):
    name = "linkability_risk"
    kind = "privacy"
    direction = "lower_is_better"
    description = "anonymeter linkability risk: two halves of a record lead to the same nearest synthetic row"

    def compute(self, ctx: Context) -> Outcome:
        train, holdout, rng = _targets(ctx)
        left, right = _split_columns(ctx, rng)

        spaces = [DistanceSpace(ctx.schema, ctx.train, cols) for cols in (left, right)]

        def linked(frame: pd.DataFrame) -> list[bool]:
            hits = [nearest_index(s.embed(ctx.synthetic), s.embed(frame)) for s in spaces]
            return list(hits[0] == hits[1])

        random_pairs = rng.integers(len(ctx.synthetic), size=(len(train), 2))
        return risk(linked(train), linked(holdout), list(random_pairs[:, 0] == random_pairs[:, 1]))


@CHECKS.register("inference_risk")
class InferenceRisk(Check):
    name = "inference_risk"
    kind = "privacy"
    direction = "lower_is_better"
    description = "anonymeter inference risk: the nearest synthetic row on the other columns reveals the secret column"

    def compute(self, ctx: Context) -> Outcome:
        train, holdout, rng = _targets(ctx)
        secret = ctx.schema.target if ctx.schema.target in ctx.modelled_columns else ctx.modelled_columns[-1]
        aux = [c for c in ctx.modelled_columns if c != secret]
        space = DistanceSpace(ctx.schema, ctx.train, aux)
        synth_aux, synth_secret = space.embed(ctx.synthetic), _values(ctx.synthetic, ctx, secret)
        numeric = ctx.schema.column(secret).kind in NUMERIC_KINDS

        def correct(guess: np.ndarray, truth: np.ndarray) -> list[bool]:
            if numeric:
                return list(np.abs(guess - truth) <= NUMERIC_TOLERANCE * np.abs(truth))
            return list(guess == truth)

        def attack(frame: pd.DataFrame) -> list[bool]:
            guess = synth_secret[nearest_index(synth_aux, space.embed(frame))]
            return correct(guess, _values(frame, ctx, secret))

        baseline = correct(rng.choice(synth_secret, len(train)), _values(train, ctx, secret))
        outcome = risk(attack(train), attack(holdout), baseline)
        outcome.details["secret_column"] = secret
        return outcome
