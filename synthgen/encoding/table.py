"""The table encoder: schema-driven, built from per-column encoders, saved as JSON."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.encoding.columns import CategoricalEncoder, NumericEncoder
from synthgen.privacy import PrivateFit

_ENCODERS = {
    "numeric": NumericEncoder,
    "integer": NumericEncoder,
    "datetime": NumericEncoder,
    "categorical": CategoricalEncoder,
    "boolean": CategoricalEncoder,
}


class TableEncoder:
    """Encodes the modelled columns to one float matrix; the class target becomes integer labels."""

    def __init__(self, schema: Schema, states: dict[str, dict[str, Any]] | None = None) -> None:
        self.schema = schema
        self.encoders: dict[str, NumericEncoder | CategoricalEncoder] = {}
        for col in schema.columns:
            if col.modelled and not (col.role == "target" and schema.is_classification):
                self.encoders[col.name] = _ENCODERS[col.kind](col, (states or {}).get(col.name))

    def fit(self, frame: pd.DataFrame, private: PrivateFit | None = None) -> TableEncoder:
        """Each column's state from the frame; with `private`, from DP mechanisms, each column
        spending `private.epsilon` (and categorical ones `private.delta`)."""
        for name, enc in self.encoders.items():
            if private is None:
                enc.fit(frame[name])
            else:
                enc.fit_private(frame[name], private)
        return self

    @property
    def private_releases(self) -> tuple[int, int]:
        """(releases, releases that spend delta) of a DP fit: one per column, delta for categories."""
        kinds = [enc.col.kind for enc in self.encoders.values()]
        return len(kinds), kinds.count("categorical")

    @property
    def width(self) -> int:
        return sum(enc.width for enc in self.encoders.values())

    @property
    def blocks(self) -> list[tuple[str, int]]:
        """The matrix layout, for models that treat feature kinds differently: ("value", 1) a normal
        score, ("flag", 1) a ±1 missing indicator, ("onehot", k) a ±1 one-hot category block."""
        return [block for enc in self.encoders.values() for block in enc.blocks]

    @property
    def n_classes(self) -> int:
        return len(self.schema.classes)

    def transform(self, frame: pd.DataFrame, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        blocks = [enc.transform(frame[name], rng) for name, enc in self.encoders.items()]
        return np.concatenate(blocks, axis=1).astype(np.float32) if blocks else np.zeros((len(frame), 0), np.float32)

    def labels(self, frame: pd.DataFrame) -> np.ndarray:
        """Class index per row (the no-class token when there is no class target)."""
        if not self.schema.is_classification:
            return np.zeros(len(frame), dtype=np.int64)
        index = {c: i for i, c in enumerate(self.schema.classes)}
        return np.array([index[v.item() if isinstance(v, np.generic) else v] for v in frame[self.schema.target]])

    def inverse(self, matrix: np.ndarray, labels: np.ndarray, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        out: dict[str, pd.Series] = {}
        start = 0
        for name, enc in self.encoders.items():
            out[name] = enc.inverse(matrix[:, start : start + enc.width], rng)
            start += enc.width
        if self.schema.is_classification:
            target = self.schema.column(self.schema.target)
            values = pd.Series(np.array(self.schema.classes, dtype=object)[labels])
            out[target.name] = values.astype(object if target.dtype == "object" else target.dtype)
        return pd.DataFrame(out)

    def state(self) -> dict[str, dict[str, Any]]:
        return {name: enc.state for name, enc in self.encoders.items()}
