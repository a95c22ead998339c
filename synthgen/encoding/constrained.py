"""Encoders that keep a spec's constraints by construction (data/constraints.py).

An inequality's high column is encoded as its gap above the low one, which is never negative, and
decoded as low + gap; a fixed combination's columns are one category of their joint values. Both
look like any other column encoder to the TableEncoder and the models (same state, blocks and
private fit), so every tabular model keeps the rules without knowing about them.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.constraints import FixedCombinations, Inequality
from synthgen.data.schema import ColumnSchema
from synthgen.encoding.columns import CategoricalEncoder, NumericEncoder, to_float
from synthgen.privacy import PrivateFit


class GapEncoder:
    """`high` as `high - low` (missing where either is), a numeric column of its own; rows whose low
    is missing keep their high as it is, in a second numeric part (only when train has such rows)."""

    def __init__(self, rule: Inequality, low: ColumnSchema, high: ColumnSchema, state: dict[str, Any] | None) -> None:
        self.rule, self.low, self.high = rule, low, high
        kind = "integer" if low.kind == high.kind == "integer" else "numeric"
        # The gap has a name of its own, so declared DP bounds of the high column are never taken for
        # the gap's; the second part holds high's own values, so high's declared bounds are its bounds.
        gap_col = ColumnSchema(f"{high.name} - {low.name}", kind, "float64")
        alone_col = ColumnSchema(high.name, high.kind, high.dtype, None, None, high.datetime_format)
        state = state or {}
        self.gap = NumericEncoder(gap_col, state.get("gap"))
        self.alone = NumericEncoder(alone_col, state.get("alone")) if state.get("alone", True) is not None else None
        self.own = NumericEncoder(high, state.get("own"))  # high's own range and value set, to decode onto
        self.col = gap_col
        self.high_missing = bool(state.get("high_missing", True))

    def _parts(self, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        low, high = to_float(frame[self.low.name], self.low), to_float(frame[self.high.name], self.high)
        alone = frame[self.high.name].where(np.isnan(low))
        # Rounded past float noise: 0.33 - 0.28 and 0.36 - 0.31 are one gap, a point mass the model can learn.
        return pd.Series(np.round(high - low, 9)), alone.reset_index(drop=True)

    def fit(self, frame: pd.DataFrame, private: PrivateFit | None = None) -> GapEncoder:
        gaps, alone = self._parts(frame)
        self.gap.fit(gaps) if private is None else self.gap.fit_private(gaps, private)
        if private is None:  # under DP its range and values would be releases of their own: not kept
            self.own.fit(frame[self.high.name])
        self.high_missing = bool(frame[self.high.name].isna().any()) if private is None else True
        # Whether low is ever missing decides the layout; under DP a second part is always there,
        # and its statistics are the whole high column's (the rows whose low is missing may be none).
        if private is None and alone.isna().all():
            self.alone = None
        elif self.alone is not None:
            if private is None:
                self.alone.fit(alone)
            else:
                self.alone.fit_private(frame[self.high.name].reset_index(drop=True), private)
        return self

    def fit_private(self, frame: pd.DataFrame, private: PrivateFit) -> GapEncoder:
        return self.fit(frame, private)

    def transform(self, frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        gaps, alone = self._parts(frame)
        blocks = [self.gap.transform(gaps, rng)]
        if self.alone is not None:
            blocks.append(self.alone.transform(alone, rng))
        return np.concatenate(blocks, axis=1)

    def inverse(self, block: np.ndarray, rng: np.random.Generator, decoded: dict[str, pd.Series]) -> pd.Series:
        """The high column from its decoded gap and the decoded low column, on the high column's own
        range and value set (low + gap of two float32 exports is neither column's float); never below
        low, even where that grid would nudge it there."""
        gap = self.gap.inverse(self._present(block[:, : self.gap.width], self.gap), rng).to_numpy(dtype=float)
        low = to_float(decoded[self.low.name], self.low)
        high = np.maximum(self._on_own_grid(np.round(low + gap, 9)), low)
        if self.alone is not None:
            alone_block = self._present(block[:, self.gap.width :], self.alone)
            alone = to_float(self.alone.inverse(alone_block, rng), self.high)
            high = np.where(np.isnan(low), alone, high)
        return NumericEncoder(self.high, {"day_grid": False})._cast(high)

    def _on_own_grid(self, high: np.ndarray) -> np.ndarray:
        """Values clipped to the high column's protected range and snapped to its value grid (states
        saved before `own` existed, and DP fits, decode as they did)."""
        if not self.own.state or self.own.constant:
            return high
        return np.where(np.isnan(high), np.nan, self.own.snap(high))

    def _present(self, block: np.ndarray, part: NumericEncoder) -> np.ndarray:
        """A part's missing flag (there because of the low column's gaps) is set to present when the
        high column itself is never missing in train: it is then always decoded to a value."""
        if self.high_missing or not part.state["missing"]:
            return block
        block = block.copy()
        block[:, -1] = -1.0
        return block

    @property
    def state(self) -> dict[str, Any]:
        alone = None if self.alone is None else self.alone.state
        return {"gap": self.gap.state, "alone": alone, "high_missing": self.high_missing, "own": self.own.state or None}

    @property
    def width(self) -> int:
        return self.gap.width + (0 if self.alone is None else self.alone.width)

    @property
    def blocks(self) -> list[tuple[str, int]]:
        return self.gap.blocks + ([] if self.alone is None else self.alone.blocks)


class CombinationEncoder:
    """The columns of a fixed combination as one categorical column of JSON keys ([city, zip])."""

    def __init__(self, rule: FixedCombinations, columns: list[ColumnSchema], state: dict[str, Any] | None) -> None:
        self.rule, self.columns = rule, columns
        self.col = ColumnSchema(", ".join(c.name for c in columns), "categorical", "object")
        self.categories = CategoricalEncoder(self.col, state)

    def fit(self, frame: pd.DataFrame) -> CombinationEncoder:
        self.categories.fit(self.rule.keys(frame))
        return self

    def fit_private(self, frame: pd.DataFrame, private: PrivateFit) -> CombinationEncoder:
        self.categories.fit_private(self.rule.keys(frame), private)
        return self

    def transform(self, frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        return self.categories.transform(self.rule.keys(frame), rng)

    def inverse_columns(self, block: np.ndarray, rng: np.random.Generator) -> dict[str, pd.Series]:
        keys = pd.Series(self.categories.inverse(block, rng), dtype=object)
        codes, distinct = pd.factorize(keys, use_na_sentinel=False)  # decode each combination once, not each row
        decoded = [json.loads(k) if isinstance(k, str) else [None] * len(self.columns) for k in distinct]
        out = {}
        for i, col in enumerate(self.columns):
            values = pd.Series(np.array([row[i] for row in decoded], dtype=object)[codes], dtype=object)
            if col.dtype in ("object", "str"):
                out[col.name] = values
            elif col.dtype == "category":
                out[col.name] = values.astype("category")
            else:
                out[col.name] = values.astype(col.dtype if not values.isna().any() else "float64")
        return out

    @property
    def state(self) -> dict[str, Any]:
        return self.categories.state

    @property
    def width(self) -> int:
        return self.categories.width

    @property
    def blocks(self) -> list[tuple[str, int]]:
        return self.categories.blocks
