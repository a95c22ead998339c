"""Sequences: leaking sets fail the privacy gate at the shipped thresholds; fresh real entities pass the whole gate."""

from __future__ import annotations

import numpy as np
import pytest

from synthgen.validation import redteam
from synthgen.validation.redteam import sequence_leaks
from synthgen.validation.sequences import SequenceContext
from tests.redteam.conftest import Split, privacy_failures, verdicts


def sequence_context(split: Split, synthetic: np.ndarray, seed: int, out) -> SequenceContext:
    return redteam.sequence_context(split.train, split.holdout, synthetic, seed, out)


def _split(values: np.ndarray, sizes: tuple[int, int], seed: int) -> Split:
    order = np.random.default_rng(seed).permutation(len(values))
    return Split(values[order[: sizes[0]]], values[order[sizes[0] : sum(sizes)]], values[order[sum(sizes) :]])


@pytest.fixture(scope="module")
def italy(italy_power):
    return _split(italy_power, (500, 250), seed=0)  # fresh: 346 entities


@pytest.mark.parametrize("share", [0.05, 0.10, 0.20])
@pytest.mark.parametrize("kind", ["exact", "near", "circular_shift", "linear_shift", "duplicated"])
def test_a_minority_of_disguised_copies_fails(italy, kind, share, tmp_path):
    leaked = sequence_leaks(italy.train, italy.fresh, seed=1)[kind](share)
    assert privacy_failures(sequence_context(italy, leaked, 0, tmp_path), "sensor")


@pytest.mark.parametrize("seed", [0, 1])
def test_fresh_real_entities_pass_the_whole_default_gate(italy_power, seed, tmp_path):
    split = _split(italy_power, (500, 250), seed=seed)
    result = verdicts(sequence_context(split, split.fresh, seed, tmp_path), "sensor")
    assert result["passed"], {k: (c["verdict"], c["score"]) for k, c in result["checks"].items()}


@pytest.fixture(scope="module")
def vowels(japanese_vowels):
    return _split(japanese_vowels, (320, 160), seed=0)  # fresh: 160 utterances of 7 to 29 steps


def test_entities_of_different_lengths_fresh_pass_and_copies_fail(vowels, tmp_path):
    result = verdicts(sequence_context(vowels, vowels.fresh, 0, tmp_path), "sensor")
    assert result["passed"], {k: (c["verdict"], c["score"]) for k, c in result["checks"].items()}
    leaks = sequence_leaks(vowels.train, vowels.fresh, seed=1)
    assert set(leaks) == {"exact", "near", "duplicated"}  # no shifts: they would move the padding
    for kind, build in leaks.items():
        assert privacy_failures(sequence_context(vowels, build(0.10), 0, tmp_path), "sensor"), kind
