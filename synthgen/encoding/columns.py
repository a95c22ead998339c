"""Per-column reversible encoders with JSON state (no pickles), shared by every model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from synthgen.data.schema import ColumnSchema
from synthgen.encoding.protection import PROTECT_K, protected_grid
from synthgen.errors import SynthgenError
from synthgen.privacy import PrivateFit, mechanisms

MAX_QUANTILES = 1000
MIN_DP_CELLS, MAX_DP_CELLS = 8, 64
DP_ROWS_PER_CELL = 4.0  # a DP histogram cell needs this many rows per unit of noise scale (1 / epsilon)
MAX_DECIMALS = 6
DISCRETE_SHARE = 0.99  # a column whose frequent values hold this share of rows emits only those values
OTHER = "__other__"


def _decimals(values: np.ndarray) -> int:
    """The value grid: smallest number of decimals that represents every observed value."""
    for d in range(MAX_DECIMALS + 1):
        scaled = values * 10**d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1, np.abs(scaled))):
            return d
    return MAX_DECIMALS


def _float32(values: np.ndarray) -> np.ndarray:
    return values.astype(np.float32).astype(np.float64)


def _float32_printed(values: np.ndarray) -> np.ndarray:
    return np.char.mod("%.15g", _float32(values)).astype(np.float64)


# How a column's values are written, beyond their decimal grid. A float32 read back as float64 is
# 3.2000000476837158; written by R or a database at 15 significant digits it is 3.20000004768372.
# Either way the column never holds 3.2, and a detector tells synthetic 3.2 apart on that alone.
REPRESENTATIONS = {"float64": lambda v: v, "float32": _float32, "float32 printed": _float32_printed}


def _representation(values: np.ndarray, decimals: int) -> str:
    """The representation that reproduces the most observed values from their decimal grid point
    (float64 wins ties: most columns are exact decimals)."""
    if len(values) == 0:
        return "float64"
    grid = np.round(values, decimals)
    shares = {name: np.mean(write(grid) == values) for name, write in REPRESENTATIONS.items()}
    return max(shares, key=lambda name: (shares[name], name == "float64"))


def _frequent_values(values: np.ndarray, decimals: int, limit: int = MAX_QUANTILES) -> tuple[list[float], bool]:
    """The exact real values that at least PROTECT_K rows hold (at most `limit`, the most common
    first), one per decimal grid point, and whether the column is discrete: all its frequent values
    fit in `limit` and hold DISCRETE_SHARE of its rows. Decoding snaps a grid point to its value (a
    discrete column's every value to the nearest one), so point masses come back as the exact real
    floats whatever their representation, and no rare value does."""
    distinct, counts = np.unique(values, return_counts=True)
    keep = counts >= PROTECT_K
    distinct, counts = distinct[keep], counts[keep]
    order = np.argsort(-counts, kind="stable")
    chosen: dict[float, float] = {}
    for value in distinct[order]:
        chosen.setdefault(float(np.round(value, decimals)), float(value))  # the commonest per grid point
        if len(chosen) == limit:
            break
    discrete = len(distinct) < limit and counts.sum() >= DISCRETE_SHARE * max(len(values), 1)
    return sorted(chosen.values()), bool(discrete)


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
        self._cached: tuple[dict[str, Any] | None, dict[str, Any]] = (None, {})

    def _arrays(self) -> dict[str, Any]:
        """The state's lists as arrays, made once per state (a refit makes a new one): decoding reads
        them for every batch, and converting a 1,000-point list each time cost as much as the lookup."""
        if self._cached[0] is not self.state:
            q = np.asarray(self.state["quantiles"], dtype=float)
            values = np.asarray(self.state.get("values", []), dtype=float)
            arrays = {"quantiles": q, "constant": len(q) == 0 or bool(q.min() == q.max()), "values": values}
            arrays["keys"] = np.round(values, self.state["decimals"])
            self._cached = (self.state, arrays)
        return self._cached[1]

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
        if self.col.kind in ("numeric", "integer"):
            self.state["representation"] = _representation(finite, grid)
            self.state["values"], self.state["discrete"] = _frequent_values(finite, grid)
        return self

    def fit_private(self, values: pd.Series, private: PrivateFit) -> NumericEncoder:
        """`fit` from DP mechanisms (privacy/mechanisms.py) within `private.epsilon`: bounds
        (declared ones are free), a noisy quantile grid between them, the value grid (noisy
        decimals, or for datetimes whether every value is a whole day) and a noisy missing count.
        Values outside the bounds are clipped to them. A statistic whose noise would swamp it
        (fewer than DP_ROWS_PER_CELL / epsilon rows per cell) is not released: the grid stays
        linear between the bounds and decimals stay at MAX_DECIMALS, and DP-SGD gets the epsilon."""
        x = to_float(values, self.col)
        missing = np.isnan(x)
        finite = x[~missing]
        name, rng, kind = self.col.name, private.rng, self.col.kind
        declared = private.bounds.get(name)
        parts = {"bounds": 0.0 if declared else 0.3, "grid": 0.5, "step": 0.1 * (kind != "integer")}
        parts["missing"] = 0.1 * can_be_missing(self.col)
        eps = {k: private.epsilon * v / sum(parts.values()) for k, v in parts.items()}
        used: dict[str, float] = {}  # what was released, and its epsilon
        if declared is not None:
            low, high = map(float, declared)
        else:
            found = mechanisms.bounds(finite, eps["bounds"], rng)
            used["bounds"] = eps["bounds"]
            if found is None:
                raise SynthgenError(
                    f"column {name!r}: too few rows to find its range privately at epsilon {private.epsilon:.3g} per "
                    f"column; declare it in train.privacy.bounds ({name}: [low, high]) or raise train.privacy.epsilon"
                )
            low, high = found
        cells = int(
            min(np.clip(round(np.sqrt(len(x))), MIN_DP_CELLS, MAX_DP_CELLS), len(x) * eps["grid"] / DP_ROWS_PER_CELL)
        )
        if cells >= 2:
            quantiles = mechanisms.quantile_grid(finite, low, high, eps["grid"], rng, cells, 2 * cells + 1)
            used["quantile grid"] = eps["grid"]
        else:
            quantiles = np.linspace(low, high, 2 * MIN_DP_CELLS + 1)
        decimals, day_grid = 0, False
        if kind == "numeric":
            decimals = MAX_DECIMALS
            if len(x) * eps["step"] >= DP_ROWS_PER_CELL * (MAX_DECIMALS + 1):
                decimals = mechanisms.decimals(finite, eps["step"], rng)
                used["decimals"] = eps["step"]
        elif kind == "datetime":
            off_grid = mechanisms.count(int(np.count_nonzero(np.mod(finite, 86400))), eps["step"], rng)
            day_grid, decimals = off_grid < 0.01 * len(x), 0
            used["day grid"] = eps["step"]
        has_missing, n_missing = False, 0.0
        if parts["missing"]:
            has_missing, n_missing = mechanisms.present(int(missing.sum()), eps["missing"], rng)
            used["missing rate"] = eps["missing"]
        self.state = {
            "quantiles": quantiles.tolist(),
            "decimals": int(decimals),
            "day_grid": bool(day_grid),
            "missing": bool(has_missing),
            "missing_rate": float(min(1.0, n_missing / max(len(x), 1))) if has_missing else 0.0,
        }
        if used:
            private.ledger.spend(f"column {name}: {', '.join(used)}", "Laplace", sum(used.values()))
        return self

    @property
    def constant(self) -> bool:
        return self._arrays()["constant"]

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
            q = self._arrays()["quantiles"]
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
        q = self._arrays()["quantiles"]
        if self.constant:
            x = np.full(len(block), q[0])
        else:
            x = self.from_uniform(ndtr(block[:, 0]))
        if self.state["missing"]:
            x = np.where(block[:, -1] > 0, np.nan, x)
        return self._cast(x)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Uniform scores (the quantile scale, 0 to 1) to the column's numbers: linear between the
        quantile grid's evenly spaced knots, so each score's knot is found by arithmetic, not the
        binary search np.interp makes for arbitrary knots (a tenth of its time)."""
        q = self._arrays()["quantiles"]
        if len(q) == 1:
            return self.snap(np.full(len(u), q[0]))
        at = np.clip(u, 0.0, 1.0) * (len(q) - 1)
        knot = np.minimum(at.astype(np.intp), len(q) - 2)
        low = q[knot]
        return self.snap(low + (at - knot) * (q[knot + 1] - low))

    def snap(self, x: np.ndarray) -> np.ndarray:
        """Numbers onto this column: its protected range, its decimal grid and its value set."""
        q = self._arrays()["quantiles"]
        return self._on_value_set(np.clip(np.round(x, self.state["decimals"]), q[0], q[-1]))

    def _on_value_set(self, grid: np.ndarray) -> np.ndarray:
        """Grid points as the column writes them: a frequent real value's exact float where one sits
        on the point (in a discrete column, the nearest one), else the column's representation
        (states saved before these existed decode as they did)."""
        x = REPRESENTATIONS[self.state.get("representation", "float64")](grid)
        arrays = self._arrays()
        values, keys = arrays["values"], arrays["keys"]
        if not len(values):
            return x
        at = np.clip(np.searchsorted(keys, grid), 0, len(keys) - 1)
        if self.state.get("discrete"):  # the nearer of the two keys around each point
            below = np.clip(at - 1, 0, len(keys) - 1)
            at = np.where(np.abs(grid - keys[below]) <= np.abs(keys[at] - grid), below, at)
            return values[at]
        return np.where(keys[at] == grid, values[at], x)

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


def can_be_missing(col: ColumnSchema) -> bool:
    """Whether the column's dtype holds missing values (an int64 or bool column never does): a DP
    fit spends nothing on the missing rate of one that cannot."""
    return not (col.dtype == "bool" or col.dtype.startswith(("int", "uint")))


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

    def fit_private(self, values: pd.Series, private: PrivateFit) -> CategoricalEncoder:
        """`fit` from DP mechanisms: categories by the stability-based histogram (a category few rows
        hold is dropped by a noisy threshold; declared ones, and a boolean's two values, are kept),
        noisy counts, and a noisy missing count. The other slot is always there, so the layout tells
        nothing about whether rare categories were seen."""
        name, rng = self.col.name, private.rng
        declared = private.categories.get(name)
        if declared is None and self.col.kind == "boolean":
            declared = [False, True]
        nullable = can_be_missing(self.col)
        e_categories, e_missing = (0.8 * private.epsilon, 0.2 * private.epsilon) if nullable else (private.epsilon, 0)
        delta = 0.0 if declared is not None else private.delta
        kept = mechanisms.categories(values, e_categories, delta, rng, declared)
        frequent = sorted(((_native(v), int(max(1, round(c)))) for v, c in kept.items()), key=lambda vc: str(vc[0]))
        self.state = {
            "slots": [v for v, _ in frequent],
            "counts": [c for _, c in frequent],
            "other": True,
            "missing": bool(nullable and mechanisms.present(int(values.isna().sum()), e_missing, rng)[0]),
        }
        how = "declared categories" if declared is not None else "categories (stability threshold)"
        what = f"column {name}: {how}, counts{', missing rate' if nullable else ''}"
        private.ledger.spend(what, "Laplace", private.epsilon, delta)
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
