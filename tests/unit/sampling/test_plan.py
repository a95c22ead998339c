import numpy as np
import pytest

from synthgen.config import parse_conditions
from synthgen.data.schema import infer_schema
from synthgen.errors import SynthgenError
from synthgen.sampling.plan import balance_counts, class_index, label_stream


def test_balance_counts_fill_up_to_the_largest_class():
    assert balance_counts({"a": 10, "b": 4, "c": 1}) == {"a": 0, "b": 6, "c": 9}


def test_balance_counts_share_a_fixed_budget_exactly():
    counts = balance_counts({"a": 10, "b": 4, "c": 1}, rows=7)
    assert sum(counts.values()) == 7 and counts["a"] == 0 and counts["c"] >= counts["b"]


def test_conditions(penguins):
    schema = infer_schema(penguins, target="species")
    assert parse_conditions(["species=Gentoo"]) == {"species": "Gentoo"}
    assert class_index(schema, {"species": "Gentoo"}) == 2
    with pytest.raises(SynthgenError, match="expected COL=VALUE"):
        parse_conditions(["species"])
    with pytest.raises(SynthgenError, match="not a known class"):
        class_index(schema, {"species": "Emperor"})
    with pytest.raises(SynthgenError, match="class target 'species' only"):
        class_index(schema, {"island": "Dream"})
    assert np.isscalar(class_index(schema, {"species": "Adelie"}))


def test_label_stream_gives_each_class_its_expected_count_rounded_in_a_random_order():
    prior = np.array([70.0, 20.0, 10.0])  # 25 rows: 17.5, 5 and 2.5 expected
    draws = np.array([np.bincount(label_stream(25, prior, np.random.default_rng(s)), minlength=3) for s in range(2000)])
    assert (draws.sum(1) == 25).all()
    assert set(draws[:, 0]) == {17, 18} and set(draws[:, 1]) == {5} and set(draws[:, 2]) == {2, 3}
    assert np.allclose(draws.mean(0), [17.5, 5, 2.5], atol=0.05)  # unbiased: the shares, on average
    one = label_stream(25, prior, np.random.default_rng(1))
    assert np.array_equal(one, label_stream(25, prior, np.random.default_rng(1)))
    assert not np.array_equal(one, np.sort(one))  # shuffled, not in class blocks
    assert len(label_stream(0, prior, np.random.default_rng(0))) == 0
