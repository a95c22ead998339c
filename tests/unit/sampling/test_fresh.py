from synthgen.data.schema import ColumnSchema
from synthgen.sampling.fresh import fake_values, fresh_ids


def test_fresh_ids_are_unique_across_batches():
    col = ColumnSchema("id", "id", "int64")
    ids = list(fresh_ids(col, 0, 5, 100)) + list(fresh_ids(col, 5, 5, 100))
    assert ids == list(range(100, 110))
    assert fresh_ids(ColumnSchema("id", "id", "object"), 3, 1, 0)[0] == "syn-000000003"


def test_fake_values_are_seeded_and_typed():
    col = ColumnSchema("mail", "text", "object", role="pii", pii_type="email")
    a, b = fake_values(col, 5, seed=1), fake_values(col, 5, seed=1)
    assert list(a) == list(b) and all("@" in v for v in a)
