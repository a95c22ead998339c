import numpy as np
import pandas as pd
import pytest

from synthgen.config import ValidateParams
from synthgen.data.schema import infer_schema
from synthgen.errors import SynthgenError
from synthgen.validation import run_gate
from synthgen.validation.gate import check_holdout, check_synthetic, summary_table


def test_copy_of_train_fails_and_holdout_passes(real, tmp_path):
    train, holdout = real
    schema = infer_schema(train)
    params = ValidateParams.model_validate({"checks": {"expectations": {"threshold": 0.8}}})
    bad = run_gate(train, holdout, train, schema, params, 0, tmp_path)
    assert not bad["passed"] and bad["checks"]["dcr_share"]["verdict"] == "fail"
    good = run_gate(train, holdout, holdout, schema, params, 0, tmp_path)
    assert good["passed"], summary_table(good)
    assert "gate: PASSED" in summary_table(good)


PRIVACY = (
    "dcr_share",
    "near_copies",
    "exact_copies",
    "membership_inference",
    "singling_out_risk",
    "linkability_risk",
    "inference_risk",
)


def test_warn_level_and_off_do_not_fail_the_gate_but_need_a_reason_for_privacy(real, tmp_path):
    train, holdout = real
    checks = {name: {"threshold": 0.001, "level": "warn"} for name in PRIVACY}
    checks |= {"near_copies": {"threshold": 0.001, "level": "off"}, "detection": {"threshold": 0.3, "level": "warn"}}
    params = ValidateParams.model_validate({"checks": checks})
    with pytest.raises(SynthgenError, match="may only be tightened"):
        run_gate(train, holdout, train, infer_schema(train), params, 0, tmp_path)
    unsafe = params.model_copy(update={"allow_unsafe": {name: "red-team fixture" for name in PRIVACY}})
    result = run_gate(train, holdout, train, infer_schema(train), unsafe, 0, tmp_path)
    assert result["checks"]["dcr_share"]["verdict"] == "warn" and result["checks"]["near_copies"]["verdict"] == "off"
    assert result["passed"] and result["allow_unsafe"]["near_copies"] == "red-team fixture"
    assert "UNSAFE: near_copies loosened: red-team fixture" in summary_table(result)


def test_a_fail_level_check_that_cannot_run_blocks_the_gate_unless_accepted(tmp_path):
    frame = pd.DataFrame({"k": ["a"] * 40, "id": range(40)})
    schema = infer_schema(frame)
    result = run_gate(frame[:30], frame[30:], frame[:20], schema, ValidateParams(), 0, tmp_path)
    quality = result["checks"]["quality"]
    assert quality["verdict"] == "inconclusive" and "more than one value" in quality["reason"]
    assert not result["passed"]
    inconclusive = [k for k, c in result["checks"].items() if c["verdict"] == "inconclusive"]
    params = ValidateParams(accept_inconclusive=inconclusive)
    accepted = run_gate(frame[:30], frame[30:], frame[:20], schema, params, 0, tmp_path)
    assert accepted["checks"]["quality"]["verdict"] == "accepted_inconclusive"
    assert accepted["accepted_inconclusive"] == sorted(inconclusive)


def test_unknown_check_name_fails(real, tmp_path):
    params = ValidateParams.model_validate({"checks": {"magic": {"threshold": 1}}})
    with pytest.raises(SynthgenError, match=r"unknown check\(s\) \['magic'\]"):
        run_gate(real[0], real[1], real[1], infer_schema(real[0]), params, 0, tmp_path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns="x"), r"missing column\(s\) \['x'\]"),
        (lambda f: f.assign(extra=1), r"unexpected column\(s\) \['extra'\]"),
        (lambda f: f.iloc[:0], "no rows"),
    ],
)
def test_bad_synthetic_tables_are_refused_up_front(real, mutate, message):
    with pytest.raises(SynthgenError, match=message):
        check_synthetic(mutate(real[0]), infer_schema(real[0]), "synthetic.parquet")


def test_category_seen_only_in_holdout_is_refused(real):
    train, holdout = real
    with pytest.raises(SynthgenError, match="column 'c' has value.*re-split with `synthgen ingest`"):
        check_holdout(train, holdout.assign(c="new"), infer_schema(train), "holdout.parquet")


def test_structural_problems_fail_the_gate_even_when_the_schema_suite_would_pass(real, tmp_path):
    train, holdout = real
    mostly_empty = train.assign(y=np.where(np.arange(len(train)) < 290, np.nan, train["y"]))
    synthetic = mostly_empty.assign(y=np.nan)  # a copy of train with the sparse column emptied
    result = run_gate(mostly_empty, holdout, synthetic, infer_schema(mostly_empty), ValidateParams(), 0, tmp_path)
    assert not result["passed"] and "column 'y' is entirely empty" in result["problems"][0]
    inf = run_gate(train, holdout, train.assign(x=np.inf), infer_schema(train), ValidateParams(), 0, tmp_path)
    assert not inf["passed"] and "infinite" in inf["problems"][0]


@pytest.mark.parametrize(
    ("dp", "require", "passed"),
    [
        (None, None, True),  # reported only
        ({"epsilon": 2.9, "delta": 1e-5}, {"max_epsilon": 3.0}, True),
        ({"epsilon": 2.9, "delta": 1e-5}, {"max_epsilon": 1.0}, False),
        ({"epsilon": 2.9, "delta": 1e-5}, {"max_epsilon": 3.0, "max_delta": 1e-6}, False),
        (None, {"max_epsilon": 10.0}, False),  # no guarantee at all
    ],
)
def test_require_dp_fails_a_set_without_a_guarantee_this_strong(dp, require, passed):
    from synthgen.config import RequireDP
    from synthgen.validation.gate import DP_CHECK, with_dp

    result = with_dp({"passed": True, "checks": {}}, dp, RequireDP(**require) if require else None)
    assert result["passed"] is passed and result["dp_epsilon"] == (dp["epsilon"] if dp else None)
    assert (DP_CHECK in result["checks"]) is (require is not None)
    if require and not passed:
        assert result["checks"][DP_CHECK]["verdict"] == "fail" and result["checks"][DP_CHECK]["reason"]
