"""synthgen: learn a generative model of a real table and hand back a validated, augmented one."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("synthgen")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

from synthgen.errors import SynthgenError  # noqa: E402
from synthgen.synthesizer import Synthesizer  # noqa: E402

__all__ = ["Synthesizer", "SynthgenError", "__version__"]
