import numpy as np
import pandas as pd
import pytest

from synthgen.data.schema import infer_schema
from synthgen.data.split import split_train_holdout
from synthgen.errors import SynthgenError


def test_split_is_seeded_and_stratified(penguins):
    schema = infer_schema(penguins, target="species")
    train, holdout = split_train_holdout(penguins, schema, 0.2, seed=3, min_holdout=5)
    again, _ = split_train_holdout(penguins, schema, 0.2, seed=3, min_holdout=5)
    assert train.equals(again) and len(train) + len(holdout) == len(penguins)
    share = holdout["species"].value_counts() / penguins["species"].value_counts()
    assert share.between(0.18, 0.22).all()


def test_category_only_in_holdout_is_moved_to_train(penguins):
    frame = pd.concat([penguins, penguins.iloc[[0]].assign(island="Nowhere")], ignore_index=True)
    schema = infer_schema(frame, target="species")
    for seed in range(5):
        train, holdout = split_train_holdout(frame, schema, 0.3, seed=seed, min_holdout=5)
        assert "Nowhere" in set(train["island"]) and "Nowhere" not in set(holdout["island"])


def test_too_few_rows_for_a_holdout(penguins):
    small = penguins.iloc[:12]
    schema = infer_schema(small)
    with pytest.raises(SynthgenError, match="12 rows give only 2 holdout row.*raise ingest.holdout_fraction"):
        split_train_holdout(small, schema, 0.2, seed=0, min_holdout=5, where="small.csv")


def test_holdout_minimum_is_checked_after_moving_rows(penguins):
    from synthgen.config import ColumnOverride

    frame = penguins.iloc[:40].assign(island=[f"isle{i}" for i in range(40)])
    schema = infer_schema(frame, overrides={"island": ColumnOverride(kind="categorical")})
    with pytest.raises(SynthgenError, match="remain after keeping every category in train"):
        split_train_holdout(frame, schema, 0.2, seed=0, min_holdout=5)


def test_column_filled_only_in_holdout_is_refused(penguins):
    frame = penguins.assign(rare=np.nan)
    frame.loc[frame.index[-1], "rare"] = 1.0
    schema = infer_schema(frame)
    for seed in range(20):
        train, holdout = None, None
        try:
            train, holdout = split_train_holdout(frame, schema, 0.2, seed=seed, min_holdout=5)
        except SynthgenError as err:
            assert "values only in holdout rows" in str(err)
            return
    pytest.fail("no seed put the single filled row in the holdout")


def test_a_row_hash_split_moves_no_other_row_when_one_is_added(penguins):
    schema = infer_schema(penguins, target="species")
    _, holdout = split_train_holdout(penguins, schema, 0.2, seed=3, min_holdout=5, method="row_hash")
    # the new row also turns the int64 year column into float64 (a missing year): no other row moves
    new = penguins.iloc[[5]].assign(body_mass_g=9999.0, year=float("nan"))
    grown = pd.concat([penguins.iloc[:100], new, penguins.iloc[100:]], ignore_index=True)
    assert grown["year"].dtype == "float64"
    _, holdout_grown = split_train_holdout(grown, schema, 0.2, seed=3, min_holdout=5, method="row_hash")
    without_new = holdout_grown[holdout_grown["body_mass_g"] != 9999.0].astype({"year": "int64"})
    assert without_new.reset_index(drop=True).equals(holdout.reset_index(drop=True))
    assert 0.12 < len(holdout) / len(penguins) < 0.28
    _, other_seed = split_train_holdout(penguins, schema, 0.2, seed=4, min_holdout=5, method="row_hash")
    assert not other_seed.equals(holdout)
