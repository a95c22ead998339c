import numpy as np
import pandas as pd
import pytest

from synthgen.data.sequences import (
    LENGTH,
    clean_long,
    infer_layout,
    read_npz,
    read_sensor,
    split_entities,
    to_arrays,
    to_long,
)
from synthgen.errors import SynthgenError


def _long(entities: int = 6, steps: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for e in range(entities):
        for t in range(steps):
            rows.append(
                {
                    "machine": e,
                    "t": t * 2.0,
                    "temp": rng.normal(),
                    "rpm": int(rng.integers(0, 100)),
                    "site": "north" if e % 2 else "south",
                    "failed": "yes" if e % 3 == 0 else "no",
                }
            )
    return pd.DataFrame(rows)


def _clean(frame: pd.DataFrame, rate: float | None = None, max_length: int = 256):
    layout = infer_layout(frame, "machine", "t", "failed")
    return clean_long(frame, layout, rate, max_length, "test.csv"), layout


def test_layout_finds_channels_and_per_entity_attributes():
    layout = infer_layout(_long(), "machine", "t", "failed")
    assert layout.channels == ["temp", "rpm"] and layout.static == ["site"] and layout.target == "failed"


def test_a_label_that_changes_within_an_entity_is_an_error():
    frame = _long()
    frame.loc[3, "failed"] = "maybe"
    with pytest.raises(SynthgenError, match=r"'failed' changes within entity 0 .*per-step labels"):
        infer_layout(frame, "machine", "t", "failed")


def test_a_text_column_that_varies_within_an_entity_is_an_error():
    frame = _long().assign(mode=lambda f: np.where(f["t"] > 2, "on", "off"))
    with pytest.raises(SynthgenError, match=r"\['mode'\] change within entities but are not numeric"):
        infer_layout(frame, "machine", "t", "failed")


def test_unsorted_rows_are_sorted_and_nan_gaps_interpolated():
    frame = _long().sample(frac=1, random_state=0)
    frame.loc[(frame["machine"] == 1) & (frame["t"] == 4.0), "temp"] = np.nan
    clean, _ = _clean(frame)
    one = clean[clean["machine"] == 1]
    assert list(one["t"]) == [0, 2, 4, 6, 8] and one["temp"].notna().all()
    assert one["temp"].iloc[2] == pytest.approx((one["temp"].iloc[1] + one["temp"].iloc[3]) / 2)


def test_duplicate_timestamps_are_an_error_naming_the_entity():
    frame = pd.concat([_long(), _long().iloc[[7]]])
    with pytest.raises(SynthgenError, match=r"entity 1 has 1 duplicate timestamp"):
        _clean(frame)


def test_a_channel_empty_for_a_whole_entity_is_an_error():
    frame = _long()
    frame.loc[frame["machine"] == 2, "temp"] = np.nan
    with pytest.raises(SynthgenError, match=r"channel 'temp' is empty for all of entity 2"):
        _clean(frame)


def test_single_step_entities_are_dropped():
    frame = pd.concat([_long(), _long(1, 1).assign(machine=99)])
    clean, _ = _clean(frame)
    assert 99 not in set(clean["machine"])


def test_irregular_times_are_resampled_to_the_median_step_and_long_sequences_cut():
    frame = _long()
    frame.loc[frame["machine"] == 0, "t"] = [0.0, 1.0, 4.0, 6.0, 8.0]
    clean, layout = _clean(frame, max_length=4)
    assert layout.step == 2.0 and layout.length == 4
    zero = clean[clean["machine"] == 0]
    assert list(zero["t"]) == [0.0, 2.0, 4.0, 6.0]
    assert clean.groupby("machine").size().max() == 4


def test_arrays_round_trip_to_the_long_format():
    clean, layout = _clean(_long())
    arrays = to_arrays(clean, layout)
    assert arrays.values.shape == (6, 5, 2) and list(arrays.static[LENGTH]) == [5] * 6
    back = to_long(arrays.ids, arrays.values, arrays.lengths, arrays.static, arrays.starts, layout)
    pd.testing.assert_frame_equal(back[clean.columns], clean)


def test_entities_never_sit_on_both_sides_of_the_split():
    clean, layout = _clean(_long(20))
    train, holdout = split_entities(clean, layout, 0.25, 0, 2, "test")
    assert not set(train["machine"]) & set(holdout["machine"])
    assert set(holdout["failed"]) == {"yes", "no"}  # stratified by label


def test_a_row_hash_split_assigns_each_entity_by_its_own_rows_alone_not_its_id():
    clean, layout = _clean(_long(40))
    _, holdout = split_entities(clean, layout, 0.25, 1, 2, "test", method="row_hash")
    grown = pd.concat([clean, _long(41).query("machine == 40")], ignore_index=True)  # one more machine
    _, holdout_grown = split_entities(grown, layout, 0.25, 1, 2, "test", method="row_hash")
    assert set(holdout_grown["machine"]) - {40} == set(holdout["machine"])
    # ids by position, as .ts and .npz readers give them: removing machine 0 renumbers the rest
    renumbered = clean[clean["machine"] != 0].assign(machine=lambda f: f["machine"] - 1)
    _, holdout_renumbered = split_entities(renumbered, layout, 0.25, 1, 2, "test", method="row_hash")
    assert set(holdout_renumbered["machine"] + 1) == set(holdout["machine"]) - {0}
    assert 4 <= holdout["machine"].nunique() <= 16
    _, other_seed = split_entities(clean, layout, 0.25, 2, 2, "test", method="row_hash")
    assert set(other_seed["machine"]) != set(holdout["machine"])
    with pytest.raises(SynthgenError, match="holdout entit"):
        split_entities(clean, layout, 0.01, 1, 5, "test", method="row_hash")
    recorded = {**layout.to_json(), "split": "row_hash"}  # as ingest records it
    assert type(layout).from_json(recorded) == layout


def test_npz_with_nan_tails_gives_variable_lengths(tmp_path):
    x = np.random.default_rng(0).normal(size=(4, 6, 2))
    x[1, 4:] = np.nan
    np.savez(tmp_path / "w.npz", x=x, y=np.array(["a", "b", "a", "b"]))
    frame = read_npz(tmp_path / "w.npz", "w.npz")
    assert frame.groupby("entity").size().tolist() == [6, 4, 6, 6] and set(frame["label"]) == {"a", "b"}


def test_ts_files_are_read_together_with_entities_numbered_across_files(tmp_path):
    header = "@problemName x\n@univariate false\n@classLabel true a b\n@data\n"
    (tmp_path / "X_TRAIN.ts").write_text(header + "1,2,3:4,5,6:a\n7,8,9:1,1,1:b\n")
    (tmp_path / "X_TEST.ts").write_text(header + "1,2:3,4:b\n")
    frame = read_sensor(tmp_path)
    assert sorted(frame["entity"].unique()) == [0, 1, 2]
    assert frame.groupby("entity").size().tolist() == [2, 3, 3]  # TEST sorts first
    assert list(frame.columns) == ["entity", "step", "channel_0", "channel_1", "label"]
