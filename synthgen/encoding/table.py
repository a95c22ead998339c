"""The table encoder: schema-driven, built from per-column encoders, saved as JSON."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.data import constraints
from synthgen.data.constraints import FixedCombinations, Inequality, Range
from synthgen.data.schema import Schema
from synthgen.encoding.columns import CategoricalEncoder, NumericEncoder
from synthgen.encoding.constrained import CombinationEncoder, GapEncoder
from synthgen.encoding.orders import keep_orders, learned_orders
from synthgen.privacy import PrivateFit

_ENCODERS = {
    "numeric": NumericEncoder,
    "integer": NumericEncoder,
    "datetime": NumericEncoder,
    "categorical": CategoricalEncoder,
    "boolean": CategoricalEncoder,
}


Encoder = NumericEncoder | CategoricalEncoder | GapEncoder | CombinationEncoder
_FRAME_ENCODERS = (GapEncoder, CombinationEncoder)  # read several columns of the frame, not one
ORDERS = "__orders__"  # the state's key for learned orders (encoding/orders.py), beside the columns'


class TableEncoder:
    """Encodes the modelled columns to one float matrix; the class target becomes integer labels.
    The schema's constraints replace their columns' encoders (encoding/constrained.py): an
    inequality's high column becomes its gap, a fixed combination one category under its first
    column's name, and ranges clip what is decoded."""

    def __init__(self, schema: Schema, states: dict[str, Any] | None = None) -> None:
        self.schema = schema
        self.rules = constraints.parse(schema.constraints)
        states = states or {}
        orders = states.get(ORDERS)  # a dict would be the state of a column of that name
        self.orders: list[dict[str, Any]] = orders if isinstance(orders, list) else []
        replaced: dict[str, Encoder | None] = {}  # column -> its constraint's encoder (None: encoded with another)
        for rule in self.rules:
            if isinstance(rule, Inequality):
                replaced[rule.high] = GapEncoder(
                    rule, schema.column(rule.low), schema.column(rule.high), states.get(rule.high)
                )
            elif isinstance(rule, FixedCombinations):
                first, *others = rule.columns
                replaced[first] = CombinationEncoder(rule, [schema.column(c) for c in rule.columns], states.get(first))
                replaced.update(dict.fromkeys(others))
        self.encoders: dict[str, Encoder] = {}
        for col in schema.columns:
            if col.modelled and not (col.role == "target" and schema.is_classification):
                if col.name not in replaced:
                    self.encoders[col.name] = _ENCODERS[col.kind](col, states.get(col.name))
                elif replaced[col.name] is not None:
                    self.encoders[col.name] = replaced[col.name]

    def _values(self, frame: pd.DataFrame, name: str, enc: Encoder) -> pd.DataFrame | pd.Series:
        return frame if isinstance(enc, _FRAME_ENCODERS) else frame[name]

    def fit(self, frame: pd.DataFrame, private: PrivateFit | None = None) -> TableEncoder:
        """Each column's state from the frame; with `private`, from DP mechanisms, each column
        spending `private.epsilon` (and categorical ones `private.delta`). Without `private`, also
        the orders between numeric columns that the data nearly always keeps (encoding/orders.py);
        under DP they would be releases of their own, and are not looked for."""
        for name, enc in self.encoders.items():
            if private is None:
                enc.fit(self._values(frame, name, enc))
            else:
                enc.fit_private(self._values(frame, name, enc), private)
        if private is None and ORDERS not in self.encoders:  # a column of that name keeps its key
            numeric = {name: enc for name, enc in self.encoders.items() if isinstance(enc, NumericEncoder)}
            self.orders = learned_orders(frame, numeric)
        return self

    @property
    def private_releases(self) -> tuple[int, int]:
        """(releases, releases that spend delta) of a DP fit: one per column (an inequality's two
        parts, its gap and its high column where low is missing, are two), delta for categories."""
        kinds = [enc.col.kind for enc in self.encoders.values()]
        parts = sum(2 if isinstance(enc, GapEncoder) else 1 for enc in self.encoders.values())
        return parts, kinds.count("categorical")

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
        blocks = [enc.transform(self._values(frame, name, enc), rng) for name, enc in self.encoders.items()]
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
        start, gaps = 0, {}
        for name, enc in self.encoders.items():
            block = matrix[:, start : start + enc.width]
            start += enc.width
            if isinstance(enc, GapEncoder):
                gaps[name] = (enc, block)  # after its low column
            elif isinstance(enc, CombinationEncoder):
                out.update(enc.inverse_columns(block, rng))
            else:
                out[name] = enc.inverse(block, rng)
        keep_orders(out, self.orders, rng)  # before the gaps: a declared high is built on the final low
        while gaps:  # each after its low column: chains (start <= middle <= end) low end first
            name = next(n for n, (enc, _) in gaps.items() if enc.low.name in out)  # no cycles: checked
            enc, block = gaps.pop(name)
            out[name] = enc.inverse(block, rng, out)
        for rule in self.rules:
            if isinstance(rule, Range):
                out[rule.column] = _clipped(out[rule.column], rule)
        if self.schema.is_classification:
            target = self.schema.column(self.schema.target)
            values = pd.Series(np.array(self.schema.classes, dtype=object)[labels])
            out[target.name] = values.astype(object if target.dtype == "object" else target.dtype)
        return pd.DataFrame(out)

    def state(self) -> dict[str, Any]:
        states: dict[str, Any] = {name: enc.state for name, enc in self.encoders.items()}
        return states | ({ORDERS: self.orders} if self.orders else {})  # no key without orders: older files stay


def _clipped(values: pd.Series, rule: Range) -> pd.Series:
    """Values clipped into a range rule; an integer column to the whole numbers inside it."""
    integral = pd.api.types.is_integer_dtype(values)
    low = None if rule.low is None else (np.ceil(rule.low) if integral else rule.low)
    high = None if rule.high is None else (np.floor(rule.high) if integral else rule.high)
    return values.clip(low, high).astype(values.dtype)
