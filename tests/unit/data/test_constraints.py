"""Constraint rules: parsing, what holds, refusals that name the fix, and what ingest proposes."""

import numpy as np
import pandas as pd
import pytest

from synthgen.config import DatasetSpec
from synthgen.data import constraints
from synthgen.data.schema import ColumnOverride, infer_schema
from synthgen.errors import SynthgenError


def orders(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Orders with every kind of rule: dates in order, paid <= total (paid sometimes missing),
    shop -> region decided, and a bounded age."""
    rng = np.random.default_rng(seed)
    regions = {"north-1": "north", "north-2": "north", "south-1": "south", "west-1": "west"}
    shop = rng.choice(list(regions), n)
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D")
    total = np.round(rng.lognormal(4, 1, n), 2)
    paid = np.round(total * rng.uniform(0, 1, n), 2)
    paid[: n // 10] = np.nan
    return pd.DataFrame(
        {
            "shop": shop,
            "region": [regions[s] for s in shop],
            "ordered": start.strftime("%Y-%m-%d"),
            "delivered": (start + pd.to_timedelta(rng.integers(0, 30, n), "D")).strftime("%Y-%m-%d"),
            "total": total,
            "paid": paid,
            "age": rng.integers(18, 66, n),
            "returned": rng.choice(["no", "yes"], n, p=[0.8, 0.2]),
        }
    )


RULES = [
    {"kind": "inequality", "low": "ordered", "high": "delivered"},
    {"kind": "inequality", "low": "paid", "high": "total"},
    {"kind": "fixed_combinations", "columns": ["shop", "region"]},
    {"kind": "range", "column": "age", "low": 18, "high": 65},
]


def test_the_spec_section_parses_every_kind_and_refuses_unknown_ones():
    spec = DatasetSpec(source="x.csv", constraints=RULES)
    assert [r.kind for r in spec.constraints] == ["inequality", "inequality", "fixed_combinations", "range"]
    with pytest.raises(ValueError, match="kind"):
        DatasetSpec(source="x.csv", constraints=[{"kind": "sum", "columns": ["a", "b"]}])
    with pytest.raises(ValueError, match="extra"):
        DatasetSpec(source="x.csv", constraints=[{"kind": "range", "column": "a", "lowest": 0}])


def test_holds_counts_only_rows_that_break_a_rule():
    frame = orders()
    frame.loc[0, "delivered"] = "2023-01-01"  # before its order
    frame.loc[1, "age"] = 70
    rules = constraints.parse(RULES)
    share, per_rule = constraints.share_held(rules, frame, orders())
    assert per_rule["delivered >= ordered"] == 1 - 1 / len(frame)
    assert per_rule["18.0 <= age <= 65.0"] == 1 - 1 / len(frame)
    assert per_rule["total >= paid"] == 1.0  # a missing paid breaks nothing
    assert share == 1 - 2 / len(frame)


def test_an_unseen_combination_breaks_fixed_combinations():
    frame = orders()
    swapped = frame.assign(region=np.where(frame["shop"] == "west-1", "north", frame["region"]))
    rule = constraints.parse([RULES[2]])
    share, _ = constraints.share_held(rule, swapped, frame)
    assert share == pytest.approx(1 - (frame["shop"] == "west-1").mean())


def test_a_rule_real_rows_break_is_refused_with_the_count():
    frame = orders()
    frame.loc[:2, "paid"] = frame.loc[:2, "total"] + 1
    schema = infer_schema(frame)
    with pytest.raises(SynthgenError, match=r"'total >= paid' is broken by 3 of 400 real rows; fix those rows"):
        constraints.declared(RULES, schema, frame, "orders.csv")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"kind": "inequality", "low": "shop", "high": "total"}, "column 'shop' is categorical; inequality needs"),
        ({"kind": "fixed_combinations", "columns": ["shop", "total"]}, "'total' is numeric; fixed_combinations"),
        ({"kind": "range", "column": "age", "low": 5, "high": 1}, "is empty; give low <= high"),
        ({"kind": "range", "column": "nope", "low": 0}, "column 'nope' is not in the schema"),
        ({"kind": "inequality", "low": "ordered", "high": "total"}, "compares a datetime with a number"),
        ({"kind": "range", "column": "returned"}, "'returned' is the target column"),
    ],
)
def test_a_rule_on_the_wrong_columns_is_refused_naming_them(rule, message):
    frame = orders()
    schema = infer_schema(frame, "returned")
    with pytest.raises(SynthgenError, match=message):
        constraints.declared([rule], schema, frame, "orders.csv")


def test_a_column_rebuilt_twice_or_a_cycle_is_refused():
    frame = orders()
    twice = [RULES[1], {"kind": "inequality", "low": "age", "high": "total"}]
    with pytest.raises(SynthgenError, match="'total' is rebuilt by two constraints"):
        constraints.declared(twice, infer_schema(frame), frame, "orders.csv")
    cycle = [RULES[1], {"kind": "inequality", "low": "total", "high": "paid"}]
    with pytest.raises(SynthgenError, match="form a cycle; drop one"):
        constraints.check_columns(constraints.parse(cycle), infer_schema(frame), "orders.csv")


def test_ingest_proposes_the_rules_every_row_keeps_and_not_what_ranges_imply():
    frame = orders().assign(id_like=lambda f: f["total"] + 10_000)  # always above total, by its range alone
    proposed = constraints.propose(frame, infer_schema(frame, "returned", {"shop": ColumnOverride(kind="categorical")}))
    assert {"kind": "inequality", "low": "ordered", "high": "delivered"} in proposed
    assert {"kind": "inequality", "low": "paid", "high": "total"} in proposed
    assert {"kind": "fixed_combinations", "columns": ["shop", "region"]} in proposed
    assert not any(r.get("high") == "id_like" for r in proposed)
    assert not any("returned" in r.get("columns", []) for r in proposed)  # the target is never constrained


def sensors(n: int = 30, length: int = 20, seed: int = 0):
    """(values, lengths, channels): a z-normalised channel per series and an odometer."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(10, length + 1, n)
    values = np.zeros((n, length, 3), dtype=np.float32)
    for i, k in enumerate(lengths):
        wave = np.sin(np.linspace(0, 6, k) + rng.uniform(0, 3)) + rng.normal(0, 0.2, k)
        values[i, :k, 0] = (wave - wave.mean()) / wave.std(ddof=1)  # ddof 1, as R's scale() does
        values[i, :k, 1] = np.cumsum(rng.exponential(1.0, k)) + rng.uniform(0, 100)
        values[i, :k, 2] = rng.normal(5, 1, k)
        values[i, k:] = values[i, k - 1]  # padding repeats the last step
    return values, lengths, ["ecg", "odometer", "temp"]


SEQUENCE_RULES = [{"kind": "normalized", "channels": ["ecg"]}, {"kind": "monotone", "channels": ["odometer"]}]


def test_sequence_rules_are_checked_per_entity_and_ddof_is_found():
    values, lengths, channels = sensors()
    stored = constraints.declared_sequences(SEQUENCE_RULES, channels, values, lengths, "machines")
    assert stored[0]["ddof"] == 1
    broken = values.copy()
    broken[3, 2, 1] = broken[3, 1, 1] - 1  # one odometer step back
    broken[5, :, 0] *= 1.1
    share, per_rule = constraints.entities_held(constraints.parse(stored), broken, lengths, channels)
    assert share == 1 - 2 / len(values) and per_rule["each entity's odometer increasing"] == 1 - 1 / len(values)
    with pytest.raises(SynthgenError, match="is broken by 1 of 30 real entities"):
        constraints.declared_sequences(SEQUENCE_RULES[1:], channels, broken, lengths, "machines")
    with pytest.raises(SynthgenError, match=r"\['speed'\] are not channels"):
        constraints.declared_sequences([{"kind": "monotone", "channels": ["speed"]}], channels, values, lengths, "m")


def test_enforcing_sequence_rules_makes_any_series_keep_them_and_leaves_padding_a_repeat():
    _, lengths, channels = sensors()
    noise = np.random.default_rng(1).normal(3, 2, (len(lengths), 20, 3)).astype(np.float32)
    rules = constraints.parse([{**SEQUENCE_RULES[0], "ddof": 1}, SEQUENCE_RULES[1]])
    assert constraints.entities_held(rules, noise, lengths, channels)[0] == 0.0
    kept = constraints.enforce_sequences(rules, noise.copy(), lengths, channels)
    assert constraints.entities_held(rules, kept, lengths, channels)[0] == 1.0
    i = int(np.argmin(lengths))
    assert np.sort(kept[i, : lengths[i], 1]).tolist() == np.sort(noise[i, : lengths[i], 1]).tolist()  # reordered only
    assert np.array_equal(kept[:, :, 2], noise[:, :, 2])  # other channels untouched


def test_ingest_proposes_the_sequence_rules_every_entity_keeps():
    values, lengths, channels = sensors()
    proposed = constraints.propose_sequences(channels, values, lengths)
    assert proposed == [
        {"kind": "normalized", "channels": ["ecg"], "ddof": 1},
        {"kind": "monotone", "channels": ["odometer"], "direction": "increasing"},
    ]


def test_a_rule_found_on_the_sample_is_proposed_only_if_every_row_keeps_it(monkeypatch):
    frame = orders()
    monkeypatch.setattr(constraints, "PROPOSE_ROWS", len(frame) - 1)
    left_out = sorted(set(frame.index) - set(frame.sample(len(frame) - 1, random_state=0).index))[0]
    frame.loc[left_out, "paid"] = frame.loc[left_out, "total"] + 1  # the one row the sample misses
    proposed = constraints.propose(frame, infer_schema(frame, "returned"))
    assert {"kind": "inequality", "low": "ordered", "high": "delivered"} in proposed
    assert {"kind": "inequality", "low": "paid", "high": "total"} not in proposed
