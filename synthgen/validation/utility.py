"""Utility: is the synthetic set useful for training? Same model family, scored on the real holdout."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from synthgen.registry import CHECKS
from synthgen.validation.base import Check, CheckSkipped, Context, Outcome
from synthgen.validation.features import gradient_boosting, native_features

MIN_ROWS = 10


def _scores(y_true: np.ndarray, y_pred: np.ndarray, classification: bool) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, r2_score

    if classification:
        return {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        }
    return {"r2": float(r2_score(y_true, y_pred))}


def _fit_predict(train: pd.DataFrame, test: pd.DataFrame, ctx: Context) -> np.ndarray:
    target = ctx.schema.target
    features = [c for c in ctx.modelled_columns if c != target]
    (x_train, x_test), mask = native_features([train, test], ctx.schema, features)
    classification = ctx.schema.is_classification
    y = train[target].astype(str).to_numpy() if classification else pd.to_numeric(train[target]).to_numpy()
    if classification and len(set(y)) < 2:
        raise CheckSkipped("the training rows hold a single class; a classifier cannot be trained")
    model = gradient_boosting(mask, ctx.seed, regression=not classification)
    with warnings.catch_warnings(), threadpool_limits(1):  # OpenMP threads thrash on small data
        warnings.simplefilter("ignore")
        return model.fit(x_train, y).predict(x_test)


def _runs(ctx: Context) -> dict[str, Any]:
    """TRTR, TSTR and real+synthetic, each trained once and scored on the holdout."""
    target = ctx.schema.target
    if not target:
        raise CheckSkipped("no target column; utility needs --target")
    if not ctx.schema.is_classification and ctx.schema.column(target).kind not in ("numeric", "integer"):
        raise CheckSkipped(f"target {target!r} is neither a class nor a number; no classifier or regressor applies")
    if min(len(ctx.train), len(ctx.synthetic), len(ctx.holdout)) < MIN_ROWS:
        raise CheckSkipped(f"needs at least {MIN_ROWS} rows in train, synthetic and holdout")
    classification = ctx.schema.is_classification
    truth = (
        ctx.holdout[target].astype(str).to_numpy() if classification else pd.to_numeric(ctx.holdout[target]).to_numpy()
    )
    preds = {
        "trtr": _fit_predict(ctx.train, ctx.holdout, ctx),
        "tstr": _fit_predict(ctx.synthetic, ctx.holdout, ctx),
        "augmented": _fit_predict(pd.concat([ctx.train, ctx.synthetic], ignore_index=True), ctx.holdout, ctx),
    }
    return {"truth": truth, "preds": preds, "scores": {k: _scores(truth, p, classification) for k, p in preds.items()}}


def _headline(scores: dict[str, float]) -> float:
    return scores.get("macro_f1", scores.get("r2", np.nan))


@CHECKS.register("utility")
class Utility(Check):
    name = "utility"
    kind = "utility"
    direction = "higher_is_better"
    description = "TSTR / TRTR: macro-F1 (or R²) on the holdout of gradient boosting trained on synthetic vs real"

    def compute(self, ctx: Context) -> Outcome:
        runs = ctx.cached("utility", lambda: _runs(ctx))
        trtr, tstr = _headline(runs["scores"]["trtr"]), _headline(runs["scores"]["tstr"])
        if not trtr > 0:
            raise CheckSkipped(f"the model trained on real rows scores {trtr:.3f} on the holdout; no ratio to take")
        return Outcome(tstr / trtr, {"trtr": runs["scores"]["trtr"], "tstr": runs["scores"]["tstr"]})


@CHECKS.register("augmentation_gain")
class AugmentationGain(Check):
    name = "augmentation_gain"
    kind = "utility"
    direction = "higher_is_better"
    description = "macro-F1 (or R²) on the holdout: trained on real train + synthetic minus real train alone"

    def compute(self, ctx: Context) -> Outcome:
        from sklearn.metrics import f1_score, recall_score

        runs = ctx.cached("utility", lambda: _runs(ctx))
        real, augmented = runs["scores"]["trtr"], runs["scores"]["augmented"]
        details: dict[str, Any] = {"real": real, "augmented": augmented}
        if ctx.schema.is_classification:
            counts = ctx.train[ctx.schema.target].astype(str).value_counts()
            minority = [c for c in counts.index if counts[c] < counts.max()]
            per_class = {}
            for cls in minority:
                row = {}
                for run in ("trtr", "augmented"):
                    pred = runs["preds"][run]
                    row[f"recall_{run}"] = float(
                        recall_score(runs["truth"], pred, labels=[cls], average="macro", zero_division=0)
                    )
                    row[f"f1_{run}"] = float(
                        f1_score(runs["truth"], pred, labels=[cls], average="macro", zero_division=0)
                    )
                per_class[cls] = row
            details["minority_classes"] = per_class
        return Outcome(_headline(augmented) - _headline(real), details)
