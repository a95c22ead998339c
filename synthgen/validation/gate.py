"""The gate: every registered check, scored against its threshold from params; fails as a whole."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen.config import CheckParams, RequireDP, ValidateParams, default_check
from synthgen.data.schema import Schema
from synthgen.encoding.columns import to_float
from synthgen.errors import SynthgenError
from synthgen.registry import CHECKS
from synthgen.validation.base import Check, CheckSkipped, Context
from synthgen.validation.expectations import NUMPY_DTYPES

log = logging.getLogger(__name__)


def cap(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    if len(frame) <= max_rows:
        return frame.reset_index(drop=True)
    return frame.sample(max_rows, random_state=seed).reset_index(drop=True)


def check_synthetic(synthetic: pd.DataFrame, schema: Schema, where: str) -> None:
    """Refuse a synthetic table no metric can be computed on, naming the fix."""
    schema.check_frame(synthetic, where)
    if synthetic.empty:
        raise SynthgenError(f"{where}: synthetic table has no rows; sample with --rows > 0")


def categorical_columns(schema: Schema) -> list[str]:
    return [c.name for c in schema.columns if c.kind in ("categorical", "boolean") and c.modelled]


def check_holdout(train: pd.DataFrame, holdout: pd.DataFrame, schema: Schema, where: str) -> None:
    """A category present only in the holdout means the split cannot be judged fairly."""
    names = categorical_columns(schema)
    check_categories(
        {c: set(train[c].dropna().unique()) for c in names}, {c: set(holdout[c].dropna()) for c in names}, where
    )


def check_categories(train: dict[str, set[Any]], holdout: dict[str, set[Any]], where: str) -> None:
    """The same on category sets (streamed over tables too large to load)."""
    for name, values in holdout.items():
        unseen = values - train[name]
        if unseen:
            raise SynthgenError(
                f"{where}: column {name!r} has value(s) {sorted(map(str, unseen))[:5]} that train lacks; "
                "re-split with `synthgen ingest`, which keeps every category in train"
            )


def _record(check: Check, threshold: float, level: str) -> dict[str, Any]:
    return {
        "kind": check.kind,
        "direction": check.direction,
        "threshold": threshold,
        "level": level,
        "description": check.description,
    }


def _skip(check: Check, threshold: float, level: str, reason: str) -> dict[str, Any]:
    return {**_record(check, threshold, level), "verdict": "skipped", "score": None, "reason": reason}


def structural_problems(train: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> list[str]:
    """Columns no metric can read: empty, infinite, unparseable or of an incompatible type."""
    problems = []
    for col in schema.columns:
        values = synthetic[col.name]
        if values.isna().all() and not train[col.name].isna().all():
            problems.append(f"column {col.name!r} is entirely empty")
        elif col.kind in ("numeric", "integer") and not pd.api.types.is_numeric_dtype(values):
            problems.append(f"column {col.name!r} has dtype {values.dtype}, expected {col.dtype}")
        elif col.dtype.startswith("datetime64") and not pd.api.types.is_datetime64_any_dtype(values):
            problems.append(f"column {col.name!r} has dtype {values.dtype}, expected {col.dtype}")
        elif col.dtype not in NUMPY_DTYPES and str(values.dtype) != col.dtype:  # extension dtypes
            problems.append(f"column {col.name!r} has dtype {values.dtype}, expected {col.dtype}")
        elif col.kind in ("numeric", "integer") and np.isinf(values.to_numpy(dtype=float, na_value=np.nan)).any():
            problems.append(f"column {col.name!r} has infinite values")
        elif (
            col.kind == "datetime"
            and to_float(values, col)[values.notna().to_numpy()].size
            and np.isnan(to_float(values, col)[values.notna().to_numpy()]).all()
        ):
            problems.append(f"column {col.name!r} has no value readable as a date ({col.datetime_format})")
    return problems


def _inconclusive(record: dict[str, Any], reason: str, accepted: bool) -> dict[str, Any]:
    """A check that could not be computed: below fail level that is a note; at fail level it blocks
    the gate (inconclusive is not pass) unless the params accept it by name."""
    if record["level"] != "fail":
        return {**record, "verdict": "skipped", "score": None, "reason": reason}
    verdict = "accepted_inconclusive" if accepted else "inconclusive"
    note = (
        " (accepted in validate.accept_inconclusive)"
        if accepted
        else " (accept it by name in validate.accept_inconclusive)"
    )
    return {**record, "verdict": verdict, "score": None, "reason": reason + note}


def _judge(name: str, check: Check, ctx: Context, threshold: float, level: str, accepted: bool) -> dict[str, Any]:
    record = _record(check, threshold, level)
    if level == "off":
        return {**record, "verdict": "off", "score": None, "reason": "level off in params"}
    try:
        outcome = check.compute(ctx)
    except CheckSkipped as exc:
        return _inconclusive(record, str(exc), accepted)
    except (ValueError, TypeError, IndexError, KeyError, ArithmeticError) as exc:
        # A metric that breaks on this data proves nothing: it fails (or warns), with the reason shown.
        log.warning("check %s could not be computed: %s", name, exc)
        verdict = "fail" if level == "fail" else "warn"
        return {**record, "verdict": verdict, "score": None, "reason": f"error: {type(exc).__name__}: {exc}"[:300]}
    score = outcome.score
    if score is None or not math.isfinite(score):
        return _inconclusive(record, "score is not a finite number", accepted)
    ok = check.passes(score, threshold)
    details = outcome.details
    if not ok:
        calibrated = check.real_floor(ctx)
        if calibrated is not None:
            at_size, floor = calibrated
            details = {**details, "score_at_holdout_size": round(at_size, 6), "real_floor": round(floor, 6)}
            ok = check.passes(at_size, floor)
    verdict = "pass" if ok else ("fail" if level == "fail" else "warn")
    return {**record, "verdict": verdict, "score": round(float(score), 6), "details": details}


LEVELS = {"off": 0, "warn": 1, "fail": 2}


def shipped(name: str) -> CheckParams | None:
    """The shipped threshold and level: config's table for synthgen's own checks, else the check
    class's `default` (how a newly registered modality brings its checks without editing config)."""
    default = default_check(name)
    if default is None and CHECKS.get(name).default is not None:
        threshold, level = CHECKS.get(name).default
        default = CheckParams(threshold=threshold, level=level)
    return default


def configured(name: str, params: ValidateParams) -> CheckParams:
    """The threshold and level a run uses: params first, the shipped default otherwise."""
    cfg = params.checks.get(name) or shipped(name)
    if cfg is None:
        raise SynthgenError(f"validate.checks: no threshold for {name!r}; add it to params.yaml (see README)")
    return cfg


def loosened(name: str, cfg: CheckParams) -> bool:
    """Whether a privacy check is set looser than shipped: a lower level, or a threshold that lets
    more through. Tightening is always allowed."""
    default = shipped(name)
    if default is None or CHECKS.get(name).kind != "privacy":
        return False
    if LEVELS[cfg.level] < LEVELS[default.level]:
        return True
    higher = CHECKS.get(name).direction == "higher_is_better"
    return cfg.threshold < default.threshold if higher else cfg.threshold > default.threshold


def check_params(params: ValidateParams, where: str = "params validate") -> None:
    """Known names everywhere, a threshold for every check, and no privacy check looser than shipped
    unless `allow_unsafe` names it with a reason."""
    for field, names in (
        ("checks", params.checks),
        ("accept_inconclusive", params.accept_inconclusive),
        ("allow_unsafe", params.allow_unsafe),
    ):
        unknown = sorted(set(names) - set(CHECKS.names()))
        if unknown:
            raise SynthgenError(f"{where}.{field}: unknown check(s) {unknown}; known: {', '.join(CHECKS.names())}")
    missing = sorted(n for n in CHECKS.names() if n not in params.checks and shipped(n) is None)
    if missing:
        raise SynthgenError(f"{where}.checks: no threshold for {missing}; add them (see README)")
    for name, cfg in params.checks.items():
        if loosened(name, cfg) and not params.allow_unsafe.get(name, "").strip():
            default = shipped(name)
            raise SynthgenError(
                f"{where}.checks.{name}: threshold {cfg.threshold} / level {cfg.level} is looser than the shipped "
                f"{default.threshold} / {default.level}; privacy checks may only be tightened, or name the check "
                f"in validate.allow_unsafe with the reason"
            )


def judge_all(ctx: Any, params: ValidateParams, modality: str, problems: list[str]) -> dict[str, Any]:
    """Every registered check of this modality against its threshold; `passed` is the gate's verdict."""
    check_params(params)
    checks = {}
    for name in CHECKS.names():
        cfg, check = configured(name, params), CHECKS.get(name)()
        if check.modality != modality:
            continue
        if problems and check.kind != "schema":
            checks[name] = _skip(check, cfg.threshold, cfg.level, "schema problems: " + "; ".join(problems))
        else:
            checks[name] = _judge(name, check, ctx, cfg.threshold, cfg.level, name in params.accept_inconclusive)
        if name in params.allow_unsafe and loosened(name, cfg):
            checks[name]["unsafe"] = params.allow_unsafe[name]
    passed = not problems and all(c["verdict"] not in BLOCKING for c in checks.values())
    unsafe = {k: c["unsafe"] for k, c in checks.items() if "unsafe" in c}
    accepted = sorted(k for k, c in checks.items() if c["verdict"] == "accepted_inconclusive")
    return {
        "passed": passed,
        "problems": problems,
        "checks": checks,
        "allow_unsafe": unsafe,
        "accepted_inconclusive": accepted,
    }


BLOCKING = ("fail", "inconclusive")
DP_CHECK = "differential_privacy"


def with_dp(result: dict[str, Any], dp: dict[str, float] | None, require: RequireDP | None) -> dict[str, Any]:
    """Add the set's DP budget (`dp_epsilon`, `dp_delta`: its model's, null without DP) and, with
    `validate.require_dp`, a fail-level check that the budget is there and within the limit."""
    result = {**result, "dp_epsilon": dp["epsilon"] if dp else None, "dp_delta": dp["delta"] if dp else None}
    if require is None:
        return result
    within = dp is not None and dp["epsilon"] <= require.max_epsilon
    within = within and (require.max_delta is None or dp["delta"] <= require.max_delta)
    check = {
        "kind": "privacy",
        "direction": "lower_is_better",
        "score": dp["epsilon"] if dp else None,
        "threshold": require.max_epsilon,
        "level": "fail",
        "verdict": "pass" if within else "fail",
        "description": "epsilon of the model's differential-privacy guarantee (validate.require_dp)",
    }
    if dp is None:
        check["reason"] = "no DP guarantee: the set's model trained without train.privacy"
    elif not within:
        check["reason"] = f"(epsilon {dp['epsilon']:.3g}, delta {dp['delta']:.2g}) exceeds validate.require_dp"
    checks = {**result["checks"], DP_CHECK: check}
    return {**result, "checks": checks, "passed": result["passed"] and within}


def failed_checks(metrics: dict[str, Any]) -> list[str]:
    """The names that stopped the gate, for the one-line error."""
    names = [
        f"{k} ({v['verdict']})" if v["verdict"] != "fail" else k
        for k, v in metrics["checks"].items()
        if v["verdict"] in BLOCKING
    ]
    return names + (["schema problems"] if metrics.get("problems") else [])


def tabular_context(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    params: ValidateParams,
    seed: int,
    out_dir: Path,
    exact: dict[str, Any] | None = None,
) -> tuple[Context, list[str]]:
    """What the tabular checks see (each table capped at validate.max_rows) and the structural
    problems that skip the distribution checks. Where the frames are samples, `exact` is what was
    computed over all rows (`copy_counts`, `train_ranges`, `train_categories`)."""
    ctx = Context(
        cap(train, params.max_rows, seed),
        cap(holdout, params.max_rows, seed),
        cap(synthetic, params.max_rows, seed),
        schema,
        seed,
        out_dir,
    )
    ctx.cache.update(exact or {})
    return ctx, structural_problems(ctx.train, ctx.synthetic, schema)


def run_gate(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    params: ValidateParams,
    seed: int,
    out_dir: Path,
    rows: dict[str, int] | None = None,
    exact: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score every registered tabular check on in-memory tables; the result is what metrics.json holds."""
    ctx, problems = tabular_context(train, holdout, synthetic, schema, params, seed, out_dir, exact)
    result = judge_all(ctx, params, "tabular", problems)
    rows = rows or {"train": len(train), "holdout": len(holdout), "synthetic": len(synthetic)}
    return {**result, "rows": rows}


def compact_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """What `dvc metrics show` should print: scores, thresholds and verdicts, no prose or details."""
    keep = ("kind", "direction", "score", "threshold", "level", "verdict", "reason", "unsafe")
    checks = {name: {k: c[k] for k in keep if k in c} for name, c in metrics["checks"].items()}
    return {**metrics, "checks": checks}


def summary_table(metrics: dict[str, Any]) -> str:
    """A terminal table: verdict, score and threshold per check, the gate verdict last."""
    lines = [f"{'check':<20} {'kind':<9} {'score':>9} {'threshold':>11}  verdict"]
    for name, c in metrics["checks"].items():
        score = "-" if c["score"] is None else f"{c['score']:.4f}"
        sign = ">=" if c["direction"] == "higher_is_better" else "<="
        note = f" ({c['reason']})" if c.get("reason") else ""
        lines.append(
            f"{name:<20} {c['kind']:<9} {score:>9} {sign} {c['threshold']:<8.4g}  {c['verdict'].upper()}{note}"
        )
    lines += [f"schema problem: {p}" for p in metrics.get("problems", [])]
    lines += [f"UNSAFE: {k} loosened: {why}" for k, why in metrics.get("allow_unsafe", {}).items()]
    lines.append(f"gate: {'PASSED' if metrics['passed'] else 'FAILED'}")
    return "\n".join(lines)
