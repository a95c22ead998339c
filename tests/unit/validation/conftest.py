import numpy as np
import pandas as pd
import pytest

from synthgen.data.schema import infer_schema
from synthgen.validation.base import Context


@pytest.fixture(scope="module")
def real():
    """Correlated real data: train and holdout drawn from the same distribution."""
    rng = np.random.default_rng(0)
    n = 600
    x = rng.normal(0, 1, n)
    frame = pd.DataFrame(
        {
            "x": np.round(x, 3),
            "y": np.round(2 * x + rng.normal(0, 0.3, n), 3),
            "c": np.where(x > 0, "hi", "lo"),
        }
    )
    return frame.iloc[:300].reset_index(drop=True), frame.iloc[300:].reset_index(
        drop=True
    )  # equal sizes: SDMetrics bins each side by its own range


@pytest.fixture()
def make_ctx(real, tmp_path):
    train, holdout = real
    schema = infer_schema(train)

    def make(synthetic: pd.DataFrame) -> Context:
        return Context(train, holdout, synthetic.reset_index(drop=True), schema, 0, tmp_path)

    return make
