"""Typed params: every stage reads its own section of params.yaml; unknown keys fail loudly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from synthgen.data.constraints import Constraint
from synthgen.data.schema import ColumnOverride
from synthgen.errors import SynthgenError


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=(), populate_by_name=True)


class IngestParams(Section):
    """How raw tables are split; the holdout is what privacy and utility are measured against."""

    holdout_fraction: float = Field(0.2, gt=0, lt=1, description="share of rows kept out of training")
    split: Literal["stratified", "row_hash"] = Field(
        "stratified",
        description="stratified: per class, rare categories kept in train; row_hash: each row by a seeded hash "
        "of itself alone (needed for train.privacy: no row moves another)",
    )
    min_holdout_rows: int = Field(5, ge=1, description="fewer holdout rows than this is an error")
    max_rows_in_memory: int = Field(
        2_000_000, ge=1, description="larger Parquet sources are split streamed, the schema read from a sample"
    )


class PrivacyParams(Section):
    """Differential privacy (README "Differential privacy"): null epsilon trains without it."""

    epsilon: float | None = Field(
        None, gt=0, description="total (epsilon, delta)-DP budget of the whole model; null = no DP"
    )
    delta: float | None = Field(
        None, gt=0, lt=1, description="null = min(1e-5, 1 / (10 x train rows)): below one in ten rows"
    )
    max_grad_norm: float = Field(1.0, gt=0, description="DP-SGD clips each row's gradient to this L2 norm")
    accountant: Literal["rdp", "prv"] = Field(
        "rdp", description="Opacus accountant that turns noise and steps into epsilon"
    )
    preprocessing_share: float = Field(
        0.1, gt=0, lt=1, description="share of epsilon for the encoder's ranges, grids, categories and class counts"
    )
    bounds: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="public value range per numeric column: [low, high], spends no epsilon"
    )
    categories: dict[str, list[Any]] = Field(
        default_factory=dict, description="public category set per categorical column, spends no delta"
    )
    noise_seed: int | None = Field(
        None,
        description="null: DP noise and batches from fresh OS entropy, never stored; an integer makes DP runs "
        "byte-reproducible: keep it secret (it is never written to the model), whoever knows it can undo the noise",
    )

    @field_validator("bounds")
    @classmethod
    def _ordered(cls, bounds: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        wrong = [name for name, (low, high) in bounds.items() if not low <= high]
        if wrong:
            raise ValueError(f"bounds of {', '.join(wrong)} are not [low, high] with low <= high")
        return bounds

    @property
    def enabled(self) -> bool:
        return self.epsilon is not None

    def published(self) -> dict[str, Any]:
        """The settings as config.json records them: everything but the noise seed, which would undo the noise."""
        return self.model_dump(exclude={"noise_seed"})


class TrainParams(Section):
    """Which model learns the table and with what budget."""

    model: str = Field("tabular_mlp_ar", description="registered model name")
    epochs: int | None = Field(None, ge=1, description="passes over train; null = the model's default budget")
    batch_size: int = Field(256, ge=1)
    max_rows: int = Field(
        1_000_000, ge=1, description="train on a seeded sample of at most this many rows of a larger Parquet table"
    )
    validation_fraction: float = Field(0.1, ge=0, lt=1, description="train share for early stopping")
    early_stopping_patience: int = Field(10, ge=1, description="validation rounds without improvement")
    keep_within_se: float = Field(
        0.0,
        ge=0,
        description="a validation-ranked fit keeps the latest weights whose validation loss is within this "
        "many standard errors of the lowest (where the model gives each row a loss); 0 = the weights at the lowest. "
        "Above 0 it trades privacy for fidelity (README, 'Which weights a fit keeps')",
    )
    accelerator: str = Field("auto", description="Lightning accelerator: auto, cpu, gpu")
    devices: int | str = Field("auto", description="Lightning devices per node")
    num_nodes: int = Field(1, ge=1, description="machines taking part (Lightning num_nodes)")
    strategy: str = Field("auto", description="Lightning strategy: auto, ddp, ddp_spawn, ...")
    precision: str | None = Field(None, description="null = bf16-mixed on CUDA, 32-true on CPU")
    max_time: str | None = Field(
        None,
        pattern=r"^\d{2}:\d{2}:\d{2}:\d{2}$",
        description="end training at this deadline (DD:HH:MM:SS, Lightning's max_time), keeping the best weights",
    )
    checkpoint_every: int = Field(
        200, ge=0, description="optimizer steps between resume checkpoints in <model>.partial/; 0 = none"
    )
    progress_every: float = Field(30.0, gt=0, description="seconds between progress lines when not on a terminal")
    privacy: PrivacyParams = Field(default_factory=PrivacyParams)
    model_config_: dict[str, Any] = Field(default_factory=dict, alias="model_config")

    @field_validator("strategy")
    @classmethod
    def _processes_that_rerun_the_command(cls, strategy: str) -> str:
        # Spawned or forked processes would keep the training record, best weights and resume
        # state out of the process that saves the model (and spawning fails on shared tensors).
        if strategy.split("_find_unused")[0] in ("ddp_spawn", "ddp_fork", "ddp_notebook"):
            raise ValueError(
                f"strategy {strategy} is not supported; use ddp (Lightning, torchrun or srun start the processes)"
            )
        return strategy


class SampleParams(Section):
    """How many synthetic rows to draw and of which classes."""

    rows: int | None = Field(None, ge=1, description="absolute row count; null = multiple x train rows")
    multiple: float = Field(1.0, gt=0, description="rows = multiple x train rows when rows is null")
    mode: Literal["plain", "balance"] = Field("plain", description="balance: only rows that even out classes")
    batch_size: int = Field(10_000, ge=1, description="rows per batch and Parquet row group")
    conditions: dict[str, Any] = Field(
        default_factory=dict, description="target value to sample, e.g. {species: Adelie}"
    )


class CheckParams(Section):
    threshold: float
    level: Literal["fail", "warn", "off"] = "fail"


# Calibrated privacy checks score a one-sided p-value (validation/calibration.py); their threshold
# is the false-alarm rate accepted on genuine unseen data, so it means the same at any table size.
PRIVACY_ALPHA = 0.001


def _default_checks() -> dict[str, CheckParams]:
    return {
        "quality": CheckParams(threshold=0.80),
        "column_shapes": CheckParams(threshold=0.80, level="warn"),
        "column_pair_trends": CheckParams(threshold=0.80),
        "dcr_share": CheckParams(threshold=PRIVACY_ALPHA),
        "near_copies": CheckParams(threshold=PRIVACY_ALPHA),
        "exact_copies": CheckParams(threshold=PRIVACY_ALPHA),
        "membership_inference": CheckParams(threshold=PRIVACY_ALPHA),
        "expectations": CheckParams(threshold=1.0),
        "constraints": CheckParams(threshold=1.0),
        "detection": CheckParams(threshold=0.30),
        "alpha_precision": CheckParams(threshold=0.70, level="warn"),
        "beta_recall": CheckParams(threshold=0.70, level="warn"),
        "utility": CheckParams(threshold=0.80, level="warn"),
        "augmentation_gain": CheckParams(threshold=-0.05, level="warn"),
        "singling_out_risk": CheckParams(threshold=PRIVACY_ALPHA),
        "linkability_risk": CheckParams(threshold=PRIVACY_ALPHA),
        "inference_risk": CheckParams(threshold=PRIVACY_ALPHA),
        # sensor sequences
        "discriminative_score": CheckParams(threshold=0.25),
        "predictive_score": CheckParams(threshold=1.20, level="warn"),
        "channel_ks": CheckParams(threshold=0.80, level="warn"),
        "autocorrelation": CheckParams(threshold=0.10, level="warn"),
        "cross_correlation": CheckParams(threshold=0.10, level="warn"),
        "spectrum": CheckParams(threshold=0.20, level="warn"),
        "sequence_dcr_share": CheckParams(threshold=PRIVACY_ALPHA),
        "sequence_near_copies": CheckParams(threshold=PRIVACY_ALPHA),
        "sequence_membership_inference": CheckParams(threshold=PRIVACY_ALPHA),
        "sequence_expectations": CheckParams(threshold=1.0),
        "sequence_constraints": CheckParams(threshold=1.0),
        # images
        "fid": CheckParams(threshold=10.0, level="warn"),
        "kid": CheckParams(threshold=0.05, level="warn"),
        "image_precision": CheckParams(threshold=0.70, level="warn"),
        "image_recall": CheckParams(threshold=0.70, level="warn"),
        "image_detection": CheckParams(threshold=0.30),
        "image_utility": CheckParams(threshold=0.90),
        "rare_class_gain": CheckParams(threshold=-0.05, level="warn"),
        "image_dcr_share": CheckParams(threshold=PRIVACY_ALPHA),
        "image_near_copies": CheckParams(threshold=PRIVACY_ALPHA),
        "image_membership_inference": CheckParams(threshold=PRIVACY_ALPHA),
        "image_expectations": CheckParams(threshold=1.0),
    }


def default_check(name: str) -> CheckParams | None:
    """The shipped threshold and level of a check (None for a check with no default)."""
    return _default_checks().get(name)


class RequireDP(Section):
    """The gate passes only sets from a model trained with train.privacy within this budget."""

    max_epsilon: float = Field(gt=0, description="largest epsilon accepted")
    max_delta: float | None = Field(None, gt=0, lt=1, description="largest delta accepted; null = any")


class ValidateParams(Section):
    """Gate thresholds per check, and how many rows the distribution checks look at."""

    checks: dict[str, CheckParams] = Field(default_factory=_default_checks)
    max_rows: int = Field(20_000, ge=10, description="seeded sample cap for distribution checks")
    accept_inconclusive: list[str] = Field(
        default_factory=list,
        description="fail-level checks whose inconclusive result (cannot be computed) is accepted, not a failure",
    )
    allow_unsafe: dict[str, str] = Field(
        default_factory=dict,
        description="privacy checks allowed looser than shipped, each with the reason (shown in report and metrics)",
    )
    require_dp: RequireDP | None = Field(
        None,
        description="{max_epsilon: ...}: fail sets whose model has no DP guarantee this strong; null = report only",
    )

    @field_validator("checks", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any) -> Any:
        """A params file names only the checks it changes; the rest keep their defaults."""
        if not isinstance(value, dict):
            return value
        merged: dict[str, Any] = {k: v.model_dump() for k, v in _default_checks().items()}
        for name, cfg in value.items():
            base = merged.get(name, {})
            merged[name] = (
                {**base, **cfg} if isinstance(cfg, dict) else cfg.model_dump() if isinstance(cfg, CheckParams) else cfg
            )
        return merged


class AugmentParams(Section):
    """How real and synthetic rows are mixed into the training set handed back."""

    strategy: Literal["append", "balance"] = "append"
    rows: int | None = Field(None, ge=0, description="append: synthetic rows to add; null = all")


class Params(Section):
    seed: int = 0
    datasets: list[str] = Field(default_factory=list)

    @field_validator("datasets")
    @classmethod
    def _plain_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not DATASET_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a plain dataset name (letters, digits, '_', '-')")
        return value

    ingest: IngestParams = Field(default_factory=IngestParams)
    train: TrainParams = Field(default_factory=TrainParams)
    sample: SampleParams = Field(default_factory=SampleParams)
    validate_: ValidateParams = Field(default_factory=ValidateParams, alias="validate")
    augment: AugmentParams = Field(default_factory=AugmentParams)


# The params sections the stages read: name in params.yaml and specs → attribute on Params / DatasetSpec.
SECTIONS = {"ingest": "ingest", "train": "train", "sample": "sample", "validate": "validate_", "augment": "augment"}


class DatasetSpec(Section):
    """One shipped use case (pipelines/<name>.yaml): adding a dataset is adding a spec. The one-shot
    commands build the same object from their flags (cli.py), so both paths meet the stages alike."""

    source: str | None = Field(
        None, description="a file or directory, or pkg:<package>/<path> for data a package ships"
    )
    modality: str = Field("tabular", description="a registered modality: tabular, sensor, image")
    target: str | None = None
    # sensor only: which column is what, and the time grid
    entity: str | None = None
    time: str | None = None
    channels: list[str] | None = None
    static: list[str] | None = None
    rate: float | None = Field(None, gt=0, description="resample to one step per `rate` (seconds for datetimes)")
    max_length: int = Field(256, ge=2, description="longer sequences are cut to this many steps")
    # image only
    image_size: int | None = Field(None, ge=4, description="square side in pixels; null = smallest side, at most 64")
    columns: dict[str, ColumnOverride] = Field(default_factory=dict)
    constraints: list[Constraint] = Field(
        default_factory=list,
        description="rules every row keeps (README, Constraints): inequality, range, fixed_combinations",
    )
    ingest: dict[str, Any] = Field(default_factory=dict)
    train: dict[str, Any] = Field(default_factory=dict)
    sample: dict[str, Any] = Field(default_factory=dict)
    validate_: dict[str, Any] = Field(default_factory=dict, alias="validate")
    augment: dict[str, Any] = Field(default_factory=dict)


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise SynthgenError(f"{path}: file not found; create it or pass the right path")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SynthgenError(f"{path}: invalid YAML ({str(exc).splitlines()[0]}); fix the syntax") from exc
    if not isinstance(data, dict):
        raise SynthgenError(f"{path}: expected a mapping of keys at the top level")
    return data


def _validated(model: type[Section], data: dict[str, Any], where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise SynthgenError(f"{where}: {loc}: {err['msg']}; fix or remove this key") from exc


def load_params(path: str | Path | None = "params.yaml") -> Params:
    """Load params.yaml; a missing default file means all defaults."""
    if path is None or (str(path) == "params.yaml" and not Path(path).exists()):
        return Params()
    return _validated(Params, _load_yaml(Path(path)), str(path))


DATASET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def check_dataset_name(name: str, where: str = "--dataset") -> str:
    """Dataset names are plain names: they become paths under pipelines/, data/, models/, reports/."""
    if not DATASET_NAME.fullmatch(name):
        raise SynthgenError(
            f"{where}: {name!r} is not a plain dataset name; use letters, digits, '_' and '-' "
            "(no path separators, no '..'), naming pipelines/<name>.yaml"
        )
    return name


def load_spec(name: str, pipelines_dir: str | Path = "pipelines") -> DatasetSpec:
    check_dataset_name(name)
    return _validated(DatasetSpec, _load_yaml(Path(pipelines_dir) / f"{name}.yaml"), f"pipelines/{name}.yaml")


def _deep_update(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        nested = isinstance(value, dict) and isinstance(base.get(key), dict)
        base[key] = _deep_update(dict(base[key]), value) if nested else value
    return base


def merged(section: Section, overrides: dict[str, Any], where: str) -> Any:
    """Apply a spec's per-section overrides on top of params.yaml's section (nested keys merge)."""
    return _validated(type(section), _deep_update(section.model_dump(by_alias=True), overrides), where)


def parse_conditions(pairs: list[str]) -> dict[str, str]:
    """Parse CLI `COL=VALUE` pairs."""
    conditions = {}
    for pair in pairs:
        if "=" not in pair:
            raise SynthgenError(f"--condition {pair!r}: expected COL=VALUE, e.g. --condition species=Adelie")
        col, value = pair.split("=", 1)
        conditions[col.strip()] = value.strip()
    return conditions


def resolve(
    params_path: str | Path | None, dataset: str | None, flags: dict[str, Any], where: str
) -> tuple[Params, DatasetSpec]:
    """The one place params.yaml, a dataset spec and command-line flags merge, in that order.

    Args:
        params_path: params.yaml (a missing default file means all defaults).
        dataset: pipelines/<dataset>.yaml whose sections override params.yaml's; None for none.
        flags: `section.field` (train.epochs, sample.rows, ...) and `spec.field` (spec.target, ...)
            values; `sample.conditions` as COL=VALUE strings. Other keys are ignored.
    """
    params = load_params(params_path)
    spec = load_spec(dataset) if dataset else DatasetSpec()
    if "sample.conditions" in flags:
        flags = {**flags, "sample.conditions": parse_conditions(flags["sample.conditions"])}
    sections = {}
    for section, attr in SECTIONS.items():
        value = getattr(params, attr)
        if dataset:
            value = merged(value, getattr(spec, attr), f"pipelines/{dataset}.yaml {section}")
        mine = {k.split(".", 1)[1]: v for k, v in flags.items() if k.startswith(f"{section}.")}
        sections[attr] = merged(value, mine, f"{where} flags") if mine else value
    spec_flags = {k.split(".", 1)[1]: v for k, v in flags.items() if k.startswith("spec.")}
    return params.model_copy(update=sections), merged(spec, spec_flags, where)
