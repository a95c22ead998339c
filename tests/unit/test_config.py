import pytest
from pydantic import ValidationError

from synthgen.config import PRIVACY_ALPHA, TrainParams, ValidateParams, load_params, load_spec, merged
from synthgen.errors import SynthgenError
from tests.conftest import REPO


def test_shipped_params_load(monkeypatch):
    from tests.conftest import REPO

    params = load_params(REPO / "params.yaml")
    assert params.train.model == "tabular_mlp_ar" and "penguins" in params.datasets
    spec = load_spec("penguins", REPO / "pipelines")
    assert spec.target == "species"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train:\n  epochz: 3\n", "train.epochz: Extra inputs are not permitted"),
        ("train:\n  epochs: many\n", "train.epochs: Input should be a valid integer"),
        ("sample:\n  mode: random\n", "sample.mode"),
        ("validate:\n  checks:\n    quality: {threshold: high}\n", "validate.checks.quality.threshold"),
        ("seed: [\n", "invalid YAML"),
    ],
)
def test_bad_params_name_the_key(tmp_path, text, message):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(SynthgenError, match=message):
        load_params(path)


def test_partial_checks_keep_other_defaults(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("validate:\n  checks:\n    quality: {threshold: 0.9}\n")
    checks = load_params(path).validate_.checks
    assert checks["quality"].threshold == 0.9 and checks["quality"].level == "fail"
    assert checks["dcr_share"].threshold == PRIVACY_ALPHA


def test_privacy_checks_may_be_tightened_but_not_loosened_without_a_reason(tmp_path):
    from synthgen.validation.gate import check_params

    tighter = ValidateParams.model_validate({"checks": {"near_copies": {"threshold": 0.01}}})
    check_params(tighter)
    for looser in ({"threshold": 1e-6}, {"threshold": PRIVACY_ALPHA, "level": "warn"}, {"level": "off"}):
        params = ValidateParams.model_validate({"checks": {"near_copies": looser}})
        with pytest.raises(SynthgenError, match="near_copies.*may only be tightened.*allow_unsafe"):
            check_params(params)
        check_params(params.model_copy(update={"allow_unsafe": {"near_copies": "audited by hand"}}))
    fidelity = ValidateParams.model_validate({"checks": {"quality": {"threshold": 0.1, "level": "warn"}}})
    check_params(fidelity)  # fidelity is the user's call


def test_dataset_names_are_plain_names(tmp_path):
    from synthgen.config import load_spec

    for bad in ("../x", "a/b", "..", ".hidden", "x y"):
        with pytest.raises(SynthgenError, match="not a plain dataset name"):
            load_spec(bad)
    path = tmp_path / "params.yaml"
    path.write_text("datasets: [penguins, ../etc]\n")
    with pytest.raises(SynthgenError, match="not a plain dataset name"):
        load_params(path)


def test_spec_overrides_are_type_checked():
    from synthgen.config import TrainParams

    assert merged(TrainParams(), {"epochs": 5}, "spec").epochs == 5
    with pytest.raises(SynthgenError, match="spec: epochs"):
        merged(TrainParams(), {"epochs": -1}, "spec")


def test_spec_overrides_merge_nested_checks():
    from synthgen.config import ValidateParams

    base = ValidateParams.model_validate({"checks": {"dcr_share": {"threshold": 0.01, "level": "fail"}}})
    out = merged(base, {"checks": {"quality": {"threshold": 0.5}}}, "spec")
    assert out.checks["quality"].threshold == 0.5 and out.checks["dcr_share"].threshold == 0.01


@pytest.mark.parametrize("strategy", ["ddp_spawn", "ddp_fork", "ddp_notebook", "ddp_spawn_find_unused_parameters_true"])
def test_strategies_that_spawn_or_fork_the_training_are_refused(strategy):
    with pytest.raises(ValidationError, match="use ddp"):
        TrainParams(strategy=strategy)


def test_every_params_key_is_documented_in_the_readme():
    from pydantic import BaseModel

    from synthgen.config import SECTIONS, Params
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text()

    def keys(model: type[BaseModel], prefix: str):
        for name, field in model.model_fields.items():
            key, kind = f"{prefix}.{field.alias or name}", field.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                yield from keys(kind, key)
            else:
                yield key

    undocumented = [
        k for section, attr in SECTIONS.items() for k in keys(Params.model_fields[attr].annotation, section)
        if f"`{k}`" not in readme
    ]  # fmt: skip
    assert not undocumented


@pytest.mark.parametrize("path", sorted((REPO / "pipelines").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_spec_merges_with_params_yaml(path, monkeypatch):
    from synthgen.config import resolve

    monkeypatch.chdir(REPO)  # specs are found under ./pipelines, as dvc and `synthgen run --dataset` do
    params, spec = resolve(REPO / "params.yaml", path.stem, {}, "test")
    assert spec.source and spec.modality in ("tabular", "sensor", "image")
    if path.stem.endswith("_dp"):
        assert params.train.privacy.enabled and params.ingest.split == "row_hash"
        assert params.validate_.require_dp is not None
