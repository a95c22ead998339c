"""Calibrated privacy tests: the synthetic set against what unseen real data scores in the same run.

Every test here answers one question: would fresh real rows, drawn like the holdout and never
trained on, look at least this close to train? Its score is the one-sided p-value of that question,
so a check's threshold is the false-alarm rate it accepts on genuine data, whatever the table's
size. The null always comes from real rows the model never saw (the holdout, and train records
measured against the rest of train), never from a fixed number.

The tests take distance vectors, so every modality shares them: tables measure in the standardised
distance space, sequences with time-shift-invariant distances, images with flip- and
translation-invariant ones.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from synthgen.validation.base import CheckSkipped, Outcome

NEAR_QUANTILE = 0.05  # METRICS: q = the 5th percentile of unseen-real → train nearest distances
MIN_REFERENCE = 20  # fewer reference distances than this cannot place a 5th percentile
MIN_ROWS = 10


def keyed(distances: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Distances with a random tie-breaker: ranks become exchangeable even on discrete data, where
    many rows share a distance (often 0), so the exact null below holds with ties."""
    return np.stack([np.asarray(distances, float), rng.random(len(distances))], axis=1)


def _below(values: np.ndarray, cut: np.ndarray) -> np.ndarray:
    return (values[:, 0] < cut[0]) | ((values[:, 0] == cut[0]) & (values[:, 1] < cut[1]))


def near_copy_test(reference: np.ndarray, synthetic: np.ndarray, seed: int, quantile: float = NEAR_QUANTILE) -> Outcome:
    """Share of synthetic records closer to train than the `quantile` of unseen real records' distances.

    `reference` holds the nearest-train distances of real records the model did not see (the
    holdout, plus train records measured against the rest of train); `synthetic` those of the
    synthetic records. With q̂ the k-th smallest reference distance, the number of synthetic records
    below q̂ is, when they are as far from train as real unseen records, beta-binomial(n, k, N−k+1)
    exactly (order statistics of exchangeable values), so the p-value needs no approximation and
    accounts for how noisy a percentile of a small holdout is. A minority of near copies, which a
    median or mean averages away, piles up below q̂.
    """
    n_ref, n = len(reference), len(synthetic)
    if n_ref < MIN_REFERENCE or n < MIN_ROWS:
        raise CheckSkipped(f"needs {MIN_REFERENCE} unseen real and {MIN_ROWS} synthetic records, has {n_ref} and {n}")
    rng = np.random.default_rng(seed)
    ref, syn = keyed(reference, rng), keyed(synthetic, rng)
    k = max(1, int(round(quantile * n_ref)))
    order = np.lexsort((ref[:, 1], ref[:, 0]))
    cut = ref[order[k - 1]]
    count = int(_below(syn, cut).sum())
    p_value = float(stats.betabinom.sf(count - 1, n, k, n_ref - k + 1))
    expected = k / (n_ref + 1)
    critical = int(stats.betabinom.isf(0.001, n, k, n_ref - k + 1))
    return Outcome(
        p_value,
        {
            "share_closer": round(count / n, 4),
            "expected_share": round(expected, 4),
            "share_needed_to_fail_at_0.001": round(critical / n, 4),
            "distance_quantile": round(float(cut[0]), 6),
            "unseen_real_records": n_ref,
            "synthetic_records": n,
            "median_distance_synthetic": round(float(np.median(synthetic)), 6),
            "median_distance_unseen_real": round(float(np.median(reference)), 6),
        },
    )


def nearer_train_test(
    synthetic_nearest: np.ndarray,
    real_is_train: np.ndarray,
    unseen_nearer_train: np.ndarray,
    cells: np.ndarray | None = None,
) -> Outcome:
    """DCR share, calibrated: is each synthetic record's nearest real record a train record more often
    than chance allows?

    `synthetic_nearest` indexes each synthetic record's nearest record among train and holdout
    together (in `real_is_train`'s order, which the caller shuffles so that ties fall on train and
    holdout records alike). When nothing is memorised, which real records were trained on is
    exchangeable: any |train| of the real records could have been train, and the synthetic set would
    look the same. So the count of synthetic records whose nearest real record is in train is a
    weighted sample without replacement from the real records' pile sizes (how many synthetic records
    each is nearest to), with exact mean n·|train|/N and variance |train|·|holdout|/(N(N−1))·Σ(c−c̄)²;
    its normal tail is the p-value. Counting piles is what makes this safe on small holdouts: synthetic
    records crowding round a few real records are not independent trials.

    `cells` (one code per real record) permutes only within each cell, a table's combination of
    category values: a model may learn how often each combination occurs in train (an aggregate of
    the rows that hold it), and what is tested is closeness to train rows within a combination. Sum
    of the per-cell means and variances, same formulas; a cell of one record adds nothing.
    `unseen_nearer_train`, each holdout record's own answer (nearest other real record in train?),
    is the unseen-real share shown beside it.
    """
    n, n_real = len(synthetic_nearest), len(real_is_train)
    n_train = int(np.sum(real_is_train))
    n_holdout = n_real - n_train
    if n < MIN_ROWS or n_holdout < MIN_ROWS // 2:
        raise CheckSkipped(f"needs {MIN_ROWS} synthetic and {MIN_ROWS // 2} holdout records, has {n} and {n_holdout}")
    piles = np.bincount(synthetic_nearest, minlength=n_real).astype(float)
    cell = np.zeros(n_real, dtype=int) if cells is None else np.unique(cells, return_inverse=True)[1]
    size, in_train = np.bincount(cell).astype(float), np.bincount(cell, weights=real_is_train.astype(float))
    pile, pile_sq = np.bincount(cell, weights=piles), np.bincount(cell, weights=piles**2)
    hits = float(piles[real_is_train].sum())
    expected = float((pile * in_train / size).sum())
    spread = pile_sq - pile**2 / size  # Σ(c − c̄)² within each cell
    weight = np.divide(in_train * (size - in_train), size * (size - 1), out=np.zeros_like(size), where=size > 1)
    variance = float((weight * spread).sum())
    if variance > 0:
        p_value = float(stats.norm.sf((hits - expected) / math.sqrt(variance)))
    else:
        p_value = 1.0 if hits <= expected + 1e-9 else 0.0
    return Outcome(
        p_value,
        {
            "share_nearer_train": round(hits / n, 4),
            "expected_share": round(expected / n, 4),
            "train_share_of_real": round(n_train / n_real, 4),
            "unseen_real_share": round(float(np.mean(unseen_nearer_train)), 4),
            "largest_pile": int(piles.max()),
            "cells": int(len(size)),
            "synthetic_records": n,
            "train_records": n_train,
            "holdout_records": n_holdout,
        },
    )


def two_proportion_p(hits: float, n: int, null_hits: float, n_null: int) -> float:
    """One-sided p-value that the first proportion exceeds the second (pooled z-test)."""
    share, null = hits / n, null_hits / n_null
    pooled = (hits + null_hits) / (n + n_null)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n_null))
    if se == 0:
        return 1.0 if share <= null else 0.0
    return float(stats.norm.sf((share - null) / se))


def membership_test(members_to_synthetic: np.ndarray, non_members_to_synthetic: np.ndarray) -> Outcome:
    """A distance attack: are trained-on records (members) closer to the synthetic set than unseen
    ones (non-members)? Its ROC AUC is 0.5 when the synthetic set carries no trace of who was trained
    on; the one-sided Mann-Whitney test on the same ranks gives the p-value."""
    n1, n0 = len(members_to_synthetic), len(non_members_to_synthetic)
    if min(n1, n0) < MIN_ROWS // 2:
        raise CheckSkipped(f"needs {MIN_ROWS // 2} members and non-members, has {n1} and {n0}")
    result = stats.mannwhitneyu(-members_to_synthetic, -non_members_to_synthetic, alternative="greater")
    auc = float(result.statistic) / (n1 * n0)
    return Outcome(
        float(result.pvalue),
        {"attack_auc": round(auc, 4), "members": n1, "non_members": n0, "attack": "closeness to the nearest synthetic"},
    )
