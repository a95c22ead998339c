"""Rules every real row keeps, declared in the spec (`constraints:`) and kept by construction.

A model learns distributions, not rules: without help it makes a few rows with `end < start`, a
city with another city's zip code, or an age of -1, and a user's downstream code breaks on them.
Each kind here says which rows hold (`holds`, what the gate's `constraints` check counts) and the
encoder keeps it by construction (encoding/constrained.py), never by throwing rows away:
- inequality `high >= low`: the model learns the gap `high - low`, which is never negative;
- fixed_combinations: the columns are modelled as one category of their joint values, so only
  combinations real rows hold (5 or more of them: value protection) come out;
- range `low <= column <= high`: decoded values are clipped into the range.
Sensor data has rules per entity instead (each over a whole series, on its real steps):
- normalized: each entity's channel has mean 0 and standard deviation 1; every synthetic series is
  standardised after sampling;
- monotone: each entity's channel never goes down (or, `decreasing`, never up); every synthetic
  series' values are sorted along time, which keeps its values and only reorders the noise.
Ingest proposes the rules that hold on every real row or entity (`propose`, `propose_sequences`);
they are enforced only once copied into the spec.
"""

from __future__ import annotations

import itertools
import json
import logging
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from synthgen.errors import SynthgenError

log = logging.getLogger(__name__)

MAX_PROPOSED = 20  # more than this many candidates is noise, not a rule the user wants to read
PROPOSE_MAX_CATEGORIES = 1000  # fixed combinations are looked for among columns with at most this many values
PROPOSE_ROWS = 100_000  # rules are looked for on a seeded sample this large, then checked on every row


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @property
    def columns(self) -> list[str]:
        raise NotImplementedError

    def holds(self, frame: pd.DataFrame, real: pd.DataFrame) -> np.ndarray:
        """Per row of `frame`, whether the rule holds (a missing value breaks none); `real` is the
        real table the rule is learnt from, which only a fixed combination reads."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def _numbers(values: pd.Series) -> np.ndarray:
    """Numbers, or datetimes as seconds, so one comparison serves both."""
    if pd.api.types.is_datetime64_any_dtype(values) or values.dtype == object:
        parsed = pd.to_datetime(values, errors="coerce", utc=True)
        if values.dtype != object or parsed.notna().sum() >= values.notna().sum():
            return np.where(parsed.isna(), np.nan, parsed.astype("int64").to_numpy(dtype=float) / 1e9)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


class Inequality(_Rule):
    """`high` is never below `low` (numbers or datetimes)."""

    kind: Literal["inequality"] = "inequality"
    low: str
    high: str

    @property
    def columns(self) -> list[str]:
        return [self.low, self.high]

    def holds(self, frame: pd.DataFrame, real: pd.DataFrame) -> np.ndarray:
        low, high = _numbers(frame[self.low]), _numbers(frame[self.high])
        return np.isnan(low) | np.isnan(high) | (high >= low)

    def describe(self) -> str:
        return f"{self.high} >= {self.low}"


class Range(_Rule):
    """`column` lies within [low, high] (either end may be null: unbounded)."""

    kind: Literal["range"] = "range"
    column: str
    low: float | None = None
    high: float | None = None

    @property
    def columns(self) -> list[str]:
        return [self.column]

    def holds(self, frame: pd.DataFrame, real: pd.DataFrame) -> np.ndarray:
        x = _numbers(frame[self.column])
        low = -np.inf if self.low is None else self.low
        high = np.inf if self.high is None else self.high
        return np.isnan(x) | ((x >= low) & (x <= high))

    def describe(self) -> str:
        low, high = ("-inf" if self.low is None else self.low), ("inf" if self.high is None else self.high)
        return f"{low} <= {self.column} <= {high}"


def _native(value: Any) -> Any:
    """A JSON-ready scalar; every kind of missing becomes None."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


class FixedCombinations(_Rule):
    """Only combinations of `columns` that real rows hold (city and zip code, make and model)."""

    kind: Literal["fixed_combinations"] = "fixed_combinations"
    columns_: list[str] = Field(alias="columns", min_length=2)
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @property
    def columns(self) -> list[str]:
        return self.columns_

    def keys(self, frame: pd.DataFrame) -> pd.Series:
        """One key per row: its values in these columns as a JSON list (missing as null), which is
        also how the encoder stores a combination."""
        rows = zip(*(frame[c].astype(object) for c in self.columns), strict=True)
        return pd.Series([json.dumps([_native(v) for v in row]) for row in rows], dtype=object)

    def holds(self, frame: pd.DataFrame, real: pd.DataFrame) -> np.ndarray:
        return self.keys(frame).isin(set(self.keys(real))).to_numpy()

    def describe(self) -> str:
        return f"fixed combinations of {', '.join(self.columns)}"


NORMALIZED_TOLERANCE = 1e-4  # float32 storage and 6-digit exports leave about 1e-6 of each


class _SequenceRule(_Rule):
    """A rule over each entity's whole series of some channels (sensor data)."""

    channels: list[str] = Field(min_length=1)

    @property
    def columns(self) -> list[str]:
        return self.channels

    def holds(self, frame: pd.DataFrame, real: pd.DataFrame) -> np.ndarray:  # judged per entity instead
        raise TypeError(f"{self.kind} is judged per entity: use entities_held")

    def entities(self, values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Per entity, whether its series keep the rule: values (entities, length, channels) of these
        channels only, `lengths` its real steps."""
        raise NotImplementedError

    def enforce(self, values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def masked_steps(values: np.ndarray, lengths: np.ndarray) -> np.ma.MaskedArray:
    """(entities, steps, channels) as float64 with each entity's padded steps masked."""
    pad = np.arange(values.shape[1])[None, :, None] >= lengths[:, None, None]
    return np.ma.masked_array(values.astype(np.float64), np.broadcast_to(pad, values.shape))


class Normalized(_SequenceRule):
    """Each entity's channel has mean 0 and standard deviation 1 over its real steps (`ddof` 0 or 1;
    null: ingest finds the one the data keeps)."""

    kind: Literal["normalized"] = "normalized"
    ddof: Literal[0, 1] | None = None

    def entities(self, values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        x = masked_steps(values, lengths)
        mean, std = x.mean(axis=1), x.std(axis=1, ddof=self.ddof or 0)
        ok = (np.abs(mean) <= NORMALIZED_TOLERANCE) & (np.abs(std - 1) <= NORMALIZED_TOLERANCE)
        return np.ma.filled(ok, False).all(axis=1)

    def enforce(self, values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        x = masked_steps(values, lengths)
        std = x.std(axis=1, ddof=self.ddof or 0, keepdims=True)
        scaled = (x - x.mean(axis=1, keepdims=True)) / np.ma.where(std > 0, std, 1.0)
        return np.where(x.mask, values, np.ma.filled(scaled, 0.0)).astype(values.dtype)

    def describe(self) -> str:
        return f"each entity's {', '.join(self.channels)} normalised (mean 0, std 1, ddof {self.ddof})"


class Monotone(_SequenceRule):
    """Each entity's channel never decreases along time (a counter, an odometer), or never increases."""

    kind: Literal["monotone"] = "monotone"
    direction: Literal["increasing", "decreasing"] = "increasing"

    def entities(self, values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        steps = np.diff(values.astype(np.float64), axis=1) * (1 if self.direction == "increasing" else -1)
        real = np.arange(1, values.shape[1])[None, :, None] < lengths[:, None, None]
        return ((steps >= 0) | ~real).all(axis=(1, 2))

    def enforce(self, values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        out = values.copy()
        for i, n in enumerate(lengths):
            ordered = np.sort(values[i, :n], axis=0)
            out[i, :n] = ordered if self.direction == "increasing" else ordered[::-1]
            out[i, n:] = out[i, n - 1]  # the padding repeats the last real step
        return out

    def describe(self) -> str:
        return f"each entity's {', '.join(self.channels)} {self.direction}"


SEQUENCE_RULES = (Normalized, Monotone)
Constraint = Annotated[Inequality | Range | FixedCombinations | Normalized | Monotone, Field(discriminator="kind")]
_ADAPTER = TypeAdapter(list[Constraint])


def parse(rules: list[dict[str, Any]] | list[Any]) -> list[Any]:
    """Rules from the spec or a saved schema (dicts) to typed rules."""
    return _ADAPTER.validate_python([r if isinstance(r, dict) else r.model_dump(by_alias=True) for r in rules])


def dump(rules: list[Any]) -> list[dict[str, Any]]:
    return [r.model_dump(by_alias=True, exclude_none=True) for r in rules]


def proposals(found: list[dict[str, Any]], declared: list[dict[str, Any]], unit: str) -> dict[str, Any]:
    """What ingest records of the rules it found that the spec does not declare (layout.json's
    `proposed_constraints`), logged as YAML to paste into the spec; never enforced from there."""
    new = [rule for rule in found if rule not in declared]
    if new:
        log.info(
            "ingest: %d constraint(s) hold on every real %s; copy those you mean into the spec's constraints: "
            "to enforce them:\n%s",
            len(new),
            unit,
            yaml.safe_dump(new, sort_keys=False).rstrip(),
        )
    return {"proposed_constraints": new} if new else {}


def check_columns(rules: list[Any], schema: Any, where: str) -> None:
    """Each rule's columns exist, are modelled, are not the class target, and suit the rule."""
    seen: dict[str, str] = {}
    for rule in rules:
        for name in rule.columns:
            col = schema.column(name)
            if col.role == "pii":
                raise SynthgenError(
                    f"{where}: constraint {rule.describe()!r}: column {name!r} is detected as personal data and made "
                    f"up, not modelled; declare columns: {{{name}: {{role: none}}}} in the spec to model it"
                )
            if not col.modelled or col.role == "target":
                raise SynthgenError(
                    f"{where}: constraint {rule.describe()!r}: column {name!r} is the {col.role or col.kind} column, "
                    "not a modelled one; constrain data columns only"
                )
            if isinstance(rule, Inequality | Range) and col.kind not in ("numeric", "integer", "datetime"):
                raise SynthgenError(
                    f"{where}: constraint {rule.describe()!r}: column {name!r} is {col.kind}; "
                    f"{rule.kind} needs numeric, integer or datetime columns"
                )
            if isinstance(rule, FixedCombinations) and col.kind not in ("categorical", "boolean", "integer"):
                raise SynthgenError(
                    f"{where}: constraint {rule.describe()!r}: column {name!r} is {col.kind}; "
                    "fixed_combinations needs categorical, boolean or integer columns"
                )
            rebuilt = isinstance(rule, FixedCombinations) or (isinstance(rule, Inequality) and name == rule.high)
            if rebuilt:  # its encoding is replaced by the rule's: once only
                if name in seen:
                    raise SynthgenError(
                        f"{where}: column {name!r} is rebuilt by two constraints ({seen[name]!r}, "
                        f"{rule.describe()!r}); a column is the high side of one inequality or in one fixed combination"
                    )
                seen[name] = rule.describe()
        if isinstance(rule, Inequality) and schema.column(rule.low).kind != schema.column(rule.high).kind:
            kinds = schema.column(rule.low).kind, schema.column(rule.high).kind
            if "datetime" in kinds:
                raise SynthgenError(
                    f"{where}: constraint {rule.describe()!r} compares a datetime with a number; compare like with like"
                )
        if isinstance(rule, Range) and rule.low is not None and rule.high is not None and rule.low > rule.high:
            raise SynthgenError(f"{where}: constraint {rule.describe()!r} is empty; give low <= high")
    _check_no_cycle([r for r in rules if isinstance(r, Inequality)], where)


def _check_no_cycle(inequalities: list[Inequality], where: str) -> None:
    """Chains (start <= middle <= end) decode low first; a cycle would have no first."""
    above = {r.high: r for r in inequalities}  # each high once, checked above
    for rule in inequalities:
        chain, low = [rule], rule.low
        while low in above:
            if above[low] is rule:
                path = ", ".join(repr(r.describe()) for r in chain)
                raise SynthgenError(f"{where}: constraints {path} form a cycle; drop one")
            chain.append(above[low])
            low = above[low].low


def check_real_rows(rules: list[Any], frame: pd.DataFrame, where: str) -> None:
    """A declared rule that real rows break is a wrong rule (or wrong data): say how many, and stop."""
    for rule in rules:
        broken = int((~rule.holds(frame, frame)).sum())
        if broken:
            raise SynthgenError(
                f"{where}: constraint {rule.describe()!r} is broken by {broken} of {len(frame)} real rows; "
                "fix those rows or drop the constraint from the spec"
            )


def declared(rules: list[Any], schema: Any, frame: pd.DataFrame, where: str) -> list[dict[str, Any]]:
    """The spec's rules, checked against the schema and every real row, as the schema stores them."""
    typed = parse(rules)
    check_columns(typed, schema, where)
    check_real_rows(typed, frame, where)
    return dump(typed)


def share_held(rules: list[Any], synthetic: pd.DataFrame, real: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """Share of rows that keep every rule, and per rule (fixed combinations judged against `real`)."""
    per_rule, every = {}, np.ones(len(synthetic), dtype=bool)
    for rule in rules:
        held = rule.holds(synthetic, real)
        per_rule[rule.describe()] = float(held.mean()) if len(held) else 1.0
        every &= held
    return (float(every.mean()) if len(every) else 1.0), per_rule


def propose(frame: pd.DataFrame, schema: Any) -> list[dict[str, Any]]:
    """Rules every real row keeps that the columns' ranges do not already imply: `high >= low` between
    overlapping numeric (or datetime) columns, never equal on every row; and pairs of categorical
    columns where one decides the other (zip code -> city) without either being unique per row."""
    modelled = [c for c in schema.columns if c.modelled and c.role != "target"]
    full, frame = frame, frame.sample(min(len(frame), PROPOSE_ROWS), random_state=0)  # found on a sample,
    proposals: list[dict[str, Any]] = []  # then checked on every row
    for kinds in (("numeric", "integer"), ("datetime",)):  # like is compared with like
        cols = [c.name for c in modelled if c.kind in kinds]
        values = {name: _numbers(frame[name]) for name in cols}
        for a, b in itertools.permutations(cols, 2):
            low, high = values[a], values[b]
            both = ~np.isnan(low) & ~np.isnan(high)
            if both.sum() < 10 or np.all(high[both] == low[both]) or not np.all(high[both] >= low[both]):
                continue
            if np.nanmax(low) <= np.nanmin(high):  # the ranges alone imply it: not a rule between the two
                continue
            proposals.append(Inequality(low=a, high=b).model_dump())
    categorical = [
        c.name
        for c in modelled
        if c.kind in ("categorical", "boolean", "integer") and 1 < frame[c.name].nunique() <= PROPOSE_MAX_CATEGORIES
    ]
    for a, b in itertools.combinations(categorical, 2):
        pairs = frame[[a, b]].dropna()
        if len(pairs) < 10 or pairs[a].nunique() == len(pairs) or pairs[b].nunique() == len(pairs):
            continue
        if _one_decides_the_other(pairs, a, b):
            proposals.append(FixedCombinations(columns=[a, b]).model_dump(by_alias=True))
    return [rule for rule in proposals if _decides_everywhere(rule, full)][:MAX_PROPOSED]


def _decides_everywhere(rule: dict[str, Any], frame: pd.DataFrame) -> bool:
    """Whether a rule found on a sample holds on every row of the whole table."""
    if rule["kind"] == "inequality":
        return bool(Inequality(**rule).holds(frame, frame).all())
    a, b = rule["columns"]
    return _one_decides_the_other(frame[[a, b]].dropna(), a, b)


def _one_decides_the_other(pairs: pd.DataFrame, a: str, b: str) -> bool:
    """Whether each value of one column goes with a single value of the other (zip code -> city)."""
    return bool((pairs.groupby(a)[b].nunique() == 1).all() or (pairs.groupby(b)[a].nunique() == 1).all())


def entities_held(
    rules: list[Any], values: np.ndarray, lengths: np.ndarray, channels: list[str]
) -> tuple[float, dict[str, float]]:
    """Share of entities that keep every sequence rule, and per rule; values (entities, length,
    channels) in the layout's channel order."""
    every, per_rule = np.ones(len(values), dtype=bool), {}
    for rule in rules:
        index = [channels.index(c) for c in rule.channels]
        held = rule.entities(values[:, :, index], lengths)
        per_rule[rule.describe()] = float(held.mean()) if len(held) else 1.0
        every &= held
    return (float(every.mean()) if len(every) else 1.0), per_rule


def enforce_sequences(rules: list[Any], values: np.ndarray, lengths: np.ndarray, channels: list[str]) -> np.ndarray:
    """Synthetic series made to keep every sequence rule (post-processing: under DP it costs nothing)."""
    for rule in rules:
        index = [channels.index(c) for c in rule.channels]
        values[:, :, index] = rule.enforce(values[:, :, index], lengths)
    return values


def declared_sequences(
    rules: list[Any], channels: list[str], values: np.ndarray, lengths: np.ndarray, where: str
) -> list[dict[str, Any]]:
    """The spec's sequence rules, each checked on every real entity (and `normalized`'s ddof found
    when not given), as the layout stores them."""
    typed = parse(rules)
    for rule in typed:
        unknown = [c for c in rule.channels if c not in channels]
        if unknown:
            raise SynthgenError(
                f"{where}: constraint {rule.kind}: {unknown} are not channels; channels are: {', '.join(channels)}"
            )
        if isinstance(rule, Normalized) and rule.ddof is None:
            index = [channels.index(c) for c in rule.channels]
            kept = [
                d for d in (0, 1) if rule.model_copy(update={"ddof": d}).entities(values[:, :, index], lengths).all()
            ]
            rule.ddof = kept[0] if kept else 0
        held = entities_held([rule], values, lengths, channels)[0]
        if held < 1:
            broken = round((1 - held) * len(values))
            raise SynthgenError(
                f"{where}: constraint {rule.describe()!r} is broken by {broken} of {len(values)} real entities; "
                "fix those entities or drop the constraint from the spec"
            )
    return dump(typed)


def propose_sequences(channels: list[str], values: np.ndarray, lengths: np.ndarray) -> list[dict[str, Any]]:
    """Sequence rules every real entity keeps: normalised channels, and monotone ones (that move)."""
    if len(values) == 0 or lengths.max() < 3:
        return []
    proposals: list[dict[str, Any]] = []
    normalized = []
    for ddof in (0, 1):
        normalized = [
            c
            for i, c in enumerate(channels)
            if Normalized(channels=[c], ddof=ddof).entities(values[:, :, [i]], lengths).all()
        ]
        if normalized:
            proposals.append(Normalized(channels=normalized, ddof=ddof).model_dump())
            break
    for direction in ("increasing", "decreasing"):
        found = [
            c
            for i, c in enumerate(channels)
            if c not in normalized
            and np.ptp(values[:, :, i]) > 0
            and Monotone(channels=[c], direction=direction).entities(values[:, :, [i]], lengths).all()
        ]
        if found:
            proposals.append(Monotone(channels=found, direction=direction).model_dump())
    return proposals
