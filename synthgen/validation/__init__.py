"""Checks as small registered units, and the gate that turns their scores into a verdict."""

from synthgen.validation import (  # noqa: F401  (each module registers its checks)
    anonymity,
    constraints,
    detection,
    expectations,
    fidelity,
    images,
    privacy,
    sequences,
    support,
    utility,
)
from synthgen.validation.gate import judge_all, run_gate

__all__ = ["judge_all", "run_gate"]
