import numpy as np
import pandas as pd

from synthgen.data.schema import ColumnSchema
from synthgen.encoding.columns import CategoricalEncoder, NumericEncoder

RNG = np.random.default_rng(0)


def _round_trip(enc, values):
    enc.fit(values)
    block = enc.transform(values, np.random.default_rng(1))
    assert block.shape == (len(values), enc.width)
    return enc.inverse(block, np.random.default_rng(2))


def test_numeric_round_trip_keeps_grid_spikes_and_missing():
    values = pd.Series(np.round(RNG.normal(40, 5, 500), 1))
    values[:100] = 0.0  # spike
    values[100:150] = np.nan
    out = _round_trip(NumericEncoder(ColumnSchema("x", "numeric", "float64")), values)
    assert out.dtype == "float64"
    assert np.allclose(out.dropna(), np.round(out.dropna(), 1))  # value grid of one decimal
    assert (out == 0.0).sum() == 100 and out.isna().sum() == 50


def test_inverse_of_any_latent_stays_in_range_and_integral():
    values = pd.Series(RNG.integers(10, 20, 300))
    enc = NumericEncoder(ColumnSchema("n", "integer", "int64")).fit(values)
    out = enc.inverse(RNG.normal(0, 3, (1000, enc.width)), RNG)
    assert out.dtype == "int64" and out.between(10, 19).all()


def _float32_printed(values):
    """As R's write.csv writes a float32 that was read as a double: 15 significant digits."""
    return np.char.mod("%.15g", np.asarray(values, dtype=np.float32).astype(np.float64)).astype(float)


def _decoded_from_any_latent(enc, n=2000):
    return enc.inverse(np.random.default_rng(3).normal(0, 1.5, (n, enc.width)), np.random.default_rng(4))


def test_a_float32_export_comes_back_as_its_exact_real_floats():
    grid = _float32_printed([1.1, 2.2, 3.2, 3.9, 4.5, 6.7])  # 3.20000004768372, never 3.2
    values = pd.Series(np.random.default_rng(0).choice(grid, 600))
    enc = NumericEncoder(ColumnSchema("x", "numeric", "float64")).fit(values)
    out = _decoded_from_any_latent(enc)
    assert enc.state["representation"] == "float32 printed" and enc.state["discrete"]
    assert out.isin(set(grid)).all()  # the exact real floats, no rounded grid the column never takes
    assert out.nunique() == len(grid)


def test_a_continuous_float32_column_keeps_its_representation():
    values = pd.Series(_float32_printed(np.round(np.random.default_rng(0).uniform(0, 1000, 400), 3)))
    enc = NumericEncoder(ColumnSchema("x", "numeric", "float64")).fit(values)
    out = _decoded_from_any_latent(enc).to_numpy()
    assert enc.state["representation"] == "float32 printed" and not enc.state["discrete"]
    q = enc.state["quantiles"]
    out = out[(out > q[0] + 1e-3) & (out < q[-1] - 1e-3)]  # the ends are protected means of k values, on no grid
    assert np.array_equal(_float32_printed(np.round(out, 3)), out)  # written as the real column is
    assert np.mean(out == np.round(out, 3)) < 0.05  # only where float32 happens to print exactly


def test_a_discrete_grid_emits_only_its_frequent_values():
    values = pd.Series(np.repeat([0, 10, 20, 50], 100).tolist() + [37] * 2)  # 37: a rare value
    enc = NumericEncoder(ColumnSchema("n", "integer", "int64")).fit(values)
    out = _decoded_from_any_latent(enc)
    assert set(out) == {0, 10, 20, 50}  # nothing between the spikes, and never the rare 37


def test_zero_inflated_amounts_keep_their_point_mass_exactly():
    rng = np.random.default_rng(0)
    amounts = np.where(rng.random(3000) < 0.7, 0.0, np.round(rng.lognormal(3, 1, 3000), 2))
    out = _round_trip(NumericEncoder(ColumnSchema("amount", "numeric", "float64")), pd.Series(amounts))
    assert abs((out == 0.0).mean() - 0.7) < 0.02 and (out >= 0).all()
    assert np.array_equal(out, np.round(out, 2))  # the continuous part stays on its cent grid


def test_a_point_mass_in_another_representation_is_its_exact_value():
    rng = np.random.default_rng(0)
    odd = float(_float32_printed([0.221])[0])  # 0.221000003814697 among plain 3-decimal values
    values = pd.Series(np.where(rng.random(2000) < 0.2, odd, np.round(rng.uniform(0.1, 0.5, 2000), 3)))
    out = _round_trip(NumericEncoder(ColumnSchema("dir", "numeric", "float64")), values)
    assert NumericEncoder(ColumnSchema("x", "numeric", "float64")).fit(values).state["representation"] == "float64"
    assert (out == odd).mean() > 0.15 and not (out == 0.221).any()


def test_datetime_strings_come_back_in_their_format():
    values = pd.Series(["2021-01-05", "2021-03-09", None, "2022-12-31"] * 10)
    col = ColumnSchema("d", "datetime", "object", datetime_format="%Y-%m-%d")
    out = _round_trip(NumericEncoder(col), values)
    assert out.dropna().str.match(r"^\d{4}-\d{2}-\d{2}$").all() and out.isna().sum() == 10


def test_datetime64_dtype_preserved():
    values = pd.Series(pd.date_range("2020-01-01", periods=50, freq="D"))
    out = _round_trip(NumericEncoder(ColumnSchema("d", "datetime", "datetime64[ns]")), values)
    assert out.dtype == "datetime64[ns]" and (out.dt.normalize() == out).all()


def test_constant_column_needs_no_width():
    enc = NumericEncoder(ColumnSchema("c", "integer", "int64")).fit(pd.Series([5] * 20))
    assert enc.width == 0 and (enc.inverse(np.zeros((3, 0)), RNG) == 5).all()


def test_rare_categories_are_neither_stored_nor_emitted():
    values = pd.Series(["a"] * 50 + ["b"] * 30 + ["r1", "r2", None])
    enc = CategoricalEncoder(ColumnSchema("c", "categorical", "object")).fit(values)
    assert enc.state["slots"] == ["a", "b"] and "r1" not in str(enc.state)
    assert enc.width == 4  # a, b, other, missing
    out = enc.decode_codes(np.array([0, 1, 2, 2, 3]), RNG)
    assert list(out[:2]) == ["a", "b"] and set(out[2:4]) <= {"a", "b"} and out[4] is None


def test_the_numeric_grid_holds_no_single_records_value():
    from synthgen.encoding.protection import PROTECT_K, rare_values

    values = pd.Series(np.r_[np.round(RNG.normal(50, 10, 300), 1), 250.0])  # an outlier
    enc = NumericEncoder(ColumnSchema("x", "numeric", "float64")).fit(values)
    grid = np.asarray(enc.state["quantiles"])
    assert not np.isin(grid, rare_values(values.to_numpy(), PROTECT_K)).any()
    assert grid.max() < 250 and len(grid) <= len(values) // PROTECT_K
    decoded = enc.inverse(RNG.normal(size=(2000, 1)) * 3, RNG)
    assert decoded.max() < 250  # the outlier is never emitted


def test_unseen_category_maps_to_rare_slot():
    values = pd.Series(["a"] * 5 + ["b"] * 5 + ["z"])
    enc = CategoricalEncoder(ColumnSchema("c", "categorical", "object")).fit(values)
    assert enc.codes(pd.Series(["new"]))[0] == 2


def test_boolean_dtype_survives():
    values = pd.Series([True, False] * 20)
    out = _round_trip(CategoricalEncoder(ColumnSchema("b", "boolean", "bool")), values)
    assert out.dtype == bool and out.equals(values)


def test_a_quantile_block_of_one_repeated_value_is_that_exact_float():
    from synthgen.encoding.protection import protected_grid

    value = 3.59999990463257  # a float32 printed to 15 digits: the mean of its copies is an ulp off
    grid = protected_grid(np.sort(np.r_[np.full(500, value), np.linspace(4, 5, 500)]), 100)
    assert value in set(grid) and np.isclose(np.full(500, value).mean(), value) and np.full(500, value).mean() != value
