import numpy as np
import pandas as pd

from synthgen.validation.expectations import Expectations


def test_real_holdout_meets_the_suite_and_results_are_written(make_ctx, real, tmp_path):
    # Holdout values may lie outside train's range; clip to it to isolate the type/null/set checks.
    train, holdout = real
    clipped = holdout.assign(
        x=holdout["x"].clip(train["x"].min(), train["x"].max()), y=holdout["y"].clip(train["y"].min(), train["y"].max())
    )
    outcome = Expectations().compute(make_ctx(clipped))
    assert outcome.score == 1.0, outcome.details
    assert (tmp_path / "expectations" / "results.json").exists()
    assert (tmp_path / "expectations" / "suite.json").exists()
    docs = tmp_path / "data_docs"
    assert (docs / "index.html").exists() and list(docs.glob("validations/**/*.html"))


def test_a_fresh_real_split_meets_the_suite_unclipped(make_ctx):
    rng = np.random.default_rng(11)
    x = rng.normal(0, 1, 300)
    fresh = pd.DataFrame(
        {"x": np.round(x, 3), "y": np.round(2 * x + rng.normal(0, 0.3, 300), 3), "c": np.where(x > 0, "hi", "lo")}
    )
    outcome = Expectations().compute(make_ctx(fresh))
    assert outcome.score == 1.0, outcome.details


def test_out_of_range_unknown_category_nulls_and_wrong_type_fail(make_ctx, real):
    bad = real[0].copy()
    bad.loc[:14, "x"] = 1e6  # 5% of rows: more than unseen real rows ever fall outside train's range
    bad.loc[1, "c"] = "martian"
    bad["y"] = np.where(np.arange(len(bad)) % 2 == 0, np.nan, bad["y"])
    outcome = Expectations().compute(make_ctx(bad))
    failed = " ".join(outcome.details["failed"])
    assert "expect_column_values_to_be_between(x)" in failed
    assert "expect_column_values_to_be_in_set(c)" in failed
    assert "expect_column_values_to_not_be_null(y)" in failed
    wrong_type = real[0].assign(x=real[0]["x"].astype(str))
    assert "expect_column_values_to_be_of_type(x)" in " ".join(
        Expectations().compute(make_ctx(wrong_type)).details["failed"]
    )
