"""Every bad input: a one-line error naming the file/column and the fix, exit 2, no partial output."""

import pandas as pd
import pytest

from synthgen.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    err = capsys.readouterr().err.strip().splitlines()
    return code, err[-1] if err else ""


@pytest.fixture()
def csv(tmp_path, penguins):
    path = tmp_path / "in.csv"
    penguins.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("setup", "extra", "message"),
    [
        (lambda p, df: None, [], "missing.csv: file not found"),
        (lambda p, df: p.write_text(""), [], "file is empty"),
        (lambda p, df: p.write_bytes(b"PAR1garbage"), [], "cannot read as Parquet"),
        (lambda p, df: p.write_text("x"), [], "unsupported file type"),
        (lambda p, df: df.to_csv(p, index=False), ["--target", "nope"], "column 'nope' not found"),
        (lambda p, df: df.assign(empty=None).to_csv(p, index=False), [], "column 'empty' is entirely empty"),
        (lambda p, df: df.assign(bill_length_mm=float("inf")).to_csv(p, index=False), [], "infinite value"),
        (lambda p, df: df.iloc[:10].to_csv(p, index=False), [], "holdout row"),
    ],
    ids=["missing", "empty", "corrupt-parquet", "unsupported", "bad-target", "all-null", "inf", "too-few-rows"],
)
def test_ingest_bad_input(tmp_path, capsys, penguins, setup, extra, message):
    suffix = "x.parquet" if "Parquet" in message else ("x.xls" if "unsupported" in message else "missing.csv")
    path = tmp_path / suffix
    setup(path, penguins)
    code, err = _run(capsys, "ingest", "--source", str(path), "--out", str(tmp_path / "prep"), *extra)
    assert code == 2 and message in err and err.startswith("synthgen: error:"), err
    assert not (tmp_path / "prep").exists()


def test_unknown_params_key(tmp_path, capsys, csv):
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  epocs: 3\n")
    code, err = _run(capsys, "ingest", "--source", str(csv), "--out", str(tmp_path / "p"), "--params", str(params))
    assert code == 2 and "train.epocs: Extra inputs are not permitted" in err
    params.write_text("seed: zero\n")
    code, err = _run(capsys, "ingest", "--source", str(csv), "--out", str(tmp_path / "p"), "--params", str(params))
    assert code == 2 and "seed: Input should be a valid integer" in err


def test_missing_arguments_say_which(capsys):
    code, err = _run(capsys, "train", "--params", "none.yaml")
    assert code == 2 and "none.yaml: file not found" in err
    code, err = _run(capsys, "sample", "--model", "m")
    assert code == 2 and "give --out" in err


def test_model_dir_from_an_incompatible_version(tmp_path, capsys):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"format_version": 0, "synthgen_version": "0.0.1"}')
    code, err = _run(capsys, "sample", "--model", str(model), "--out", str(tmp_path / "s.parquet"), "--rows", "5")
    assert code == 2 and "incompatible" in err and "retrain" in err
    assert not (tmp_path / "s.parquet").exists()
    code, err = _run(capsys, "sample", "--model", str(tmp_path), "--out", str(tmp_path / "s.parquet"))
    assert code == 2 and "not a synthgen model directory" in err


def test_validate_refuses_bad_synthetic(tmp_path, capsys, penguins):
    train, holdout = penguins.iloc[:250], penguins.iloc[250:]
    for name, frame in {"train": train, "holdout": holdout, "syn": train.drop(columns="sex")}.items():
        frame.to_parquet(tmp_path / f"{name}.parquet")
    code, err = _run(
        capsys,
        "validate",
        "--train",
        str(tmp_path / "train.parquet"),
        "--holdout",
        str(tmp_path / "holdout.parquet"),
        "--synthetic",
        str(tmp_path / "syn.parquet"),
        "--out",
        str(tmp_path / "rep"),
    )
    assert code == 2 and "syn.parquet: missing column(s) ['sex']" in err
    assert not (tmp_path / "rep").exists()


def test_category_only_in_holdout(tmp_path, capsys, penguins):
    shuffled = penguins.sample(frac=1, random_state=0)
    train, holdout = shuffled.iloc[:250], shuffled.iloc[250:].assign(island="Atlantis")
    train.to_parquet(tmp_path / "train.parquet")
    holdout.to_parquet(tmp_path / "holdout.parquet")
    code, err = _run(
        capsys,
        "validate",
        "--train",
        str(tmp_path / "train.parquet"),
        "--holdout",
        str(tmp_path / "holdout.parquet"),
        "--synthetic",
        str(tmp_path / "train.parquet"),
        "--out",
        str(tmp_path / "rep"),
    )
    assert code == 2 and "'island' has value(s) ['Atlantis']" in err


def test_constant_column_stays_constant(tmp_path, capsys, penguins):
    frame = penguins.assign(station="Palmer")
    frame.to_csv(tmp_path / "c.csv", index=False)
    assert (
        main(["ingest", "--source", str(tmp_path / "c.csv"), "--out", str(tmp_path / "prep"), "--target", "species"])
        == 0
    )
    assert pd.read_parquet(tmp_path / "prep" / "train.parquet")["station"].eq("Palmer").all()


def test_bad_numbers_on_the_command_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--source", "x.csv", "--out", "o", "--epochs", "-1"])
    assert exit_info.value.code == 2 and "must be 1 or more" in capsys.readouterr().err


def test_unknown_check_or_model_fails_before_any_stage(tmp_path, capsys, csv):
    params = tmp_path / "params.yaml"
    params.write_text("validate:\n  checks:\n    qualty: {threshold: 0.5}\n")
    code, err = _run(capsys, "run", "--source", str(csv), "--out", str(tmp_path / "o"), "--params", str(params))
    assert code == 2 and "unknown check(s) ['qualty']" in err and not (tmp_path / "o").exists()
    params.write_text("train:\n  model: gan9000\n")
    code, err = _run(capsys, "ingest", "--source", str(csv), "--out", str(tmp_path / "p"), "--params", str(params))
    assert code == 2 and "unknown model 'gan9000'" in err and not (tmp_path / "p").exists()


def test_run_with_bad_input_leaves_an_existing_out_dir_untouched(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "augmented.parquet").write_text("earlier result")
    code, _ = _run(capsys, "run", "--source", str(tmp_path / "missing.csv"), "--out", str(out))
    assert code == 2 and (out / "augmented.parquet").read_text() == "earlier result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_corrupt_model_directories(tmp_path, capsys):
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text("{not json")
    code, err = _run(capsys, "sample", "--model", str(model), "--out", str(tmp_path / "s.parquet"), "--rows", "3")
    assert code == 2 and "not valid JSON" in err
    (model / "config.json").write_text('{"format_version": 1}')
    code, err = _run(capsys, "sample", "--model", str(model), "--out", str(tmp_path / "s.parquet"), "--rows", "3")
    assert code == 2 and ("corrupt model directory" in err or "file not found" in err)


def test_augment_with_a_missing_synthetic_file(tmp_path, capsys, penguins):
    penguins.to_parquet(tmp_path / "train.parquet")
    code, err = _run(
        capsys,
        "augment",
        "--train",
        str(tmp_path / "train.parquet"),
        "--synthetic",
        str(tmp_path / "nope.parquet"),
        "--out",
        str(tmp_path / "a.parquet"),
        "--metrics",
        str(tmp_path / "metrics.json"),
    )
    assert code == 2 and "nope.parquet: file not found" in err


def test_augment_without_a_gate_verdict_is_refused(tmp_path, capsys, penguins):
    penguins.to_parquet(tmp_path / "train.parquet")
    args = ["augment", "--train", str(tmp_path / "train.parquet"), "--synthetic", str(tmp_path / "train.parquet")]
    code, err = _run(capsys, *args, "--out", str(tmp_path / "a.parquet"))
    assert code == 2 and "give --metrics" in err
    code, err = _run(capsys, *args, "--out", str(tmp_path / "a.parquet"), "--metrics", str(tmp_path / "m.json"))
    assert code == 2 and "run `synthgen validate`" in err and not (tmp_path / "a.parquet").exists()


@pytest.mark.parametrize("modality", ["tabular", "sensor", "image"])
def test_run_never_replaces_a_directory_it_did_not_write(tmp_path, capsys, csv, modality):
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    extra = {"sensor": ["--entity", "island", "--time", "year"], "image": []}.get(modality, [])
    code, err = _run(capsys, "run", "--source", str(csv), "--out", str(out), "--modality", modality, *extra)
    assert code == 2 and f"{out}: --out is a non-empty directory synthgen did not write" in err
    assert (out / "notes.txt").read_text() == "my notes"
    (tmp_path / "afile").write_text("x")
    code, err = _run(capsys, "run", "--source", str(csv), "--out", str(tmp_path / "afile"))
    assert code == 2 and "is an existing file" in err


@pytest.mark.parametrize("name", ["../x", "a/b", "..", "/etc/passwd"])
def test_dataset_names_with_path_parts_are_refused(capsys, name):
    code, err = _run(capsys, "ingest", "--dataset", name)
    assert code == 2 and "not a plain dataset name" in err
