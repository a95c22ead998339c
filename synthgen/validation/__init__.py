"""Checks as small registered units, and the gate that turns their scores into a verdict."""

from synthgen.validation import expectations, fidelity, privacy  # noqa: F401  (register checks)
from synthgen.validation.gate import run_gate

__all__ = ["run_gate"]
