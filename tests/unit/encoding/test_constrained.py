"""Constraints kept by construction: any latent matrix decodes into rows that keep every rule."""

import numpy as np
import pandas as pd

from synthgen import Synthesizer
from synthgen.data import constraints
from synthgen.data.schema import infer_schema
from synthgen.encoding import TableEncoder
from tests.unit.data.test_constraints import RULES, orders


def _encoder(frame: pd.DataFrame, rules=RULES) -> TableEncoder:
    schema = infer_schema(frame, "returned")
    schema.constraints = constraints.declared(rules, schema, frame, "orders")
    return TableEncoder(schema).fit(frame)


def test_any_latent_decodes_into_rows_that_keep_every_rule():
    frame = orders()
    enc = _encoder(frame)
    latent = np.random.default_rng(0).normal(0, 2, (3000, enc.width))
    decoded = enc.inverse(latent, np.zeros(3000, dtype=int), seed=0)
    share, per_rule = constraints.share_held(constraints.parse(RULES), decoded, frame)
    assert share == 1.0, per_rule


def test_encoding_round_trips_the_constrained_columns():
    frame = orders()
    enc = _encoder(frame)
    back = enc.inverse(enc.transform(frame, seed=0), np.zeros(len(frame), dtype=int), seed=0)
    for name in ("shop", "region"):  # a combination decodes to the very values
        assert (back[name] == frame[name]).all(), name
    assert (back["delivered"] == frame["delivered"]).mean() > 0.9  # but where its order or gap is at an end
    assert (back["total"] == frame["total"]).mean() > 0.9  # as an unconstrained column would (grid points)
    assert back["total"].notna().all() and back["paid"].isna().sum() == frame["paid"].isna().sum()


def test_a_declared_high_column_decodes_onto_its_own_values_not_low_plus_gap_floats():
    rng = np.random.default_rng(0)
    low = np.round(rng.uniform(1, 4, 600), 1)
    float32_printed = lambda v: np.char.mod("%.15g", v.astype(np.float32).astype(float)).astype(float)  # noqa: E731
    frame = pd.DataFrame({"low": float32_printed(low), "high": float32_printed(low + rng.integers(0, 20, 600) / 10)})
    frame["returned"] = "no"
    enc = _encoder(frame, [{"kind": "inequality", "low": "low", "high": "high"}])
    latent = np.random.default_rng(1).normal(size=(2000, enc.width))
    decoded = enc.inverse(latent, np.zeros(2000, dtype=int), seed=0)
    assert decoded["high"].isin(set(frame["high"])).mean() > 0.95  # 2.0000000476837 + 0.3 is not a value of high
    assert (decoded["high"] >= decoded["low"]).all()


def test_a_chain_of_inequalities_decodes_low_end_first():
    frame = orders().assign(refunded=lambda f: f["total"] * 1.5)
    chain = [RULES[1], {"kind": "inequality", "low": "total", "high": "refunded"}]
    enc = _encoder(frame, chain)
    decoded = enc.inverse(np.random.default_rng(1).normal(0, 2, (2000, enc.width)), np.zeros(2000, int), seed=0)
    assert constraints.share_held(constraints.parse(chain), decoded, frame)[0] == 1.0


def test_a_trained_model_keeps_the_rules_it_would_otherwise_break(fast_train, tmp_path):
    frame = orders(600)
    rules = constraints.parse(RULES)
    plain = Synthesizer(target="returned", seed=0, train_params=fast_train).fit(frame)
    kept = Synthesizer(target="returned", seed=0, train_params=fast_train, constraints=RULES).fit(frame)
    assert constraints.share_held(rules, plain.sample(2000), frame)[0] < 0.95  # can fail: the rules matter
    synthetic = kept.sample(2000)
    assert constraints.share_held(rules, synthetic, frame)[0] == 1.0
    assert synthetic["total"].notna().all()  # never missing in train, so never missing here
    kept.save(tmp_path / "model")
    again = Synthesizer.load(tmp_path / "model").sample(2000)
    pd.testing.assert_frame_equal(again, synthetic)  # the rules travel with the saved model


def test_under_dp_the_rules_hold_and_the_budget_counts_both_parts_of_an_inequality(fast_private_train):
    from synthgen.config import PrivacyParams

    frame = orders(600).assign(paid=lambda f: f["paid"].fillna(0.0))  # low never missing: no rows alone
    # A gap's range is its own column's (README, "Constraints"): declared under the gap's name.
    gaps = {"delivered - ordered": (0, 30 * 86400), "total - paid": (0, 2000)}
    bounds = {**gaps, "total": (0, 2000), "paid": (0, 2000), "age": (18, 65)}
    private = fast_private_train.model_copy(update={"privacy": PrivacyParams(epsilon=8.0, noise_seed=1, bounds=bounds)})
    synth = Synthesizer(target="returned", seed=0, train_params=private, constraints=RULES).fit(frame)
    releases = synth.meta["privacy"]["releases"]
    assert any(r["what"].startswith("column total - paid:") for r in releases)
    assert any(r["what"].startswith("column total:") for r in releases)
    assert sum(r["epsilon"] for r in releases) <= 8.0 + 1e-9
    assert constraints.share_held(constraints.parse(RULES), synth.sample(1000), frame)[0] == 1.0
