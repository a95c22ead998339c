"""Per-column reversible encoders with JSON state (no pickles), shared by every model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from synthgen.data.schema import ColumnSchema
from synthgen.encoding.protection import PROTECT_K, protected_grid

MAX_QUANTILES = 1000
MAX_DECIMALS = 6
OTHER = "__other__"


def _decimals(values: np.ndarray) -> int:
    """The value grid: smallest number of decimals that represents every observed value."""
    for d in range(MAX_DECIMALS + 1):
        scaled = values * 10**d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1, np.abs(scaled))):
            return d
    return MAX_DECIMALS


def to_float(values: pd.Series, col: ColumnSchema) -> np.ndarray:
    if col.kind == "datetime":
        parsed = pd.to_datetime(values, format=col.datetime_format, errors="coerce", utc=True)
        seconds = parsed.astype("int64").to_numpy(dtype=float) / 1e9
        return np.where(parsed.isna().to_numpy(), np.nan, seconds)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


class NumericEncoder:
    """Quantile transform to a standard normal, with ties spread over their plateau.

    The quantile grid is protected (encoding/protection.py): each point is the mean of k or more
    sorted values, so the saved state holds no individual's value and decoding never emits the real
    extremes, only the mean of the k most extreme.

    Spreading ties lets the model learn a smooth density while the inverse maps the whole
    plateau back to the spike, so point masses, value grids and integers survive decoding.
    """

    def __init__(self, col: ColumnSchema, state: dict[str, Any] | None = None) -> None:
        self.col = col
        self.state = state or {}

    def fit(self, values: pd.Series) -> NumericEncoder:
        x = to_float(values, self.col)
        finite = np.sort(x[~np.isnan(x)])
        quantiles = protected_grid(finite, MAX_QUANTILES)  # block means of ≥ k values: no one's own value
        grid = 0 if self.col.kind == "integer" else _decimals(finite)
        if self.col.kind == "datetime":
            grid = 0 if np.all(np.mod(finite, 86400) == 0) else grid
        self.state = {
            "quantiles": quantiles.tolist(),
            "decimals": int(grid),
            "day_grid": bool(self.col.kind == "datetime" and np.all(np.mod(finite, 86400) == 0)),
            "missing": bool(np.isnan(x).any()),
            "missing_rate": float(np.isnan(x).mean()),
        }
        return self

    @property
    def constant(self) -> bool:
        return len(set(self.state["quantiles"])) <= 1

    @property
    def width(self) -> int:
        return (0 if self.constant else 1) + int(self.state["missing"])

    @property
    def blocks(self) -> list[tuple[str, int]]:
        return [("value", 1)] * (not self.constant) + [("flag", 1)] * int(self.state["missing"])

    def transform(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        x = to_float(values, self.col)
        missing = np.isnan(x)
        parts = []
        if not self.constant:
            q = np.asarray(self.state["quantiles"])
            xv = np.clip(np.where(missing, q[0], x), q[0], q[-1])
            lo = np.searchsorted(q, xv, "left")
            hi = np.searchsorted(q, xv, "right")
            tied = hi > lo
            u_between = np.interp(xv, q, np.linspace(0, 1, len(q)))
            u_tied = (lo + rng.random(len(xv)) * np.maximum(hi - lo - 1, 0)) / (len(q) - 1)
            u = np.where(tied, u_tied, u_between)
            eps = 0.5 / len(q)
            z = ndtri(np.clip(u, eps, 1 - eps))
            parts.append(np.where(missing, 0.0, z))
        if self.state["missing"]:
            parts.append(np.where(missing, 1.0, -1.0))
        return np.stack(parts, axis=1) if parts else np.zeros((len(x), 0))

    def inverse(self, block: np.ndarray, rng: np.random.Generator) -> pd.Series:
        q = np.asarray(self.state["quantiles"])
        if self.constant:
            x = np.full(len(block), q[0])
        else:
            x = np.interp(ndtr(block[:, 0]), np.linspace(0, 1, len(q)), q)
            x = np.clip(np.round(x, self.state["decimals"]), q[0], q[-1])
        if self.state["missing"]:
            x = np.where(block[:, -1] > 0, np.nan, x)
        return self._cast(x)

    def _cast(self, x: np.ndarray) -> pd.Series:
        col = self.col
        if col.kind == "datetime":
            if self.state["day_grid"]:
                x = np.round(x / 86400) * 86400
            stamps = pd.to_datetime(pd.Series(x * 1e9), utc=True)
            if col.dtype.startswith("datetime64"):
                tz = col.dtype[col.dtype.find(",") + 2 : -1] if "," in col.dtype else None
                stamps = stamps.dt.tz_convert(tz) if tz else stamps.dt.tz_localize(None)
                return stamps.astype(col.dtype)
            formatted = stamps.dt.strftime(col.datetime_format or "%Y-%m-%d %H:%M:%S")
            return formatted.where(~np.isnan(x), None).astype(object)
        if col.dtype in ("int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "uint64"):
            return pd.Series(np.round(x)).astype(col.dtype)
        if col.dtype in ("Int64", "Int32", "Int16", "Int8"):
            return pd.Series(np.round(x)).astype(col.dtype)
        return pd.Series(x).astype(col.dtype if col.dtype.startswith("float") else "float64")


def _native(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


class CategoricalEncoder:
    """One-hot (±1) over categories seen at least k times (encoding/protection.py). Rarer ones share
    an "other" slot that is neither stored nor emitted: it decodes to a frequent category, drawn by
    frequency, or to missing when no category is frequent."""

    def __init__(self, col: ColumnSchema, state: dict[str, Any] | None = None, min_count: int = PROTECT_K) -> None:
        self.col = col
        self.state = state or {}
        self.min_count = min_count

    def fit(self, values: pd.Series) -> CategoricalEncoder:
        counts = values.value_counts(dropna=True)
        frequent = sorted(
            ((_native(v), int(c)) for v, c in counts.items() if c >= self.min_count), key=lambda vc: str(vc[0])
        )
        self.state = {
            "slots": [v for v, _ in frequent],
            "counts": [c for _, c in frequent],
            "other": bool((counts < self.min_count).any()),
            "missing": bool(values.isna().any()),
        }
        return self

    @property
    def n_slots(self) -> int:
        return len(self.state["slots"]) + int(self.state["other"]) + int(self.state["missing"])

    @property
    def width(self) -> int:
        return self.n_slots if self.n_slots > 1 else 0

    @property
    def blocks(self) -> list[tuple[str, int]]:
        return [("onehot", self.width)] if self.width else []

    def codes(self, values: pd.Series) -> np.ndarray:
        slots = self.state["slots"]
        index = {v: i for i, v in enumerate(slots)}
        other = len(slots) if self.state["other"] else 0  # unseen values fall into the other slot
        missing = self.n_slots - 1
        return np.array([missing if pd.isna(v) else index.get(_native(v), other) for v in values], dtype=np.int64)

    def transform(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        if self.width == 0:
            return np.zeros((len(values), 0))
        onehot = -np.ones((len(values), self.n_slots))
        onehot[np.arange(len(values)), self.codes(values)] = 1.0
        return onehot

    def decode_codes(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        slots = self.state["slots"]
        out = np.empty(len(codes), dtype=object)
        known = codes < len(slots)
        out[known] = np.array(slots, dtype=object)[codes[known]] if slots else None
        is_other = (codes == len(slots)) & self.state["other"]
        if is_other.any():  # a rare category is never emitted: a frequent one by frequency, else missing
            p = np.asarray(self.state["counts"], dtype=float)
            drawn = np.array(slots, dtype=object)[rng.choice(len(p), is_other.sum(), p=p / p.sum())] if slots else None
            out[is_other] = drawn
        if self.state["missing"]:
            out[codes == self.n_slots - 1] = None
        return self._cast(pd.Series(out))

    def inverse(self, block: np.ndarray, rng: np.random.Generator) -> pd.Series:
        codes = block.argmax(axis=1) if self.width else np.zeros(len(block), dtype=np.int64)
        return self.decode_codes(codes, rng)

    def _cast(self, values: pd.Series) -> pd.Series:
        dtype = self.col.dtype
        if dtype == "category":
            return values.astype(pd.CategoricalDtype(self.state["slots"]))
        return values.astype(object if dtype in ("object", "str") else dtype)
