"""Every registered name a run will use, resolved before any stage writes anything."""

from __future__ import annotations

from synthgen.config import Params
from synthgen.errors import SynthgenError


def check_names(params: Params, where: str = "params.yaml") -> None:
    """Resolve model and check names, and the model's own config, so a typo fails in a second."""
    from synthgen import models, validation  # noqa: F401  (fill the registries)
    from synthgen.registry import CHECKS, MODELS
    from synthgen.validation.gate import check_params

    unknown = sorted(set(params.validate_.checks) - set(CHECKS.names()))
    if unknown:
        raise SynthgenError(f"{where}: validate.checks: unknown check(s) {unknown}; known: {', '.join(CHECKS.names())}")
    MODELS.get(params.train.model).parse_config(params.train.model_config_)
    check_params(params.validate_, f"{where}: validate")
