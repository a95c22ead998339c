"""Singling-out, linkability and inference risks, as anonymeter (Giomi et al., PoPETs 2023) defines them.

anonymeter itself pins numpy < 1.27 and pyarrow < 22, so its published estimates are re-implemented
here. Each attack is run against real train records (which the generator saw) and, as the control,
against as many holdout records (which it did not). The risk is
(attack success − control success) / (1 − control success): 0 when the synthetic data helps the
attacker no more on trained-on records than on unseen ones. The 95% interval comes from the Wilson
interval of the attack's success rate; a random-guess attack is reported as the sanity baseline.
anonymeter sets no universal threshold; ours is calibrated: the checks score the one-sided p-value
that the attack beats its control, so the threshold is the false-alarm rate on genuine data (a
fixed risk of 0.2 failed unseen real rows of small tables on noise alone).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from synthgen.data.schema import NUMERIC_KINDS
from synthgen.encoding.columns import to_float
from synthgen.registry import CHECKS
from synthgen.validation.base import Check, CheckSkipped, Context, Outcome
from synthgen.validation.calibration import two_proportion_p
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
    """The score is the one-sided p-value that the attack succeeds more often on trained-on records
    than on unseen ones (the control): a calibrated test, whatever the number of attacks. The
    anonymeter risk and its interval are reported beside it."""
    rate, low, high = wilson(int(np.sum(attack)), len(attack))
    control_rate = float(np.mean(control)) if len(control) else 0.0
    scale = 1 - control_rate if control_rate < 1 else 1.0

    def norm(r: float) -> float:
        return max(0.0, (r - control_rate) / scale)

    return Outcome(
        two_proportion_p(float(np.sum(attack)), len(attack), float(np.sum(control)), max(len(control), 1)),
        {
            "risk": round(norm(rate), 4),
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
    direction = "higher_is_better"
    description = (
        "p-value: predicates read off synthetic rows single out one train record no more often than one holdout record"
    )

    def compute(self, ctx: Context) -> Outcome:
        # anonymeter's multivariate procedure: a predicate on PREDICATE_COLUMNS columns of a synthetic
        # record (numerics as >= / <= the value, on the side away from train's median; categories as
        # ==; missing as isna), kept only if it singles out that record within the synthetic data,
        # succeeds if it singles out exactly one original record. The original is a train sample of
        # the holdout's size, so the holdout (the control) is an equal yardstick.
        rng = np.random.default_rng(ctx.seed + 7)
        n = min(len(ctx.train), len(ctx.holdout))
        columns = ctx.modelled_columns
        if n < 10 or len(columns) < 2:
            raise CheckSkipped("needs at least 10 train and holdout rows and 2 modelled columns")
        original = ctx.train.iloc[rng.choice(len(ctx.train), n, replace=False)]
        control = ctx.holdout.iloc[rng.choice(len(ctx.holdout), n, replace=False)]
        frames = [ctx.synthetic, original, control, ctx.train]
        values = {c: [_values(f, ctx, c) for f in frames] for c in columns}
        numeric = {c for c in columns if ctx.schema.column(c).kind in NUMERIC_KINDS}
        medians = {c: float(np.nanmedian(values[c][3])) for c in numeric}
        queries, baseline = [], []
        for _ in range(MAX_TARGETS * 4):
            if len(queries) == MAX_TARGETS:
                break
            row = int(rng.integers(len(ctx.synthetic)))
            chosen = rng.choice(columns, size=min(PREDICATE_COLUMNS, len(columns)), replace=False)
            masks = [_predicate(values[c], row, c in numeric, medians.get(c)) for c in chosen]
            if np.logical_and.reduce([m[0] for m in masks]).sum() != 1:  # anonymeter's uniqueness filter
                continue
            queries.append(np.concatenate([np.logical_and.reduce([m[i] for m in masks]) for i in (1, 2)]))
            baseline.append(_random_predicate_hits(values, chosen, numeric, medians, rng) == 1)
        if not queries:  # on large sets few half-space predicates are unique; none means none singled out
            return Outcome(1.0, {"queries": 0, "attempts": MAX_TARGETS * 4, "risk": 0.0})
        outcome = singled_out(np.array(queries), n, baseline, rng)
        outcome.details["queries"] = len(queries)  # fewer than MAX_TARGETS: the test has less power
        return outcome


PERMUTATIONS = 4000


def singled_out(matches: np.ndarray, n: int, baseline: list[bool], rng: np.random.Generator) -> Outcome:
    """Risk from (queries × 2n) matches over the original (first n) and control records, and its
    p-value by permutation: the queries all come from one synthetic set and reuse the same few
    records, so they are not independent trials; re-splitting the 2n real records at random gives
    the attack's advantage when membership carries no signal."""
    members = np.zeros((2 * n, PERMUTATIONS + 1), np.float32)
    members[:n, 0] = 1
    for p in range(1, PERMUTATIONS + 1):
        members[rng.permutation(2 * n)[:n], p] = 1
    in_attack = matches.astype(np.float32) @ members  # (queries, permutations): matches among "original"
    in_control = matches.sum(axis=1, keepdims=True) - in_attack
    advantage = (in_attack == 1).mean(axis=0) - (in_control == 1).mean(axis=0)
    p_value = float((1 + (advantage[1:] >= advantage[0]).sum()) / (1 + PERMUTATIONS))
    outcome = risk(list(in_attack[:, 0] == 1), list(in_control[:, 0] == 1), baseline)
    outcome.details.update(permutations=PERMUTATIONS, attack_advantage=round(float(advantage[0]), 4))
    return Outcome(p_value, outcome.details)


def _predicate(values: list[np.ndarray], row: int, numeric: bool, median: float | None) -> list[np.ndarray]:
    """Masks over [synthetic, original, control] of one column's condition, read off synthetic `row`."""
    value = values[0][row]
    if numeric:
        if np.isnan(value):
            return [np.isnan(v) for v in values[:3]]
        return [v >= value if value > median else v <= value for v in values[:3]]
    return [v == value for v in values[:3]]


def _random_predicate_hits(
    values: dict[str, list[np.ndarray]],
    chosen: np.ndarray,
    numeric: set[str],
    medians: dict[str, float],
    rng: np.random.Generator,
) -> int:
    """How many original records a predicate of random train values matches (anonymeter's baseline)."""
    mask = np.ones(len(values[chosen[0]][1]), bool)
    for c in chosen:
        pool = values[c][3]
        value = pool[rng.integers(len(pool))]
        column = values[c][1]
        if c in numeric:
            mask &= (
                np.isnan(column) if np.isnan(value) else (column >= value if value > medians[c] else column <= value)
            )
        else:
            mask &= column == value
    return int(mask.sum())


def _split_columns(ctx: Context, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    columns = list(rng.permutation(ctx.modelled_columns))
    half = len(columns) // 2
    return columns[:half], columns[half:]


@CHECKS.register("linkability_risk")
class LinkabilityRisk(Check):
    name = "linkability_risk"
    kind = "privacy"
    direction = "higher_is_better"
    description = (
        "p-value of anonymeter's linkability attack vs its control: two halves of a record lead to the same "
        "nearest synthetic row"
    )

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
    direction = "higher_is_better"
    description = (
        "p-value of anonymeter's inference attack vs its control: the nearest synthetic row on the other "
        "columns reveals the secret column"
    )

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
