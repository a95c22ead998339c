"""The terminal shows what synthgen did, one line per step; library chatter only when it warns."""

from __future__ import annotations

import logging
import sys
import warnings


def configure_logging(quiet: bool = False) -> None:
    """`synthgen: ...` lines on stderr at info level (warnings only when `quiet`)."""
    logging.basicConfig(
        level=logging.WARNING, format="%(name)s %(levelname)s: %(message)s", stream=sys.stderr, force=True
    )
    log = logging.getLogger("synthgen")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("synthgen: %(message)s"))
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric", "great_expectations"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
