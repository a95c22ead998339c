from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

# Training budget and gate levels for end-to-end tests: real stages, small models; fidelity checks
# report rather than block at this budget, privacy and schema checks keep their shipped defaults.
_FAST = """
seed: 0
datasets: [penguins]
train:
  epochs: 600
  batch_size: 128
  model_config: {}
validate:
  checks:
    # fidelity only, for the small budget; every privacy and schema check keeps its shipped default
    quality: {threshold: 0.5, level: warn}
    detection: {threshold: 0.3, level: warn}
    column_pair_trends: {threshold: 0.8, level: warn}
    discriminative_score: {threshold: 0.25, level: warn}
    image_detection: {threshold: 0.3, level: warn}
    image_utility: {threshold: 0.9, level: warn}
"""


def _deep_update(base: dict, extra: dict) -> dict:
    for key, value in extra.items():
        base[key] = _deep_update(base.get(key, {}), value) if isinstance(value, dict) else value
    return base


# The shipped params.yaml with the fast settings on top (DVC wants every section present).
FAST_PARAMS = yaml.safe_dump(_deep_update(yaml.safe_load((REPO / "params.yaml").read_text()), yaml.safe_load(_FAST)))


def synthgen(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run the installed CLI as a user would."""
    proc = subprocess.run([sys.executable, "-m", "synthgen.cli", *args], cwd=cwd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"synthgen {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture()
def fast_params(tmp_path) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(FAST_PARAMS)
    return path


@pytest.fixture()
def repo_copy(tmp_path) -> Path:
    """The repository's tracked files (and .dvc config) in a fresh git repo, as a clone would have."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    dest = tmp_path / "repo"
    for name in files:
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    (dest / "dvc.lock").unlink(missing_ok=True)
    return dest
