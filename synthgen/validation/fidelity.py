"""SDMetrics' QualityReport: column shapes, column pair trends and their mean."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from synthgen.data.schema import Schema
from synthgen.registry import CHECKS
from synthgen.validation.base import Check, CheckSkipped, Context, Outcome

_SDTYPES = {"numeric": "numerical", "integer": "numerical", "categorical": "categorical",
            "boolean": "categorical", "datetime": "datetime"}


def sdmetrics_metadata(schema: Schema, columns: list[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for name in columns:
        col = schema.column(name)
        meta[name] = {"sdtype": _SDTYPES[col.kind]}
        if col.kind == "datetime" and col.datetime_format:
            meta[name]["datetime_format"] = col.datetime_format
    return {"columns": meta}


def _quality(ctx: Context) -> tuple[float, pd.DataFrame, pd.DataFrame]:
    from sdmetrics.reports.single_table import QualityReport

    columns = [c for c in ctx.modelled_columns if ctx.train[c].nunique(dropna=False) > 1]
    if not columns:
        raise CheckSkipped("no column with more than one value to compare")
    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(ctx.train[columns], ctx.synthetic[columns], sdmetrics_metadata(ctx.schema, columns), verbose=False)
    properties = report.get_properties().set_index("Property")["Score"]
    return float(report.get_score()), properties, report.get_details("Column Shapes")


class _QualityCheck(Check):
    kind = "fidelity"
    direction = "higher_is_better"
    prop: str | None = None

    def compute(self, ctx: Context) -> Outcome:
        overall, properties, shapes = ctx.cached("quality", lambda: _quality(ctx))
        if self.prop is None:
            return Outcome(overall, {p: round(float(s), 4) for p, s in properties.items()})
        score = float(properties[self.prop])
        if pd.isna(score):
            raise CheckSkipped(f"SDMetrics could not compute {self.prop} on these columns")
        details = {}
        if self.prop == "Column Shapes":
            details = {str(r["Column"]): round(float(r["Score"]), 4) for _, r in shapes.iterrows()}
        return Outcome(score, details)


@CHECKS.register("quality")
class Quality(_QualityCheck):
    name = "quality"
    description = "SDMetrics quality: mean of column shapes and column pair trends (1 = identical)"


@CHECKS.register("column_shapes")
class ColumnShapes(_QualityCheck):
    name = "column_shapes"
    prop = "Column Shapes"
    description = "mean KSComplement (numeric, datetime) / TVComplement (categorical) per column"


@CHECKS.register("column_pair_trends")
class ColumnPairTrends(_QualityCheck):
    name = "column_pair_trends"
    prop = "Column Pair Trends"
    description = "mean correlation / contingency similarity over column pairs"
