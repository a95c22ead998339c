"""sample: a saved model → a synthetic set in Parquet (batched, streamed, seeded)."""

from __future__ import annotations

from pathlib import Path

from synthgen import modalities
from synthgen.config import SampleParams
from synthgen.errors import SynthgenError
from synthgen.sampling.parts import World
from synthgen.stages.timing import timed
from synthgen.synthesizer import BaseSynthesizer, read_model_config


def load_model(model_dir: str | Path) -> BaseSynthesizer:
    """A saved model of any modality: its config.json names the modality, whose synthesizer loads it."""
    config = read_model_config(model_dir)
    return modalities.get(config["modality"]).synthesizer.load(model_dir)


def sample(
    model_dir: str | Path,
    out: str | Path,
    params: SampleParams,
    seed: int,
    world: World | None = None,
    accelerator: str = "auto",
) -> int:
    """Draw `params.rows` units (rows, entities or images; default: sample.multiple x train's) into
    `out`; with several ranks, this rank's share into its part of the directory `out`. Returns
    the number of units written.

    Args:
        accelerator: train.accelerator: `cpu` samples on the CPU (CUDA is never asked); otherwise
            GPU LOCAL_RANK when CUDA is there.
    """
    world = world or World()
    with timed("sample") as summary:
        synth = load_model(model_dir)
        synth.train_params = synth.train_params.model_copy(update={"accelerator": accelerator})
        modality = modalities.get(synth.modality)
        if world.size > 1 and not modality.distributed_sampling:
            raise SynthgenError(
                f"{model_dir}: distributed sampling is for tables, not {modality.name} data; run one process"
            )
        written, done = modality.sample(synth, Path(out), params, seed, world, Path(model_dir))
        summary.update(**done, device=str(synth.device()), out=str(out))
    return written
