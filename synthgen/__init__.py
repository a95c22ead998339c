"""synthgen: learn a generative model of real data and hand back a validated, augmented set."""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("synthgen")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

from synthgen.errors import SynthgenError  # noqa: E402

__all__ = ["Synthesizer", "SynthgenError", "__version__"]


def __getattr__(name: str) -> Any:
    """`synthgen.Synthesizer` on first use: torch loads only when a model is wanted, so the CLI's
    `--help` answers at once."""
    if name == "Synthesizer":
        from synthgen.modalities.tabular.synthesizer import Synthesizer

        return Synthesizer
    raise AttributeError(f"module 'synthgen' has no attribute {name!r}")
