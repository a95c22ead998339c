"""Every modality's saved model is checked on load the same way (BaseSynthesizer.load): a corrupt
file, a foreign directory or a newer format is one line naming the file, and exit 2 from the CLI."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from synthgen.cli import main
from synthgen.config import TrainParams


@pytest.fixture(scope="module")
def saved(tmp_path_factory, penguins):
    """A tiny saved model of each shipped modality."""
    from synthgen import Synthesizer
    from synthgen.data.images import ImageLayout
    from synthgen.data.sequences import clean_long, infer_layout
    from synthgen.modalities.image.synthesizer import ImageSynthesizer
    from synthgen.modalities.sensor.synthesizer import SequenceSynthesizer
    from tests.unit.modalities.test_image_synthesizer import _squares
    from tests.unit.modalities.test_sensor_synthesizer import _machines

    root = tmp_path_factory.mktemp("saved")
    tiny = {"epochs": 1, "batch_size": 64, "validation_fraction": 0.0}
    table = TrainParams(**tiny, model_config={"hidden": 16, "embedding": 8})
    Synthesizer(target="species", train_params=table).fit(penguins).save(root / "tabular")
    machines = _machines(12).drop(columns="kind").groupby("machine").head(8)  # no attributes model to train
    layout = infer_layout(machines, "machine", "t", "failed")
    sensor = TrainParams(**tiny, model="sensor_ddpm", model_config={"sampling_steps": 2})
    frame = clean_long(machines, layout, None, 256, "machines")
    SequenceSynthesizer(layout, train_params=sensor).fit(frame).save(root / "sensor")
    image = TrainParams(**tiny, model="image_ddpm", model_config={"sampling_steps": 2})
    ImageSynthesizer(ImageLayout(8, 1, 8, ["a", "b"]), train_params=image).fit(_squares()).save(root / "image")
    return root


def _sample(capsys, model) -> tuple[int, str]:
    code = main(["sample", "--model", str(model), "--out", str(model.parent / "s.parquet"), "--rows", "4"])
    lines = capsys.readouterr().err.strip().splitlines()
    return code, lines[-1] if lines else ""


MODALITIES = ["tabular", "sensor", "image"]


@pytest.mark.parametrize("modality", MODALITIES)
def test_each_saved_model_loads_and_samples(saved, tmp_path, capsys, modality):
    model = shutil.copytree(saved / modality, tmp_path / "m")
    assert _sample(capsys, model)[0] == 0
    assert json.loads((model / "config.json").read_text())["modality"] == modality


@pytest.mark.parametrize("modality", MODALITIES)
@pytest.mark.parametrize(
    ("damage", "file", "says"),
    [
        (lambda m: (m / "model.pt").write_bytes(b"garbage"), "model.pt", "incomplete or corrupt model weights"),
        (lambda m: (m / "config.json").write_text("{oops"), "config.json", "not valid JSON"),
        (lambda m: (m / "schema.json").write_text("[1]"), "", "schema.json does not match the model"),
        (lambda m: (m / "model.pt").unlink(), "model.pt", "incomplete or corrupt model weights"),
        (lambda m: _edit(m, format_version=2), "config.json", "upgrade synthgen to read it"),
        (lambda m: _edit(m, model_config={"no_such_key": 1}), "config.json", "incomplete or corrupt model"),
        (lambda m: (m / "config.json").write_text('{"hello": "world"}'), "config.json", "not a synthgen model config"),
        (lambda m: (m / "config.json").unlink(), "", "not a synthgen model directory"),
    ],
    ids=["corrupt-weights", "corrupt-config", "schema-mismatch", "missing-weights", "newer-format",
         "bad-model-config", "foreign-config", "foreign-directory"],
)  # fmt: skip
def test_a_damaged_model_is_one_line_naming_the_file(saved, tmp_path, capsys, modality, damage, file, says):
    model = shutil.copytree(saved / modality, tmp_path / "m")
    damage(model)
    code, err = _sample(capsys, model)
    where = model / file if file else model
    assert code == 2 and err.startswith(f"synthgen: error: {where}:") and says in err, err
    assert not (tmp_path / "s.parquet").exists()


def _edit(model, **changes) -> None:
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, **changes}))


def test_sampling_follows_the_accelerator_and_each_ranks_local_gpu(monkeypatch):
    from synthgen.synthesizer import rank_device

    def no_cuda_call():
        raise AssertionError("accelerator cpu asked CUDA")

    monkeypatch.setattr(torch.cuda, "is_available", no_cuda_call)
    assert rank_device("cpu") == torch.device("cpu")
    # A node with 4 GPUs: rank LOCAL_RANK samples on its own (torchrun and Lightning set LOCAL_RANK).
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert rank_device("gpu") == torch.device("cuda", 3) and rank_device("auto") == torch.device("cuda", 3)
    assert rank_device("auto", local_rank=5) == torch.device("cuda", 1)
    assert rank_device("cpu") == torch.device("cpu")
