"""What a modality supplies to the stages, and the layout record that tells the stages which one.

The stages (synthgen/stages) are written once; everything that differs between tables, sensor
series and images sits behind the `Modality` protocol. Ingest records the modality in
`layout.json` beside the tables it writes, and every later stage reads it from there (or, for a
saved model, from its config.json): nothing is guessed from file names or contents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from synthgen.config import AugmentParams, DatasetSpec, IngestParams, SampleParams, TrainParams, ValidateParams
from synthgen.errors import SynthgenError
from synthgen.io import read_json, write_json
from synthgen.sampling.parts import World
from synthgen.synthesizer import BaseSynthesizer

LAYOUT_FILE = "layout.json"


@dataclass(frozen=True)
class Prepared:
    """What ingest wrote, read back: the modality's name and layout, and where the tables are."""

    modality: str
    layout: dict[str, Any]
    directory: Path

    @property
    def train(self) -> Path:
        return self.directory / "train.parquet"

    @property
    def holdout(self) -> Path:
        return self.directory / "holdout.parquet"

    @property
    def schema(self) -> Path:
        return self.directory / "schema.json"


def record_layout(directory: Path, modality: str, layout: dict[str, Any]) -> None:
    """Write layout.json: the modality's name and its layout (columns, sizes, classes)."""
    write_json({**layout, "modality": modality}, directory / LAYOUT_FILE)


def read_prepared(directory: str | Path) -> Prepared:
    """The layout ingest recorded in `directory`. A directory with none holds tables synthgen did
    not ingest (a user's own train.parquet, say): those are read as tables."""
    directory = Path(directory)
    path = directory / LAYOUT_FILE
    if not path.exists():
        return Prepared("tabular", {}, directory)
    layout = read_json(path)
    if not isinstance(layout, dict) or "modality" not in layout:
        raise SynthgenError(f"{path}: no `modality` recorded; rerun `synthgen ingest` to rewrite it")
    modality = layout.pop("modality")
    return Prepared(modality, layout, directory)


@dataclass(frozen=True)
class ToJudge:
    """What the validate stage hands a modality to score: the three tables and the run's settings."""

    prepared: Prepared
    train: Path
    holdout: Path
    synthetic: Path
    params: ValidateParams
    seed: int
    out_dir: Path
    spec: DatasetSpec
    schema: Path | None  # tables: a schema.json named on the command line

    @property
    def tables(self) -> tuple[Path, Path, Path]:
        return self.train, self.holdout, self.synthetic


@dataclass
class Scored:
    """What a modality hands the validate stage: the checks' context, the schema problems that
    skip the distribution checks, the unit counts for metrics.json, and what its report needs."""

    context: Any
    problems: list[str]
    counts: dict[str, int]
    headline: tuple[str, ...] = ()
    report_inputs: dict[str, Any] = field(default_factory=dict)


class Modality(Protocol):
    """One kind of data. Register an instance with `@MODALITIES.register(name)` (synthgen.registry);
    its checks register in CHECKS with `modality = name`, its models in MODELS likewise."""

    name: str
    synthesizer: type[BaseSynthesizer]
    unit: str  # what sample.rows counts: rows, entities, images
    distributed_sampling: bool  # whether several processes may share one sample (--world-size)
    splits: tuple[str, ...]  # the ingest.split values it supports; one without this: stratified only
    constraint_kinds: tuple[str, ...]  # the spec's constraints: kinds it keeps (data/constraints.py); without: none

    def ingest(self, spec: DatasetSpec, out: Path, params: IngestParams, seed: int) -> tuple[dict, dict]:
        """Read `spec.source`, write train.parquet and holdout.parquet into `out`; return
        (the layout JSON to record, a summary for the log line)."""
        ...

    def fit(
        self, prepared: Prepared, data: Path, params: TrainParams, seed: int, spec: DatasetSpec, schema: Path | None
    ) -> tuple[BaseSynthesizer, dict]:
        """A fitted synthesizer for the table at `data`, and a summary for the log line."""
        ...

    def sample(
        self, synth: Any, out: Path, params: SampleParams, seed: int, world: World, model_dir: Path
    ) -> tuple[int, dict]:
        """Write the synthetic set to `out` (atomically); return (units drawn, a summary)."""
        ...

    def score(self, job: ToJudge) -> Scored:
        """Read the three tables and build what the registered checks of this modality score."""
        ...

    def report(self, metrics: dict[str, Any], scored: Scored, out_dir: Path, title: str) -> Path:
        """Write the self-contained report.html (and the DCR plot data); return its path."""
        ...

    def augment_target(self, prepared: Prepared, params: AugmentParams, target: str | None) -> str | None:
        """The class column augment balances on (or refuse the strategy for this modality)."""
        ...

    def export(self, source: Path, out: Path) -> int:
        """Write a synthetic or augmented set in the modality's native form into the new directory
        `out`; return how many units were written."""
        ...
