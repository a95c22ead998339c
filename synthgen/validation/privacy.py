"""Privacy checks on tables: is the synthetic set closer to what was trained on than unseen real rows are?

Each check is a calibrated test (validation/calibration.py): its score is a one-sided p-value
against what real rows the model never saw score in the same run, and its threshold is the
false-alarm rate accepted on genuine data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthgen.data.schema import NUMERIC_KINDS
from synthgen.registry import CHECKS
from synthgen.validation.base import Check, CheckSkipped, Context, Outcome
from synthgen.validation.calibration import membership_test, near_copy_test, nearer_train_test
from synthgen.validation.distance import DistanceSpace, nearest_with_index, row_keys


def embedded(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, holdout and synthetic rows embedded in the train-fitted distance space."""
    if not ctx.modelled_columns:
        raise CheckSkipped("no modelled columns to measure distances on")
    space = DistanceSpace(ctx.schema, ctx.train, ctx.modelled_columns)
    return space.embed(ctx.train), space.embed(ctx.holdout), space.embed(ctx.synthetic)


@dataclass
class Distances:
    """Every nearest-neighbour distance the privacy checks of one modality need, computed once.

    `neighbours(reference, queries, k)` returns each query's k smallest distances to the reference
    records and their indices (shapes (n, k)); the modality decides what a distance is (invariances
    included).
    """

    synthetic_to_train: np.ndarray
    unseen_to_train: np.ndarray  # holdout → train, then train → the rest of train
    synthetic_nearest_real: np.ndarray  # index of each synthetic record's nearest real record ...
    real_is_train: np.ndarray  # ... among train and holdout, shuffled: True where it is a train record
    unseen_nearer_train: np.ndarray  # per holdout record: is its nearest other real record in train?
    real_cells: np.ndarray | None  # per real record, same order: its combination of category values
    train_to_synthetic: np.ndarray
    holdout_to_synthetic: np.ndarray


Neighbours = Callable[..., tuple[np.ndarray, np.ndarray]]


def distances(
    train: np.ndarray,
    holdout: np.ndarray,
    synthetic: np.ndarray,
    seed: int,
    neighbours: Neighbours | None = None,
    cells: np.ndarray | None = None,
) -> Distances:
    """The distances of `Distances` for records given as arrays (rows, or flattened sequences/images);
    `cells` labels each train, then holdout, record with its combination of category values."""
    neighbours = neighbours or nearest_with_index
    if min(len(train), len(holdout)) < 4 or len(synthetic) == 0:
        raise CheckSkipped(f"needs 4 train and holdout records and a synthetic one, has {len(train)}, {len(holdout)}")
    queries, real = np.concatenate([synthetic, holdout]), np.concatenate([train, holdout])
    to_train = neighbours(train, queries)[0][:, 0]
    train_loo = neighbours(train, train, 2)[0][:, 1]  # neighbour 0 is the record itself
    synthetic_to_train, holdout_to_train = to_train[: len(synthetic)], to_train[len(synthetic) :]
    # train and holdout pooled in a random order, so a tie's winner is never decided by which side it is on
    order = np.random.default_rng(seed + 11).permutation(len(real))
    real_is_train = order < len(train)
    position = np.argsort(order)  # where each train, then holdout, record sits in the pooled order
    nearest_real = neighbours(real[order], queries, 2)[1]
    own, pair = position[len(train) :], nearest_real[len(synthetic) :]
    holdout_nearest_other = np.where(pair[:, 0] == own, pair[:, 1], pair[:, 0])
    to_synthetic = neighbours(synthetic, real)[0][:, 0]
    return Distances(
        synthetic_to_train,
        np.concatenate([holdout_to_train, train_loo]),
        nearest_real[: len(synthetic), 0],
        real_is_train,
        real_is_train[holdout_nearest_other],
        None if cells is None else np.asarray(cells)[order],
        to_synthetic[: len(train)],
        to_synthetic[len(train) :],
    )


def _table_distances(ctx: Context) -> Distances:
    return ctx.cached(
        "distances",
        lambda: distances(*ctx.cached("space", lambda: embedded(ctx)), ctx.seed, cells=_category_cells(ctx)),
    )


def _category_cells(ctx: Context) -> np.ndarray | None:
    """Each train, then holdout, row's combination of modelled category values (None: no category)."""
    columns = [c for c in ctx.modelled_columns if ctx.schema.column(c).kind not in NUMERIC_KINDS]
    if not columns:
        return None
    return row_keys(pd.concat([ctx.train[columns], ctx.holdout[columns]], ignore_index=True), columns).to_numpy()


class _Calibrated(Check):
    """A privacy test whose score is a p-value: it fails when unseen real data would look this close
    to train less often than `threshold` (the accepted false-alarm rate). Each modality subclasses
    the three tests below with its own `distances` (with the invariances its records need)."""

    kind = "privacy"
    direction = "higher_is_better"

    @staticmethod
    def distances(ctx: Any) -> Distances:
        raise NotImplementedError


class DCRShareTest(_Calibrated):
    def compute(self, ctx: Any) -> Outcome:
        d = self.distances(ctx)
        return nearer_train_test(d.synthetic_nearest_real, d.real_is_train, d.unseen_nearer_train, d.real_cells)


class NearCopiesTest(_Calibrated):
    def compute(self, ctx: Any) -> Outcome:
        d = self.distances(ctx)
        return near_copy_test(d.unseen_to_train, d.synthetic_to_train, ctx.seed)


class MembershipTest(_Calibrated):
    def compute(self, ctx: Any) -> Outcome:
        d = self.distances(ctx)
        return membership_test(d.train_to_synthetic, d.holdout_to_synthetic)


def distance_tests(
    modality: str, prefix: str, unit: str, distances: Any, invariance: str = ""
) -> tuple[type[Check], type[Check], type[Check]]:
    """Register the three calibrated distance tests (DCR share, near copies, membership inference)
    of one modality, named `<prefix>dcr_share` etc., scored on its own `distances(ctx)`."""
    tests = (
        (
            "dcr_share",
            DCRShareTest,
            f"synthetic {unit} nearer to train than to holdout no more often than train's share of real {unit}",
        ),
        ("near_copies", NearCopiesTest, f"share of synthetic {unit} nearer to train{invariance} than unseen 5th pct"),
        (
            "membership_inference",
            MembershipTest,
            f"a distance attack tells train {unit} from holdout no better than chance",
        ),
    )
    made = []
    for suffix, base, text in tests:
        name = f"{prefix}{suffix}"
        attributes = {"name": name, "modality": modality, "description": f"p-value: {text}"}
        made.append(CHECKS.register(name)(type(name, (base,), {**attributes, "distances": staticmethod(distances)})))
    return made[0], made[1], made[2]


DCRShare, NearCopies, MembershipInference = distance_tests("tabular", "", "rows", _table_distances)


@CHECKS.register("exact_copies")
class ExactCopies(_Calibrated):
    name = "exact_copies"
    description = "p-value: synthetic rows equal to a train row no more often than holdout rows are (Fisher)"

    def compute(self, ctx: Context) -> Outcome:
        """Over every row when validate streamed the full tables (ctx.cache), else over the frames given."""
        counts = ctx.cached("copy_counts", lambda: _copy_counts(ctx))
        copies, n, natural, n_holdout = (counts[k] for k in ("synthetic", "synthetic_rows", "holdout", "holdout_rows"))
        if min(n, n_holdout) == 0:
            raise CheckSkipped("no synthetic or holdout rows")
        p_value = stats.fisher_exact([[copies, n - copies], [natural, n_holdout - natural]], alternative="greater")[1]
        return Outcome(
            float(p_value),
            {"synthetic_copy_rate": round(copies / n, 6), "holdout_copy_rate": round(natural / n_holdout, 6), **counts},
        )


def _copy_counts(ctx: Context) -> dict[str, int]:
    columns = ctx.modelled_columns
    train_keys = set(row_keys(ctx.train, columns))
    return {
        "synthetic": int(row_keys(ctx.synthetic, columns).isin(train_keys).sum()),
        "synthetic_rows": len(ctx.synthetic),
        "holdout": int(row_keys(ctx.holdout, columns).isin(train_keys).sum()),
        "holdout_rows": len(ctx.holdout),
    }
