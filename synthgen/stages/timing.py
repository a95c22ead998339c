"""One log line per stage: what it did and how long it took."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("synthgen")


@contextmanager
def timed(stage: str) -> Iterator[dict[str, Any]]:
    """Yield a dict the stage fills with what it did; logged with the elapsed time when it ends."""
    summary: dict[str, Any] = {}
    start = time.perf_counter()
    yield summary
    parts = ", ".join(f"{k} {v}" for k, v in summary.items())
    log.info("%s: %s in %.1f s", stage, parts, time.perf_counter() - start)
