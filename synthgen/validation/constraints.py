"""The `constraints` check: the share of synthetic rows that keep every rule the spec declares."""

from __future__ import annotations

from typing import Any

from synthgen.data import constraints
from synthgen.registry import CHECKS
from synthgen.validation.base import Check, Context, Outcome


@CHECKS.register("constraints")
class Constraints(Check):
    name = "constraints"
    kind = "schema"
    direction = "higher_is_better"
    description = "share of synthetic rows that keep every declared constraint (1 when none is declared)"

    def compute(self, ctx: Context) -> Outcome:
        rules = constraints.parse(ctx.schema.constraints)
        if not rules:
            return Outcome(1.0, {"constraints": 0})
        share, per_rule = constraints.share_held(rules, ctx.synthetic, ctx.train)
        return Outcome(share, {"constraints": len(rules), "held": {k: round(v, 6) for k, v in per_rule.items()}})

    def real_floor(self, ctx: Any) -> tuple[float, float] | None:
        """Unseen real rows may break a rule only if validate is given other data than ingest checked:
        then the synthetic set is asked to keep the rules as often as the holdout does."""
        rules = constraints.parse(ctx.schema.constraints)
        score, _ = constraints.share_held(rules, ctx.synthetic, ctx.train)
        return score, constraints.share_held(rules, ctx.holdout, ctx.train)[0]
