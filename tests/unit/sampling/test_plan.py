import numpy as np
import pytest

from synthgen.config import parse_conditions
from synthgen.data.schema import infer_schema
from synthgen.errors import SynthgenError
from synthgen.sampling.plan import balance_counts, class_index


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
