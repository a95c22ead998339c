"""Detection (C2ST): can a classifier tell real rows from synthetic ones? AUC 0.5 = no.

Two-sided: the score is |AUC − 0.5|. An AUC far *below* 0.5 is a memorisation signal too: a
synthetic near-twin of a train row lands in another fold than its twin and the classifier, having
learnt the twin as real, calls it real (METRICS, "Detection").
"""

from __future__ import annotations

import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from synthgen.registry import CHECKS
from synthgen.validation.base import Check, CheckSkipped, Context, Outcome
from synthgen.validation.features import gradient_boosting, native_features

FOLDS = 5


@CHECKS.register("detection")
class Detection(Check):
    name = "detection"
    kind = "fidelity"
    direction = "lower_is_better"
    description = "|AUC − 0.5| of 5-fold gradient boosting on native columns, real train vs synthetic (0 ideal)"

    def compute(self, ctx: Context) -> Outcome:
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        n = min(len(ctx.train), len(ctx.synthetic))
        if n < 2 * FOLDS:
            raise CheckSkipped(f"needs at least {2 * FOLDS} real and synthetic rows, has {n}")
        rng = np.random.default_rng(ctx.seed)
        real = ctx.train.iloc[rng.choice(len(ctx.train), n, replace=False)]
        synth = ctx.synthetic.iloc[rng.choice(len(ctx.synthetic), n, replace=False)]
        (x_real, x_synth), mask = native_features([real, synth], ctx.schema, ctx.modelled_columns)
        x = np.vstack([x_real, x_synth])
        y = np.r_[np.zeros(n), np.ones(n)]
        folds = StratifiedKFold(FOLDS, shuffle=True, random_state=ctx.seed)
        with warnings.catch_warnings(), threadpool_limits(1):  # OpenMP threads thrash on small data
            warnings.simplefilter("ignore")
            aucs = cross_val_score(gradient_boosting(mask, ctx.seed), x, y, cv=folds, scoring="roc_auc")
        auc = float(np.mean(aucs))
        return Outcome(
            abs(auc - 0.5), {"auc": round(auc, 4), "fold_auc": [round(float(a), 4) for a in aucs], "rows_each": n}
        )
