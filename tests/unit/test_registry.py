import pytest

from synthgen.errors import SynthgenError
from synthgen.registry import CHECKS, MODELS, Registry


def test_unknown_name_lists_the_known_ones():
    import synthgen.models  # noqa: F401  (registers the models)

    with pytest.raises(SynthgenError, match="unknown model 'nope'; choose one of: .*tabular_ddpm"):
        MODELS.get("nope")


def test_duplicate_registration_fails():
    reg: Registry = Registry("thing")
    reg.register("a")(object)
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("a")(object)


def test_checks_are_registered_once_each():
    import synthgen.validation  # noqa: F401

    assert {"quality", "dcr_share", "near_copies", "exact_copies", "expectations"} <= set(CHECKS.names())
