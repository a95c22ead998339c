"""Privacy checks: is the synthetic set closer to what was trained on than to unseen real rows?"""

from __future__ import annotations

import numpy as np

from synthgen.registry import CHECKS
from synthgen.validation.base import Check, CheckSkipped, Context, Outcome
from synthgen.validation.distance import DistanceSpace, nearest, row_keys

DCR_DRAWS = 10


def _space(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, holdout and synthetic rows embedded in the train-fitted distance space."""
    if not ctx.modelled_columns:
        raise CheckSkipped("no modelled columns to measure distances on")
    space = DistanceSpace(ctx.schema, ctx.train, ctx.modelled_columns)
    return space.embed(ctx.train), space.embed(ctx.holdout), space.embed(ctx.synthetic)


@CHECKS.register("dcr_share")
class DCRShare(Check):
    name = "dcr_share"
    kind = "privacy"
    direction = "lower_is_better"
    description = "share of synthetic rows nearer to a train row than to a holdout row (0.5 ideal)"

    def compute(self, ctx: Context) -> Outcome:
        train, holdout, synth = ctx.cached("space", lambda: _space(ctx))
        rng = np.random.default_rng(ctx.seed)
        size = min(len(train), len(holdout))
        holdout_sample = holdout[rng.choice(len(holdout), size, replace=False)]
        to_holdout = nearest(holdout_sample, synth)[:, 0]
        # Averaged over several train draws: one draw of a few dozen rows is a noisy yardstick.
        draws = DCR_DRAWS if size < len(train) else 1
        shares = []
        for _ in range(draws):
            to_train = nearest(train[rng.choice(len(train), size, replace=False)], synth)[:, 0]
            shares.append(np.where(to_train < to_holdout, 1.0, np.where(to_train == to_holdout, 0.5, 0.0)).mean())
        return Outcome(
            float(np.mean(shares)),
            {"reference_rows_each": int(size), "train_draws": draws, "synthetic_rows": len(synth)},
        )


@CHECKS.register("exact_copies")
class ExactCopies(Check):
    name = "exact_copies"
    kind = "privacy"
    direction = "lower_is_better"
    description = "share of synthetic rows identical to a train row, minus the holdout's own share"

    def compute(self, ctx: Context) -> Outcome:
        columns = ctx.modelled_columns
        train_keys = set(row_keys(ctx.train, columns))
        synth_rate = float(row_keys(ctx.synthetic, columns).isin(train_keys).mean())
        holdout_rate = float(row_keys(ctx.holdout, columns).isin(train_keys).mean())
        return Outcome(
            synth_rate - holdout_rate, {"synthetic_copy_rate": synth_rate, "holdout_copy_rate": holdout_rate}
        )


@CHECKS.register("dcr_ratio")
class DCRRatio(Check):
    name = "dcr_ratio"
    kind = "privacy"
    direction = "higher_is_better"
    description = "median distance synthetic→train over median holdout→train (≈1 ideal, <1 copying)"

    def compute(self, ctx: Context) -> Outcome:
        train, holdout, synth = ctx.cached("space", lambda: _space(ctx))
        synth_median = float(np.median(nearest(train, synth)[:, 0]))
        holdout_median = float(np.median(nearest(train, holdout)[:, 0]))
        if holdout_median == 0:
            raise CheckSkipped("half or more of the holdout rows duplicate train rows; the ratio is undefined")
        return Outcome(
            synth_median / holdout_median, {"synthetic_median": synth_median, "holdout_median": holdout_median}
        )
