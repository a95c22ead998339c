"""The `constraints` check at its default threshold: fresh real rows pass, a few broken rows fail."""

import numpy as np
import pytest

from synthgen.config import ValidateParams
from synthgen.data import constraints
from synthgen.data.schema import infer_schema
from synthgen.validation import run_gate
from synthgen.validation.base import Context
from synthgen.validation.constraints import Constraints
from synthgen.validation.gate import _judge, configured
from tests.unit.data.test_constraints import RULES, orders


@pytest.fixture(scope="module")
def split():
    frame = orders(800)
    train, holdout = frame.iloc[:400].reset_index(drop=True), frame.iloc[400:].reset_index(drop=True)
    schema = infer_schema(train, "returned")
    schema.constraints = constraints.declared(RULES, schema, frame, "orders")
    return train, holdout, schema


def _verdict(split, synthetic, tmp_path):
    train, holdout, schema = split
    cfg = configured("constraints", ValidateParams())
    ctx = Context(train, holdout, synthetic.reset_index(drop=True), schema, 0, tmp_path)
    return _judge("constraints", Constraints(), ctx, cfg.threshold, cfg.level, False)


def test_a_fresh_real_split_passes_the_whole_gate_on_constraints(split, tmp_path):
    train, holdout, schema = split
    result = run_gate(train, holdout, holdout, schema, ValidateParams(), 0, tmp_path)
    assert result["checks"]["constraints"]["verdict"] == "pass"
    assert result["checks"]["constraints"]["score"] == 1.0


@pytest.mark.parametrize("share", [0.05, 0.10, 0.20])
@pytest.mark.parametrize("breaks", ["dates", "payment", "combination", "range"])
def test_a_minority_of_broken_rows_fails(split, tmp_path, share, breaks):
    _, holdout, _ = split
    bad = holdout.copy()
    rows = np.random.default_rng(0).choice(len(bad), int(share * len(bad)), replace=False)
    if breaks == "dates":  # swapped: every value still a real one, only the order is wrong
        bad.loc[rows, ["ordered", "delivered"]] = bad.loc[rows, ["delivered", "ordered"]].to_numpy()
        rows = rows[holdout.loc[rows, "ordered"].to_numpy() != holdout.loc[rows, "delivered"].to_numpy()]
    elif breaks == "payment":
        bad.loc[rows, "paid"] = bad.loc[rows, "total"] + 0.01
    elif breaks == "combination":
        bad.loc[rows, "region"] = np.where(bad.loc[rows, "region"] == "north", "south", "north")
    else:
        bad.loc[rows, "age"] = 66
    record = _verdict(split, bad, tmp_path)
    assert record["verdict"] == "fail"
    assert record["score"] == pytest.approx(1 - len(rows) / len(bad))


def test_no_declared_constraint_scores_one_and_passes(split, tmp_path):
    train, holdout, schema = split
    plain = infer_schema(train, "returned")
    ctx = Context(train, holdout, holdout, plain, 0, tmp_path)
    assert Constraints().compute(ctx).score == 1.0


@pytest.mark.parametrize("share", [0.05, 0.10, 0.20])
def test_sequence_constraints_pass_fresh_real_entities_and_fail_a_minority_that_breaks_them(tmp_path, share):
    from synthgen.validation.sequences import SequenceConstraints, SequenceContext, Sequences
    from tests.unit.data.test_constraints import SEQUENCE_RULES, sensors

    train, holdout, fresh = (sensors(40, seed=s) for s in (0, 1, 2))
    rules = constraints.declared_sequences(SEQUENCE_RULES, train[2], *train[:2], "machines")

    def context(synthetic):
        seqs = [Sequences(v, n) for v, n, _ in (train, holdout, synthetic)]
        ctx = SequenceContext(*seqs, 0, tmp_path, None)
        ctx.constraints = {"rules": rules, "channels": train[2], "train": train[:2], "holdout": holdout[:2]}
        ctx.constraints["synthetic"] = synthetic[:2]
        return ctx

    cfg = configured("sequence_constraints", ValidateParams())
    good = _judge("sequence_constraints", SequenceConstraints(), context(fresh), cfg.threshold, cfg.level, False)
    assert good["verdict"] == "pass" and good["score"] == 1.0
    drifted = fresh[0].copy()
    bad = np.random.default_rng(0).choice(40, int(share * 40), replace=False)
    drifted[bad, :, 0] += 0.05  # a drifting mean, as an unconstrained model makes
    record = _judge(
        "sequence_constraints", SequenceConstraints(), context((drifted, *fresh[1:])), cfg.threshold, cfg.level, False
    )
    assert record["verdict"] == "fail" and record["score"] == pytest.approx(1 - len(bad) / 40)
