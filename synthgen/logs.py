"""The terminal shows what synthgen did, one line per step; library chatter only when it warns."""

from __future__ import annotations

import logging
import sys
import time
import warnings
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


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


def progress(items: Iterable[T], total: int, what: str, unit: str, every_s: float = 30.0) -> Iterator[T]:
    """`items` with progress: a bar on a terminal; on a pipe or file (a DVC or batch job), a log line
    every `every_s` seconds with the count, rate and ETA, so long work never goes quiet."""
    if sys.stderr.isatty():
        from tqdm.auto import tqdm

        yield from tqdm(items, total=total, desc=what, unit=unit, leave=False)
        return
    log = logging.getLogger("synthgen")
    start = last = time.perf_counter()
    for done, item in enumerate(items, 1):
        yield item
        now = time.perf_counter()
        if now - last >= every_s and done < total:
            last = now
            rate = done / (now - start)
            log.info("%s: %d/%d %s (%.0f%%), %.1f %s/s, ETA %.0f s", what, done, total, unit, 100 * done / total,
                     rate, unit, (total - done) / rate)  # fmt: skip
