import numpy as np
import pandas as pd
import pytest

from synthgen.config import ColumnOverride
from synthgen.data.schema import Schema, infer_schema
from synthgen.errors import SynthgenError


def test_kinds_and_roles_of_a_mixed_table(mixed):
    schema = infer_schema(mixed, target="fraud")
    kinds = {c.name: (c.kind, c.role) for c in schema.columns}
    assert kinds == {
        "customer_id": ("id", None),
        "age": ("integer", None),
        "amount": ("numeric", None),
        "segment": ("categorical", None),
        "active": ("boolean", None),
        "opened": ("datetime", None),
        "email": ("text", "pii"),
        "note": ("text", None),
        "fraud": ("categorical", "target"),
    }
    assert schema.classes == ["no", "yes"]


def test_penguins_integers_stay_integer_kind(penguins):
    schema = infer_schema(penguins, target="species")
    assert schema.column("flipper_length_mm").kind == "integer"  # float dtype (NaN), integral values
    assert schema.column("bill_length_mm").kind == "numeric"
    assert schema.classes == ["Adelie", "Chinstrap", "Gentoo"]


def test_overrides_win(penguins):
    schema = infer_schema(
        penguins, overrides={"year": ColumnOverride(kind="categorical"), "sex": ColumnOverride(role="pii")}
    )
    assert schema.column("year").kind == "categorical"
    assert schema.column("sex").role == "pii" and not schema.column("sex").modelled


def test_round_trip_and_hash(tmp_path, penguins):
    schema = infer_schema(penguins, target="species")
    schema.save(tmp_path / "schema.json")
    loaded = Schema.load(tmp_path / "schema.json")
    assert loaded.to_dict() == schema.to_dict() and loaded.hash() == schema.hash()


@pytest.mark.parametrize(
    ("frame", "target", "message"),
    [
        (pd.DataFrame({"a": [1, 2, 3]}), "b", "column 'b' not found; columns are: a"),
        (pd.DataFrame({"a": [1, 2, 3], "b": [np.nan] * 3}), None, "column 'b' is entirely empty; drop it or fill it"),
        (pd.DataFrame({"a": [1.0, np.inf, 3.0]}), None, "column 'a' has 1 infinite value"),
        (pd.DataFrame({"a": [1, 2, 3], "y": ["x", None, "z"]}), "y", "target 'y' is missing in 1 row"),
    ],
)
def test_unusable_input_is_refused(frame, target, message):
    with pytest.raises(SynthgenError, match=message):
        infer_schema(frame, target, where="in.csv")


def test_constant_column_is_kept(penguins):
    frame = penguins.assign(station="Palmer")
    assert infer_schema(frame).column("station").kind == "categorical"


def test_numeric_columns_named_like_personal_data_stay_numbers():
    frame = pd.DataFrame({"zip_code": [10115, 20095, 80331] * 10, "email": [f"a{i}@x.org" for i in range(30)]})
    schema = infer_schema(frame)
    assert schema.column("zip_code").kind == "integer" and schema.column("zip_code").role is None
    assert schema.column("email").role == "pii"
