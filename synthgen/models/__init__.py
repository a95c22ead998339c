"""Generative models; each module registers itself in MODELS on import."""

from synthgen.models import (
    tabular_ddpm,  # noqa: F401  (registers "tabular_ddpm")
    tvae,  # noqa: F401  (registers "tvae")
)
from synthgen.models.base import TabularModel

__all__ = ["TabularModel"]
