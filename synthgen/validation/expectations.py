"""Schema check: a Great Expectations suite built from the real train data, run on the synthetic set."""

from __future__ import annotations

import datetime
import functools
import itertools
import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd

from synthgen.data.schema import Schema
from synthgen.io import atomic_path, write_json
from synthgen.registry import CHECKS
from synthgen.validation.base import Check, Context, Outcome

RANGE_MARGIN = 0.1
_RUNS = itertools.count(1)
NUMPY_DTYPES = {
    "object",
    "bool",
    "float64",
    "float32",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "datetime64[ns]",
}


def _null_floor(real_rate: float, n_train: int, n_rows: int) -> float:
    """Lowest non-null share that unseen real rows meet: the missing rate's 99.95% upper bound given
    train's count (a beta posterior: 0 missing in 200 rows still allows ~4%), plus the binomial
    noise of `n_rows` judged rows at about 3 sd."""
    from scipy.stats import beta

    missing = round(real_rate * n_train)
    high = float(beta.ppf(0.9995, missing + 1, n_train - missing + 1))
    return max(0.0, 1 - high - 3.1 * math.sqrt(high * (1 - high) / max(n_rows, 1)))


@functools.cache
def _context() -> Any:
    """One ephemeral (in-memory) GX context per process; nothing is written to a GX project."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)  # GX sets INFO on import
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def range_mostly(train_units: int, judged_units: int) -> float:
    """The share of judged values a range learnt from train must hold: unseen real values fall outside
    train's [min, max] with probability at most 2/(n+1) (n train units, exchangeability), plus the
    binomial noise of `judged_units` draws at about 3 sd. Units are rows for tables and whole
    entities for sequences, whose steps leave a range together."""
    outside = 2 / (max(train_units, 1) + 1)
    return max(0.0, 1 - outside - 3.1 * math.sqrt(outside * (1 - outside) / max(judged_units, 1)))


def _plausible_range(low: float, high: float) -> tuple[float, float]:
    """Train's range widened by a tenth on each side: unseen real rows fall a little outside it."""
    margin = RANGE_MARGIN * (high - low)
    return low - margin, high + margin


def build_suite(
    schema: Schema,
    train: pd.DataFrame,
    n_rows: int,
    ranges: dict[str, tuple[float, float]] | None = None,
    categories: dict[str, set[Any]] | None = None,
    units: tuple[int, int] | None = None,
) -> Any:
    """Columns, dtypes, ranges, category sets and null rates, as learnt from train; `ranges` and
    `categories` over all of train's rows where `train` is a sample of it. `units` are the
    independent (train, judged) units behind the rows (entities for sequences); default the rows.
    Every tolerance is one that unseen real data meets: a fresh split passes the suite."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    _context()
    mostly = range_mostly(*(units or (len(train), n_rows)))

    suite = gx.ExpectationSuite(name="synthgen_schema")
    suite.add_expectation(gxe.ExpectTableColumnsToMatchSet(column_set=schema.names, exact_match=True))
    suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    for col in schema.columns:
        values = train[col.name]
        if col.dtype in NUMPY_DTYPES:  # GX names pandas extension dtypes differently; gate.py checks those
            suite.add_expectation(gxe.ExpectColumnValuesToBeOfType(column=col.name, type_=col.dtype))
        null_rate = float(values.isna().mean())
        suite.add_expectation(
            gxe.ExpectColumnValuesToNotBeNull(column=col.name, mostly=_null_floor(null_rate, len(train), n_rows))
        )
        if col.kind in ("numeric", "integer") and col.modelled:
            low, high = _plausible_range(*(ranges or {}).get(col.name, (float(values.min()), float(values.max()))))
            suite.add_expectation(
                gxe.ExpectColumnValuesToBeBetween(column=col.name, min_value=low, max_value=high, mostly=mostly)
            )
        elif col.kind in ("categorical", "boolean") and col.modelled:
            suite.add_expectation(
                gxe.ExpectColumnValuesToBeInSet(
                    column=col.name,
                    value_set=sorted(
                        (categories or {}).get(col.name)
                        or [v.item() if hasattr(v, "item") else v for v in values.dropna().unique()],
                        key=str,
                    ),
                )
            )
        elif col.kind == "datetime" and col.datetime_format and values.dtype == object:
            suite.add_expectation(
                gxe.ExpectColumnValuesToMatchStrftimeFormat(column=col.name, strftime_format=col.datetime_format)
            )
        elif col.kind == "id":
            suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column=col.name))
    return suite


def validate_frame(suite: Any, frame: pd.DataFrame, docs_dir: Path | None = None) -> Any:
    """Run the suite on an in-memory DataFrame; with `docs_dir`, also build GX Data Docs there."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    context = _context()
    name = f"synthgen-{next(_RUNS)}"  # unique within the process, identical across runs
    batch_definition = context.data_sources.add_pandas(name).add_dataframe_asset("synthetic")
    batch_definition = batch_definition.add_batch_definition_whole_dataframe("all")
    if docs_dir is None:
        return batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite)
    with atomic_path(docs_dir) as site:
        context.add_data_docs_site(
            site_name=name,
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site.resolve())},
            },
        )
        suite.name = name
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(data=batch_definition, suite=context.suites.add(suite), name=name)
        )
        docs = gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[name])
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(name=name, validation_definitions=[definition], actions=[docs])
        )
        # A fixed run id keeps the Data Docs byte-identical between identical runs (DVC hashes them).
        run_id = RunIdentifier(run_name="synthgen", run_time=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
        result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=run_id)
    return next(iter(result.run_results.values()))


VOLATILE_KEYS = {"id", "ge_load_time", "checkpoint_id", "validation_id", "run_id", "validation_time", "batch_id"}


def _stable(payload: Any) -> Any:
    """GX results without the ids and timestamps GX adds, so identical runs write identical files."""
    if isinstance(payload, dict):
        return {k: _stable(v) for k, v in payload.items() if k not in VOLATILE_KEYS}
    if isinstance(payload, list):
        return [_stable(v) for v in payload]
    return payload


@CHECKS.register("expectations")
class Expectations(Check):
    name = "expectations"
    kind = "schema"
    direction = "higher_is_better"
    description = "share of the Great Expectations suite (built from real train) that the synthetic set meets"

    def compute(self, ctx: Context) -> Outcome:
        out = ctx.out_dir / "expectations"
        suite = build_suite(
            ctx.schema,
            ctx.train,
            len(ctx.synthetic),
            ctx.cache.get("train_ranges"),
            ctx.cache.get("train_categories"),
            ctx.cache.get("units"),
        )
        # Data Docs sit beside, not inside, expectations/: GX stamps them with load times and ids, so
        # they differ on every run and are left out of DVC's outputs (the JSON below is stable).
        result = validate_frame(suite, ctx.synthetic, ctx.out_dir / "data_docs")
        write_json(_stable(suite.to_json_dict()), out / "suite.json")
        write_json(_stable(result.to_json_dict()), out / "results.json")
        failed = [
            f"{r.expectation_config.type}({r.expectation_config.kwargs.get('column', 'table')})"
            for r in result.results
            if not r.success
        ]
        score = 1 - len(failed) / max(len(result.results), 1)
        return Outcome(score, {"expectations": len(result.results), "failed": failed})
