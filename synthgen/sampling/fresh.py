"""Values for id, pii and free-text columns: made up, never copied from the real rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from faker import Faker

from synthgen.data.schema import ColumnSchema


def fresh_ids(col: ColumnSchema, start: int, n: int, id_offset: int) -> pd.Series:
    """Unique across the whole synthetic set: row `start + i` gets id `id_offset + start + i`."""
    numbers = np.arange(start, start + n, dtype=np.int64) + id_offset
    if col.dtype.startswith(("int", "Int", "uint")):
        return pd.Series(numbers).astype(col.dtype)
    return pd.Series([f"syn-{k:09d}" for k in numbers], dtype=object)


def fake_values(col: ColumnSchema, n: int, seed: int) -> pd.Series:
    """PII gets Faker's provider for its type; plain free text gets Faker sentences."""
    faker = Faker()
    faker.seed_instance(seed)
    provider = getattr(faker, col.pii_type or "sentence", None)
    if provider is None or not callable(provider):
        provider = faker.pystr
    return pd.Series([str(provider()) for _ in range(n)], dtype=object)
