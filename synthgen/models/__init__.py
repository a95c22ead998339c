"""Generative models; each module registers itself in MODELS on import."""

from synthgen.models import (  # noqa: F401  (each registers its model under its module name)
    ctgan,
    image_ddpm,
    sensor_ddpm,
    tabular_ar,
    tabular_ddpm,
    tabular_gaussian,
    tabular_mlp_ar,
    tvae,
)
from synthgen.models.base import ImageModel, SequenceModel, TabularModel

__all__ = ["ImageModel", "SequenceModel", "TabularModel"]
