"""Orders between numeric columns that the data nearly always keeps and bins alone would break.

A token model draws each numeric column as a bin and then a uniform place inside it, so it cannot
keep a sharp relation between two columns whose values share bins: mortgages' housing expense ratio
is at most the total debt ratio in 99.8% of real rows (and equal in 9%); drawn again inside their
own bins, the real rows keep it in 95%, and the default model's rows kept it in 80%, which a
detector saw at once. Such orders are found at fit, and a decoded row that breaks one has the two
values swapped, except in as many rows as real rows break it: the order is kept as often as the
data keeps it, not enforced (a declared `inequality` is, data/constraints.py). Each column then
gets back the values the model drew, in its new rank order, so its marginal is the model's.
Modelling the high column as its gap above the low one kept the order too, but added the two
columns' in-bin noise together (mortgages' train-on-synthetic F1 fell by 0.08).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr

from synthgen.data.constraints import PROPOSE_ROWS
from synthgen.encoding.columns import NumericEncoder, to_float

log = logging.getLogger(__name__)

ORDER_HOLDS = 0.99  # share of real rows (with both values) where low <= high
BINS_BREAK = 0.01  # drawn again inside their bins, at least this share of those rows no longer keep it
BINS_BREAK_ROWS = 10  # and at least this many (on a small table one row is not a pattern)
MIN_BINS, MAX_BINS = 16, 64  # the resolution judged: the token models' default bins, about sqrt(rows)
ORDER_MIN_ROWS = 100
SCREEN_ROWS = 2_000
SWAP_ROUNDS = 5  # each round halves what the swaps move between the marginals (17% -> 0.8% of rows)


def learned_orders(frame: pd.DataFrame, encoders: dict[str, NumericEncoder]) -> list[dict[str, Any]]:
    """`low <= high` pairs among the fitted numeric `encoders` that real rows keep and bins break,
    the most broken first, as {"low", "high", "broken"}: `broken` is the share of real rows (with
    both values) that break the order. Only numeric pairs of one dtype and one decimal grid, so
    that a swapped value is one its new column could hold; each column in one order at most."""
    frame = frame.sample(min(len(frame), PROPOSE_ROWS), random_state=0)
    bins = int(np.clip(round(np.sqrt(len(frame))), MIN_BINS, MAX_BINS))
    rng = np.random.default_rng(0)
    usable = {name: enc for name, enc in encoders.items() if not enc.constant}
    real = {name: to_float(frame[name], enc.col) for name, enc in usable.items()}
    redrawn = {name: _redrawn_in_bins(frame[name], real[name], enc, bins, rng) for name, enc in usable.items()}
    screen = slice(0, SCREEN_ROWS)  # a first look on a few rows: most pairs of a wide table fail it
    found = []
    for low, low_enc in usable.items():
        for high, high_enc in usable.items():
            if low != high and _swappable(low_enc, high_enc) and _may_hold(real[low][screen], real[high][screen]):
                held, lost = _held_and_lost(real[low], real[high], redrawn[low], redrawn[high])
                if lost >= BINS_BREAK:
                    found.append((-lost, low, high, 1.0 - held))
    chosen, used = [], set()
    for _, low, high, broken in sorted(found):
        if low not in used and high not in used:
            used |= {low, high}
            chosen.append({"low": low, "high": high, "broken": broken})
    if chosen:
        described = ", ".join(f"{o['high']} >= {o['low']} ({1 - o['broken']:.1%})" for o in chosen)
        log.info("orders the data nearly always keeps, kept as often at sampling: %s", described)
    return chosen


def keep_orders(decoded: dict[str, pd.Series], orders: list[dict[str, Any]], rng: np.random.Generator) -> None:
    """Keep each order as often as real rows do (in place): swap low and high in rows that break it
    (but for as many as real rows break), then, SWAP_ROUNDS times, give each column back the values
    the model drew in its new rank order (a swap moves mass from one column's marginal to the
    other's) and swap the fewer rows that this breaks again."""
    for order in orders:
        low = pd.to_numeric(decoded[order["low"]], errors="coerce").to_numpy(dtype=float)
        high = pd.to_numeric(decoded[order["high"]], errors="coerce").to_numpy(dtype=float)
        drawn_low, drawn_high = np.sort(low[~np.isnan(low)]), np.sort(high[~np.isnan(high)])
        low, high = _swapped(low, high, order["broken"], rng)
        for _ in range(SWAP_ROUNDS):
            low, high = _with_values(low, drawn_low, rng), _with_values(high, drawn_high, rng)
            low, high = _swapped(low, high, order["broken"], rng)
        for name, values in ((order["low"], low), (order["high"], high)):
            decoded[name] = pd.Series(values).astype(decoded[name].dtype)


def _swapped(
    low: np.ndarray, high: np.ndarray, broken: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """low and high exchanged in the rows that break low <= high, but for a `broken` share of the
    rows with both values (a missing value breaks nothing)."""
    breaking = high < low
    kept, n = _kept(low, high)
    share = (n - kept) / max(n, 1)
    swap = breaking & (rng.random(len(low)) >= broken / share) if share else breaking
    return np.where(swap, high, low), np.where(swap, low, high)


def _with_values(values: np.ndarray, drawn: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The column's drawn values (sorted), placed in the rank order of `values` (missing stay).
    Ties are ranked at random: in row order, the first rows of a batch would get the lower values."""
    out = values.copy()
    present = np.flatnonzero(~np.isnan(values))
    out[present[np.lexsort((rng.random(len(present)), values[present]))]] = drawn
    return out


def _swappable(low: NumericEncoder, high: NumericEncoder) -> bool:
    """Numbers (not datetimes, which decode as text) of one dtype and one decimal grid."""
    numbers = low.col.kind in ("numeric", "integer") and low.col.kind == high.col.kind
    return numbers and low.col.dtype == high.col.dtype and low.state["decimals"] == high.state["decimals"]


def _redrawn_in_bins(
    values: pd.Series, numbers: np.ndarray, enc: NumericEncoder, bins: int, rng: np.random.Generator
) -> np.ndarray:
    """Each value (`numbers`: the same as floats) moved to a uniform place in its own bin of the
    encoder's scale and decoded: what a perfect token model would draw for it (missing stay missing)."""
    u = ndtr(enc.transform(values, rng)[:, 0])  # ties spread over their plateau, as for training
    redrawn = (np.clip(np.floor(u * bins), 0, bins - 1) + rng.random(len(u))) / bins
    return np.where(np.isnan(numbers), np.nan, enc.from_uniform(redrawn))


def _kept(low: np.ndarray, high: np.ndarray) -> tuple[int, int]:
    """(rows with both values where low <= high, rows with both values); a missing value breaks nothing."""
    both = ~np.isnan(low) & ~np.isnan(high)
    return int(np.count_nonzero(high[both] >= low[both])), int(both.sum())


def _share_kept(low: np.ndarray, high: np.ndarray) -> float:
    kept, n = _kept(low, high)
    return kept / n if n else 1.0


def _may_hold(low: np.ndarray, high: np.ndarray) -> bool:
    """Whether low <= high could hold on ORDER_HOLDS of all rows, judged on a sample (with room for
    its noise)."""
    return _share_kept(low, high) >= ORDER_HOLDS - 0.02


def _held_and_lost(
    low: np.ndarray, high: np.ndarray, low_redrawn: np.ndarray, high_redrawn: np.ndarray
) -> tuple[float, float]:
    """(share of rows with both values that keep low <= high, share that lose it when both are drawn
    again inside their bins); (0, 0) unless it holds on ORDER_HOLDS of them and not as equality."""
    kept, n = _kept(low, high)
    held = kept / max(n, 1)
    if n < ORDER_MIN_ROWS or held < ORDER_HOLDS or _share_kept(high, low) == 1.0 == held:  # equal on every row
        return 0.0, 0.0
    lost = held - _share_kept(low_redrawn, high_redrawn)
    return held, (lost if lost * n >= BINS_BREAK_ROWS else 0.0)
