"""Where each stage reads and writes for a named dataset: one convention for DVC and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DatasetPaths:
    name: str
    root: Path = Path(".")

    @property
    def prepared(self) -> Path:
        return self.root / "data" / "prepared" / self.name

    @property
    def train(self) -> Path:
        return self.prepared / "train.parquet"

    @property
    def holdout(self) -> Path:
        return self.prepared / "holdout.parquet"

    @property
    def schema(self) -> Path:
        return self.prepared / "schema.json"

    @property
    def model(self) -> Path:
        return self.root / "models" / self.name

    @property
    def synthetic(self) -> Path:
        return self.root / "data" / "synthetic" / f"{self.name}.parquet"

    @property
    def reports(self) -> Path:
        return self.root / "reports" / self.name

    @property
    def augmented(self) -> Path:
        return self.root / "data" / "augmented" / f"{self.name}.parquet"

    def conventional(self) -> dict[str, Path]:
        """Every path a stage reads or writes for this dataset, by the names the CLI uses."""
        names = ("prepared", "train", "holdout", "model", "synthetic", "reports", "augmented")
        return {
            **{n: getattr(self, n) for n in names},
            "metrics": self.reports / "metrics.json",
            "loss": self.reports / "loss.csv",
        }
