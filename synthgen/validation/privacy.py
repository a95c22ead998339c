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
        return share_nearer_train(train, holdout, synth, ctx.seed)


def share_nearer_train(train: np.ndarray, holdout: np.ndarray, synth: np.ndarray, seed: int) -> Outcome:
    """DCR share on embedded rows: train and holdout are cut to the same size so 0.5 means no leak."""
    rng = np.random.default_rng(seed)
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
        """Over every row when validate streamed the full tables (ctx.cache), else over the frames given."""
        rates = ctx.cached("copy_rates", lambda: _copy_rates(ctx))
        return Outcome(rates["synthetic_copy_rate"] - rates["holdout_copy_rate"], dict(rates))


def _copy_rates(ctx: Context) -> dict[str, float]:
    columns = ctx.modelled_columns
    train_keys = set(row_keys(ctx.train, columns))
    return {
        "synthetic_copy_rate": float(row_keys(ctx.synthetic, columns).isin(train_keys).mean()),
        "holdout_copy_rate": float(row_keys(ctx.holdout, columns).isin(train_keys).mean()),
    }


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


def _nndr(reference: np.ndarray, queries: np.ndarray) -> np.ndarray:
    d = nearest(reference, queries, k=2)
    return np.where(d[:, 1] > 0, d[:, 0] / np.maximum(d[:, 1], 1e-12), 1.0)


@CHECKS.register("nndr_ratio")
class NNDRRatio(Check):
    name = "nndr_ratio"
    kind = "privacy"
    direction = "higher_is_better"
    description = "median nearest/second-nearest train distance ratio, synthetic over holdout (≈1 ideal, →0 copying)"

    def compute(self, ctx: Context) -> Outcome:
        train, holdout, synth = ctx.cached("space", lambda: _space(ctx))
        if len(train) < 2:
            raise CheckSkipped("needs at least two train rows")
        synth_median, holdout_median = float(np.median(_nndr(train, synth))), float(np.median(_nndr(train, holdout)))
        if holdout_median == 0:
            raise CheckSkipped("half or more of the holdout rows duplicate train rows; the ratio is undefined")
        return Outcome(
            synth_median / holdout_median, {"synthetic_median": synth_median, "holdout_median": holdout_median}
        )


@CHECKS.register("membership_inference")
class MembershipInference(Check):
    name = "membership_inference"
    kind = "privacy"
    direction = "lower_is_better"
    description = (
        "ROC AUC of a distance attack: train members vs holdout non-members, scored by closeness to synthetic rows"
    )

    def compute(self, ctx: Context) -> Outcome:
        from sklearn.metrics import roc_auc_score

        train, holdout, synth = ctx.cached("space", lambda: _space(ctx))
        rng = np.random.default_rng(ctx.seed + 1)
        size = min(len(train), len(holdout))
        if size < 5:
            raise CheckSkipped(f"needs at least 5 train and holdout rows, has {size}")
        members = train[rng.choice(len(train), size, replace=False)]
        non_members = holdout[rng.choice(len(holdout), size, replace=False)]
        # The attacker's score: the closer a record is to some synthetic row, the likelier it was trained on.
        closeness = -nearest(synth, np.vstack([members, non_members]))[:, 0]
        auc = float(roc_auc_score(np.r_[np.ones(size), np.zeros(size)], closeness))
        return Outcome(auc, {"members": size, "non_members": size, "attack": "distance to closest synthetic row"})
