"""Which checkpoint a rerun resumes from, and that nothing but synthgen's files is removed."""

import json

import torch

from synthgen.training import checkpoints


def _save(path):
    torch.save({"x": torch.zeros(3)}, path)


def test_the_newest_whole_checkpoint_wins_and_a_truncated_one_is_skipped(tmp_path):
    assert checkpoints.prepare(tmp_path, "run-a") is None
    for step in (20, 40, 100):
        _save(tmp_path / f"resume-step={step}.ckpt")
    assert checkpoints.latest(tmp_path).name == "resume-step=100.ckpt"
    data = (tmp_path / "resume-step=100.ckpt").read_bytes()
    (tmp_path / "resume-step=100.ckpt").write_bytes(data[: len(data) // 2])  # killed while writing
    assert checkpoints.latest(tmp_path).name == "resume-step=40.ckpt"
    _save(tmp_path / checkpoints.FINAL)
    assert checkpoints.prepare(tmp_path, "run-a").name == checkpoints.FINAL


def test_another_runs_checkpoints_are_discarded_not_resumed(tmp_path):
    checkpoints.prepare(tmp_path, "run-a")
    _save(tmp_path / "resume-step=20.ckpt")
    assert checkpoints.prepare(tmp_path, "run-b") is None
    assert not list(tmp_path.glob("*.ckpt")) and json.loads((tmp_path / "run.json").read_text()) == {"run": "run-b"}


def test_discard_removes_only_what_synthgen_wrote(tmp_path):
    root = tmp_path / "model.partial"
    for name in ("attributes", "model"):
        checkpoints.prepare(root / name, "run")
        _save(root / name / "resume-step=10.ckpt")
    (root / "model" / "notes.txt").write_text("the user's")
    checkpoints.discard(root)
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == ["model", "model/notes.txt"]
    (root / "model" / "notes.txt").unlink()
    checkpoints.discard(root)
    assert not root.exists()
