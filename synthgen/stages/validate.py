"""validate: score a synthetic set against real train and unseen holdout; write metrics.json,
details.json, the GX results and report.html; raise GateFailed (exit 1) when the gate fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthgen import modalities
from synthgen.config import DatasetSpec, ValidateParams
from synthgen.errors import GateFailed
from synthgen.io import parquet_provenance, write_json
from synthgen.modalities.base import ToJudge, read_prepared
from synthgen.stages.timing import timed


def validate(
    train_path: str | Path,
    holdout_path: str | Path,
    synthetic_path: str | Path,
    out_dir: str | Path,
    params: ValidateParams,
    seed: int,
    spec: DatasetSpec | None = None,
    schema: str | Path | None = None,
) -> dict[str, Any]:
    """Every registered check of the data's modality against its threshold; returns the metrics.

    Args:
        spec: the dataset's options (the target, for a table without a schema).
        schema: a tabular schema.json; default: inferred from the train table.
    """
    from synthgen.validation import judge_all
    from synthgen.validation.binding import bind
    from synthgen.validation.gate import compact_metrics, failed_checks, summary_table, with_dp

    tables = (Path(train_path), Path(holdout_path), Path(synthetic_path))
    out_dir = Path(out_dir)
    with timed("validate") as summary:
        prepared = read_prepared(tables[0].parent)
        modality = modalities.get(prepared.modality)
        schema_path = Path(schema) if schema is not None else None
        job = ToJudge(prepared, *tables, params, seed, out_dir, spec or DatasetSpec(), schema_path)
        scored = modality.score(job)
        result = judge_all(scored.context, params, modality.name, scored.problems)
        result = with_dp(result, parquet_provenance(tables[2]).get("privacy"), params.require_dp)
        metrics = bind({**result, "rows": scored.counts}, tables[2])
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(compact_metrics(metrics), out_dir / "metrics.json")
        write_json(metrics, out_dir / "details.json")
        title = f"synthgen {modality.name} report: {tables[2].name}"
        report = modality.report(metrics, scored, out_dir, title)
        print(summary_table(metrics), flush=True)
        scores = {k: v["score"] for k, v in metrics["checks"].items() if k in scored.headline}
        gate = "passed" if metrics["passed"] else "FAILED"
        summary.update(synthetic=scored.counts["synthetic"], gate=gate, **scores, report=str(report))
    if not metrics["passed"]:
        raise GateFailed(
            f"validation gate failed on {', '.join(failed_checks(metrics))}; see {out_dir / 'metrics.json'}"
        )
    return metrics
