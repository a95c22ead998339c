"""A fourth modality is one module: registered here only, it runs through the unchanged CLI and stages.

The toy modality learns one numeric column `x` with a Gaussian (a real LightningModule trained by
the shared trainer), brings its own check (with its default threshold on the class) and its own
export (a CSV). Nothing in synthgen/stages or synthgen/cli.py knows it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from synthgen.cli import main
from synthgen.config import DatasetSpec
from synthgen.data.schema import infer_schema
from synthgen.io import read_table, write_parquet
from synthgen.modalities.base import Scored, ToJudge
from synthgen.models.base import GenerativeModel
from synthgen.registry import CHECKS, MODALITIES, MODELS
from synthgen.synthesizer import BaseSynthesizer
from synthgen.validation.base import Check, Context, Outcome


class Gaussian(GenerativeModel):
    """A batch is (x (n, 1), class index); learns a mean and a log standard deviation."""

    modality = "toy"
    default_steps = 1500

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(0, {"learning_rate": 0.1, **config})
        self.mean = torch.nn.Parameter(torch.zeros(1))
        self.log_std = torch.nn.Parameter(torch.zeros(1))

    def loss(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return (self.log_std + 0.5 * ((x - self.mean) / self.log_std.exp()) ** 2).mean()

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        noise = torch.randn(n, 1, generator=generator, device=self.mean.device)
        return self.mean + self.log_std.exp() * noise


class ToySynthesizer(BaseSynthesizer):
    modality = "toy"
    default_model = "toy_gaussian"

    def fit(self, frame: pd.DataFrame) -> ToySynthesizer:
        x = frame[["x"]].to_numpy(np.float32)
        self._train(self._new_model(len(x)), [x, np.zeros(len(x), dtype=np.int64)])
        self.meta = {"n": len(x)}
        return self

    def sample(self, n: int, seed: int) -> pd.DataFrame:
        model = self._fitted()
        draws = [model.sample(b.size, b.generator).cpu().numpy()[:, 0] for b in self._batches(n, 64, seed)]
        return pd.DataFrame({"x": np.concatenate(draws).astype(float)})

    def _schema_payload(self) -> dict[str, Any]:
        return {"columns": ["x"]}

    @classmethod
    def _restore(cls, config: dict[str, Any], schema: Any, path: Path) -> ToySynthesizer:
        synth = cls(config["model"], config["seed"])
        synth.meta = {"n": config["n"]}
        synth.model = Gaussian(config["model_config"])
        return synth


class MeanGap(Check):
    name = "toy_mean_gap"
    modality = "toy"
    kind = "fidelity"
    direction = "lower_is_better"
    description = "|synthetic mean - train mean| in train standard deviations"
    default = (1.0, "fail")

    def compute(self, ctx: Context) -> Outcome:
        real, synthetic = ctx.train["x"], ctx.synthetic["x"]
        return Outcome(abs(synthetic.mean() - real.mean()) / real.std())


class Toy:
    name = "toy"
    synthesizer = ToySynthesizer
    unit = "points"
    distributed_sampling = False

    def ingest(self, spec: DatasetSpec, out: Path, params: Any, seed: int) -> tuple[dict, dict]:
        frame = read_table(spec.source).sample(frac=1.0, random_state=seed)
        cut = int(len(frame) * (1 - params.holdout_fraction))
        write_parquet(frame.iloc[:cut], out / "train.parquet")
        write_parquet(frame.iloc[cut:], out / "holdout.parquet")
        return {"column": "x"}, {"points": len(frame)}

    def fit(self, prepared, data, params, seed, spec, schema) -> tuple[ToySynthesizer, dict]:
        assert prepared.layout == {"column": "x"}  # what ingest recorded comes back
        return ToySynthesizer(params.model, seed, params).fit(read_table(data)), {"points": len(read_table(data))}

    def sample(self, synth, out, params, seed, world, model_dir) -> tuple[int, dict]:
        n = params.rows or synth.meta["n"]
        write_parquet(synth.sample(n, seed), out)
        return n, {"points": n}

    def score(self, job: ToJudge) -> Scored:
        train, holdout, synthetic = (read_table(p) for p in job.tables)
        ctx = Context(train, holdout, synthetic, infer_schema(train), job.seed, job.out_dir)
        counts = {"train": len(train), "holdout": len(holdout), "synthetic": len(synthetic)}
        return Scored(ctx, [], counts, ("toy_mean_gap",))

    def report(self, metrics, scored, out_dir, title) -> Path:
        from synthgen.reporting.html import verdict_table, write_page

        return write_page([f"<h1>{title}</h1>", verdict_table(metrics)], title, out_dir)

    def augment_target(self, prepared, params, target) -> str | None:
        return None

    def export(self, source: Path, out: Path) -> int:
        frame = read_table(source)
        out.mkdir(parents=True)
        frame.to_csv(out / "points.csv", index=False)
        return len(frame)


@pytest.fixture()
def toy(tmp_path):
    """The toy modality, its model and its check, registered for this test only."""
    MODELS.register("toy_gaussian")(Gaussian)
    CHECKS.register("toy_mean_gap")(MeanGap)
    MODALITIES.register("toy")(Toy())
    source = tmp_path / "points.csv"
    pd.DataFrame({"x": np.random.default_rng(0).normal(5.0, 2.0, 200)}).to_csv(source, index=False)
    yield source
    MODALITIES.unregister("toy")
    CHECKS.unregister("toy_mean_gap")
    MODELS.unregister("toy_gaussian")


def test_run_and_export_a_modality_the_stages_never_heard_of(toy, tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--source", str(toy), "--out", str(out), "--modality", "toy", "--rows", "300"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["passed"] and list(metrics["checks"]) == ["toy_mean_gap"]
    assert json.loads((out / "prepared" / "layout.json").read_text()) == {"column": "x", "modality": "toy"}
    assert json.loads((out / "model" / "config.json").read_text())["modality"] == "toy"
    augmented = pd.read_parquet(out / "augmented.parquet")
    assert augmented["is_synthetic"].sum() == 300 and (~augmented["is_synthetic"]).sum() == 160
    assert "toy_mean_gap" in (out / "report.html").read_text()
    assert (
        main(
            ["export", "--source", str(out / "augmented.parquet"), "--out", str(tmp_path / "csv"), "--modality", "toy"]
        )
        == 0
    )
    assert len(pd.read_csv(tmp_path / "csv" / "points.csv")) == 460


def test_the_stages_one_by_one_read_the_recorded_modality(toy, tmp_path, capsys):
    prep, model, synthetic, reports = (tmp_path / n for n in ("prep", "model", "s.parquet", "reports"))
    assert main(["ingest", "--source", str(toy), "--out", str(prep), "--modality", "toy"]) == 0
    # no --modality from here on: each stage reads what ingest (or train) recorded
    assert main(["train", "--data", str(prep / "train.parquet"), "--out", str(model), "--model", "toy_gaussian"]) == 0
    assert main(["sample", "--model", str(model), "--out", str(synthetic), "--rows", "100", "--seed", "3"]) == 0
    first = pd.read_parquet(synthetic)
    assert main(["sample", "--model", str(model), "--out", str(synthetic), "--rows", "100", "--seed", "3"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(synthetic), first)  # same seed, same draw
    assert abs(first["x"].mean() - 5.0) < 1.0
    args = ["--train", str(prep / "train.parquet"), "--holdout", str(prep / "holdout.parquet")]
    assert main(["validate", *args, "--synthetic", str(synthetic), "--out", str(reports)]) == 0
    shifted = tmp_path / "shifted.parquet"
    write_parquet(first.assign(x=first["x"] + 10), shifted)
    assert main(["validate", *args, "--synthetic", str(shifted), "--out", str(tmp_path / "r2")]) == 1  # the gate
    assert "toy_mean_gap" in capsys.readouterr().err


def test_a_toy_model_directory_is_checked_on_load_like_every_other(toy, tmp_path, capsys):
    assert main(["run", "--source", str(toy), "--out", str(tmp_path / "out"), "--modality", "toy"]) == 0
    model = tmp_path / "out" / "model"
    (model / "model.pt").write_bytes(b"not a checkpoint")
    assert main(["sample", "--model", str(model), "--out", str(tmp_path / "s.parquet")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"synthgen: error: {model / 'model.pt'}: incomplete or corrupt model weights")
