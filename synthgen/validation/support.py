"""α-precision and β-recall (after Alaa et al., ICML 2022) in the privacy checks' distance space.

The α-support of a set is the ball around its centre holding a share α of its points. α-precision
asks whether synthetic points fall inside the real α-supports as often as α says; β-recall asks the
same of real points in the synthetic β-supports. Each is reported as the paper's integrated score
IPα = 1 − 2·mean |α − P_α| over α (1 = ideal, 0 = as far off as possible; with 1 − mean, a score
could never fall much under 0.5). Our embedding is the standardised distance space, not the paper's learnt one-class
embedding, which would need a network trained per data set.
"""

from __future__ import annotations

import numpy as np

from synthgen.registry import CHECKS
from synthgen.validation.base import Check, CheckSkipped, Context, Outcome
from synthgen.validation.privacy import embedded

LEVELS = np.linspace(0.05, 0.95, 19)


def support_fidelity(reference: np.ndarray, other: np.ndarray) -> tuple[float, list[float]]:
    """1 − 2·mean |α − P_α|, P_α = share of `other` inside the α-support of `reference`."""
    centre = np.median(reference, axis=0)
    radii = np.quantile(np.linalg.norm(reference - centre, axis=1), LEVELS)
    distances = np.linalg.norm(other - centre, axis=1)
    shares = np.array([(distances <= r).mean() for r in radii])
    return float(1 - 2 * np.mean(np.abs(LEVELS - shares))), shares.round(4).tolist()


class _Support(Check):
    kind = "fidelity"
    direction = "higher_is_better"
    synthetic_inside_real: bool

    def compute(self, ctx: Context) -> Outcome:
        train, _, synth = ctx.cached("space", lambda: embedded(ctx))
        if min(len(train), len(synth)) < 20:
            raise CheckSkipped("needs at least 20 real and synthetic rows to estimate supports")
        ref, other = (train, synth) if self.synthetic_inside_real else (synth, train)
        score, shares = support_fidelity(ref, other)
        return Outcome(score, {"levels": LEVELS.round(2).tolist(), "shares": shares})


@CHECKS.register("alpha_precision")
class AlphaPrecision(_Support):
    name = "alpha_precision"
    synthetic_inside_real = True
    description = "1 − 2·mean |α − share of synthetic rows inside the real α-support| (1 ideal)"


@CHECKS.register("beta_recall")
class BetaRecall(_Support):
    name = "beta_recall"
    synthetic_inside_real = False
    description = "1 − 2·mean |β − share of real rows inside the synthetic β-support| (1 ideal)"
