"""Column shapes, column pair trends and their mean, from SDMetrics' own column metrics.

SDMetrics' QualityReport (0.32) bins the real and the synthetic numerics each by its own range, so
one outlier shifts every bin and even a real holdout scores ~0.45 on a pair that is in fact
identical. We call the same column and column-pair metrics directly with the real data's bin
edges (what `ContingencySimilarity` does when given `continuous_column_names`), which is the
definition in METRICS.md.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd

from synthgen.data.schema import NUMERIC_KINDS
from synthgen.encoding.columns import to_float
from synthgen.registry import CHECKS
from synthgen.validation.base import Check, CheckSkipped, Context, Outcome

FLOOR_RESAMPLES = 40  # bootstrap draws of the holdout for the real-data floor
FLOOR_SD = 3.0  # the floor: this many standard deviations of the real-vs-synthetic difference under the real mean
SYNTHETIC_RESAMPLES = 10  # bootstrap draws of the synthetic set at the holdout's size (their mean is compared)


def _prepared(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame, list[str], list[str]]:
    """Real train and synthetic with datetimes as numbers; columns with more than one value."""
    columns = [c for c in ctx.modelled_columns if ctx.train[c].nunique(dropna=False) > 1]
    if not columns:
        raise CheckSkipped("no column with more than one value to compare")
    numeric = [c for c in columns if ctx.schema.column(c).kind in NUMERIC_KINDS]
    real, synth = ctx.train[columns].copy(), ctx.synthetic[columns].copy()
    for name in numeric:
        col = ctx.schema.column(name)
        real[name], synth[name] = to_float(real[name], col), to_float(synth[name], col)
    for name in set(columns) - set(numeric):
        real[name], synth[name] = real[name].astype(object), synth[name].astype(object)
    return real, synth, columns, numeric


def _shapes(ctx: Context) -> dict[str, float]:
    from sdmetrics.single_column import KSComplement, TVComplement

    real, synth, columns, numeric = ctx.cached("fidelity_data", lambda: _prepared(ctx))
    scores = {}
    for name in columns:
        if name in numeric:
            r, s = real[name].dropna(), synth[name].dropna()
            scores[name] = KSComplement.compute(r, s) if len(r) and len(s) else np.nan
        else:
            scores[name] = TVComplement.compute(real[name].fillna("<NA>"), synth[name].fillna("<NA>"))
    return scores


def _correlation_similarity(real: pd.DataFrame, synth: pd.DataFrame) -> float:
    """SDMetrics' CorrelationSimilarity, 1 - |rho_real - rho_synthetic| / 2, which refuses a constant
    column. A constant synthetic column keeps no correlation, so it scores as rho = 0 rather than being
    left out (which would reward a model that collapses a column); a constant real one has none to keep."""
    from sdmetrics.column_pairs import CorrelationSimilarity

    if min(len(real), len(synth)) <= 2 or (real.nunique() < 2).any():
        return np.nan
    if (synth.nunique() < 2).any():
        return float(1 - abs(real.corr().iloc[0, 1]) / 2)
    return float(CorrelationSimilarity.compute(real, synth, coefficient="Pearson"))


def _pair_trends(ctx: Context) -> dict[str, float]:
    from sdmetrics.column_pairs import ContingencySimilarity

    real, synth, columns, numeric = ctx.cached("fidelity_data", lambda: _prepared(ctx))
    scores = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for a, b in itertools.combinations(columns, 2):
            if a in numeric and b in numeric:
                score = _correlation_similarity(real[[a, b]].dropna(), synth[[a, b]].dropna())
            else:
                continuous = [c for c in (a, b) if c in numeric]
                score = ContingencySimilarity.compute(real[[a, b]], synth[[a, b]], continuous_column_names=continuous)
            scores[f"{a} / {b}"] = float(score)
    return scores


def _mean(scores: dict[str, float], what: str) -> float:
    values = [v for v in scores.values() if np.isfinite(v)]
    if not values:
        raise CheckSkipped(f"no {what} could be scored (constant or empty columns)")
    return float(np.mean(values))


class _TableFidelity(Check):
    """A fidelity score whose threshold is never above what unseen real rows reach at this size.
    Scores fall with sample size, so both sides are scored alike: bootstrap resamples of the holdout
    and of the synthetic set, each of the holdout's size (at most the synthetic set's), against train."""

    kind = "fidelity"
    direction = "higher_is_better"

    def real_floor(self, ctx: Context) -> tuple[float, float] | None:
        # One set of resamples for all three checks; each resample caches its shapes and pairs.
        real_ctxs, synthetic_ctxs = ctx.cached("floor_resamples", lambda: _floor_resamples(ctx))
        try:
            real = [self.compute(c).score for c in real_ctxs]
            synthetic = [self.compute(c).score for c in synthetic_ctxs]
        except CheckSkipped:
            return None
        if not np.isfinite(real + synthetic).all():
            return None
        # The noise of the difference: the holdout's own, plus the synthetic mean's (its resampling,
        # and the synthetic set's own sampling, smaller the more rows it has than n).
        n = min(len(ctx.holdout), len(ctx.synthetic))
        spread = np.var(real) + np.var(synthetic) * (1 / SYNTHETIC_RESAMPLES + n / len(ctx.synthetic))
        return float(np.mean(synthetic)), float(np.mean(real) - FLOOR_SD * np.sqrt(spread))


def _floor_resamples(ctx: Context) -> tuple[list[Context], list[Context]]:
    """Contexts whose synthetic set is a bootstrap resample of n rows of the holdout (FLOOR_RESAMPLES
    of them) or of the synthetic set (SYNTHETIC_RESAMPLES), n = the holdout's size at most the
    synthetic set's."""
    rng = np.random.default_rng(ctx.seed + 23)
    n = min(len(ctx.holdout), len(ctx.synthetic))

    def resampled(rows: pd.DataFrame) -> Context:
        resample = rows.iloc[rng.integers(0, len(rows), n)].reset_index(drop=True)
        return Context(ctx.train, ctx.holdout, resample, ctx.schema, ctx.seed, ctx.out_dir)

    real = [resampled(ctx.holdout) for _ in range(FLOOR_RESAMPLES)]
    return real, [resampled(ctx.synthetic) for _ in range(SYNTHETIC_RESAMPLES)]


@CHECKS.register("column_shapes")
class ColumnShapes(_TableFidelity):
    name = "column_shapes"
    description = "mean KSComplement (numeric, datetime) / TVComplement (categorical) over columns"

    def compute(self, ctx: Context) -> Outcome:
        scores = ctx.cached("shapes", lambda: _shapes(ctx))
        return Outcome(_mean(scores, "column"), {k: round(v, 4) for k, v in scores.items()})


@CHECKS.register("column_pair_trends")
class ColumnPairTrends(_TableFidelity):
    name = "column_pair_trends"
    description = "mean CorrelationSimilarity (numeric pairs) / ContingencySimilarity (others) over pairs"

    def compute(self, ctx: Context) -> Outcome:
        scores = ctx.cached("pairs", lambda: _pair_trends(ctx))
        if len(scores) == 0:
            raise CheckSkipped("fewer than two columns to pair")
        worst = dict(sorted(scores.items(), key=lambda kv: kv[1])[:10])
        return Outcome(_mean(scores, "column pair"), {"worst_pairs": {k: round(v, 4) for k, v in worst.items()}})


@CHECKS.register("quality")
class Quality(_TableFidelity):
    name = "quality"
    description = "mean of column shapes and column pair trends (SDMetrics' quality score)"

    def compute(self, ctx: Context) -> Outcome:
        shapes = _mean(ctx.cached("shapes", lambda: _shapes(ctx)), "column")
        pairs = ctx.cached("pairs", lambda: _pair_trends(ctx))
        if not pairs or not any(np.isfinite(list(pairs.values()))):
            return Outcome(shapes, {"column_shapes": shapes, "column_pair_trends": None})
        trends = _mean(pairs, "column pair")
        return Outcome(
            (shapes + trends) / 2, {"column_shapes": round(shapes, 4), "column_pair_trends": round(trends, 4)}
        )
