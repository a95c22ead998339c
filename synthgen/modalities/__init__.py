"""The modalities synthgen ships: each module registers one `Modality` (see base.py) in MODALITIES.

Adding a modality is one new module or package here (its ingest, synthesizer, checks, report and
export), its tests, and its import below; the stages and the CLI stay as they are.
"""

from synthgen.modalities import image, sensor, tabular  # noqa: F401  (each registers its modality)
from synthgen.modalities.base import Modality
from synthgen.registry import MODALITIES


def get(name: str) -> Modality:
    """The registered modality `name`; unknown names fail with the list of known ones."""
    return MODALITIES.get(name)


__all__ = ["Modality", "get"]
