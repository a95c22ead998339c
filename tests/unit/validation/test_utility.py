import numpy as np
import pandas as pd
import pytest

from synthgen.data.schema import infer_schema
from synthgen.validation.base import CheckSkipped, Context
from synthgen.validation.utility import AugmentationGain, Utility


@pytest.fixture()
def labelled(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(900, 2))
    label = np.where(x[:, 0] + x[:, 1] > 0.8, "rare", "common")
    frame = pd.DataFrame({"a": x[:, 0].round(3), "b": x[:, 1].round(3), "label": label})
    train, holdout, extra = frame.iloc[:300], frame.iloc[300:600].reset_index(drop=True), frame.iloc[600:]
    schema = infer_schema(train, target="label")
    return lambda synthetic: Context(train, holdout, synthetic.reset_index(drop=True), schema, 0, tmp_path), extra


def test_fresh_real_rows_keep_utility(labelled):
    make, extra = labelled
    assert Utility().compute(make(extra)).score > 0.9


def test_labels_unrelated_to_features_lose_utility(labelled):
    make, extra = labelled
    noise = extra.assign(label=np.random.default_rng(1).permutation(extra["label"].to_numpy()))
    outcome = Utility().compute(make(noise))
    assert outcome.score < 0.75 and outcome.details["trtr"]["macro_f1"] > 0.85


def test_augmentation_gain_reports_minority_classes(labelled):
    make, extra = labelled
    outcome = AugmentationGain().compute(make(extra))
    assert abs(outcome.score) < 0.1 and set(outcome.details["minority_classes"]) == {"rare"}
    assert {"recall_trtr", "recall_augmented", "f1_trtr", "f1_augmented"} <= set(
        outcome.details["minority_classes"]["rare"]
    )


def test_no_target_is_skipped_with_reason(make_ctx, real):
    with pytest.raises(CheckSkipped, match="no target column"):
        Utility().compute(make_ctx(real[1]))
