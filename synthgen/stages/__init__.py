"""The stages as library calls, written once for every modality: the CLI and DVC are thin shells
around these. Each reads the modality from what the stage before it recorded (layout.json beside
the prepared tables, config.json in a model directory) and hands the modality's part to it."""

from synthgen.stages.augment import augment
from synthgen.stages.export import export
from synthgen.stages.ingest import ingest
from synthgen.stages.names import check_names
from synthgen.stages.run import run
from synthgen.stages.sample import load_model, sample
from synthgen.stages.train import train
from synthgen.stages.validate import validate

__all__ = ["augment", "check_names", "export", "ingest", "load_model", "run", "sample", "train", "validate"]
