"""Rows as a native feature matrix for scikit-learn's gradient boosting (categoricals as codes)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthgen.data.schema import NUMERIC_KINDS, Schema
from synthgen.encoding.columns import to_float

MAX_CATEGORIES = 250  # gradient boosting's categorical support stops at 255 bins


def native_features(
    frames: list[pd.DataFrame], schema: Schema, columns: list[str]
) -> tuple[list[np.ndarray], np.ndarray]:
    """Encode several frames consistently; returns the matrices and the categorical-column mask.

    Numbers stay as they are (rounding and value grids stay visible to the classifier), categories
    share one code book across the frames, missing values stay missing.
    """
    matrices: list[list[np.ndarray]] = [[] for _ in frames]
    mask = []
    for name in columns:
        col = schema.column(name)
        if col.kind in NUMERIC_KINDS:
            for out, frame in zip(matrices, frames, strict=True):
                out.append(to_float(frame[name], col))
            mask.append(False)
        else:
            values = pd.concat([f[name].astype(str).where(f[name].notna()) for f in frames])
            categories = sorted(values.dropna().unique())
            for out, frame in zip(matrices, frames, strict=True):
                codes = pd.Categorical(frame[name].astype(str).where(frame[name].notna()), categories).codes
                out.append(np.where(codes < 0, np.nan, codes).astype(float))
            mask.append(len(categories) <= MAX_CATEGORIES)  # beyond: the codes are used as numbers
    stacked = [np.column_stack(m) if m else np.zeros((len(f), 0)) for m, f in zip(matrices, frames, strict=True)]
    return stacked, np.array(mask, dtype=bool)


def gradient_boosting(mask: np.ndarray, seed: int, regression: bool = False):  # noqa: ANN201
    """The one model family behind detection and utility: sklearn's histogram gradient boosting."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
    return cls(categorical_features=mask if mask.any() else None, random_state=seed)
