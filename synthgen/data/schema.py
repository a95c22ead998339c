"""Column kinds and roles: what each column is decides how it is encoded, generated and checked."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from synthgen.errors import SynthgenError

KINDS = ("numeric", "integer", "categorical", "boolean", "datetime", "id", "text")
MODELLED_KINDS = ("numeric", "integer", "categorical", "boolean", "datetime")
NUMERIC_KINDS = ("numeric", "integer", "datetime")  # encoded and compared as numbers
MAX_CLASSES = 20  # a target with more distinct values is treated as a regression target
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
# SDV sdtypes that are personal data; each maps to a Faker provider that makes fresh values.
PII_SDTYPES = {
    "email": "email",
    "phone_number": "phone_number",
    "name": "name",
    "first_name": "first_name",
    "last_name": "last_name",
    "address": "address",
    "street_address": "street_address",
    "city": "city",
    "postcode": "postcode",
    "ssn": "ssn",
    "credit_card_number": "credit_card_number",
    "iban": "iban",
    "ipv4_address": "ipv4",
    "ipv6_address": "ipv6",
    "license_plate": "license_plate",
    "company": "company",
    "job": "job",
    "user_name": "user_name",
    "country": "country",
}


class ColumnOverride(BaseModel):
    """A spec's correction of one inferred column (pipelines/<name>.yaml `columns:`)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["numeric", "integer", "categorical", "boolean", "datetime", "id", "text"] | None = None
    role: Literal["target", "pii", "none"] | None = None
    pii_type: str | None = None


@dataclass
class ColumnSchema:
    name: str
    kind: str
    dtype: str
    role: str | None = None
    pii_type: str | None = None
    datetime_format: str | None = None

    @property
    def modelled(self) -> bool:
        return self.kind in MODELLED_KINDS and self.role != "pii"


@dataclass
class Schema:
    columns: list[ColumnSchema]
    target: str | None = None
    classes: list[Any] = field(default_factory=list)
    constraints: list[dict[str, Any]] = field(default_factory=list)  # data/constraints.py, from the spec

    def column(self, name: str) -> ColumnSchema:
        for col in self.columns:
            if col.name == name:
                return col
        raise SynthgenError(f"column {name!r} is not in the schema; known: {', '.join(self.names)}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def is_classification(self) -> bool:
        return bool(self.classes)

    def to_dict(self) -> dict[str, Any]:
        out = {"columns": [asdict(c) for c in self.columns], "target": self.target, "classes": self.classes}
        return {**out, "constraints": self.constraints} if self.constraints else out  # older hashes stay

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        columns = [ColumnSchema(**c) for c in data["columns"]]
        return cls(columns, data.get("target"), data.get("classes", []), data.get("constraints", []))

    def save(self, path: str | Path) -> None:
        from synthgen.io import write_json

        write_json(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        from synthgen.io import read_json

        return cls.from_dict(read_json(path))

    def hash(self) -> str:
        """Fingerprint stored with a model so it refuses data of another shape."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True, default=str).encode()).hexdigest()[:16]

    def check_frame(self, frame: pd.DataFrame, where: str) -> None:
        """Fail with the fix when a table's columns differ from the schema's."""
        missing = [c for c in self.names if c not in frame.columns]
        extra = [c for c in frame.columns if c not in self.names]
        if missing:
            raise SynthgenError(f"{where}: missing column(s) {missing}; the table must have the training columns")
        if extra:
            raise SynthgenError(f"{where}: unexpected column(s) {extra}; drop them or retrain with them")


def _sdv_sdtypes(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Reuse SDV's detection (names, id-likeness, PII names, datetime formats)."""
    from sdv.metadata import Metadata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        meta = Metadata.detect_from_dataframes({"table": frame})
    return meta.to_dict()["tables"]["table"]["columns"]


def _looks_like_text(values: pd.Series) -> bool:
    sample = values.dropna().astype(str)
    if sample.empty:
        return False
    unique_ratio = sample.nunique() / len(sample)
    return unique_ratio > 0.5 and sample.str.split().str.len().median() >= 3


def _kind_for(frame: pd.DataFrame, name: str, info: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """Return (kind, pii_type, datetime_format) for one column."""
    values = frame[name]
    sdtype = info.get("sdtype", "categorical")
    if sdtype in PII_SDTYPES and not pd.api.types.is_numeric_dtype(values):
        return "text", PII_SDTYPES[sdtype], None
    if values.dtype == object and values.dropna().astype(str).str.match(_EMAIL).mean() > 0.9:
        return "text", "email", None
    if sdtype in PII_SDTYPES:  # numeric codes named like personal data (zip, phone): kept as numbers
        sdtype = "numerical"
    if sdtype == "id":
        return "id", None, None
    if sdtype == "datetime" or pd.api.types.is_datetime64_any_dtype(values):
        return "datetime", None, info.get("datetime_format")
    if pd.api.types.is_bool_dtype(values) or sdtype == "boolean":
        return "boolean", None, None
    if pd.api.types.is_numeric_dtype(values):
        finite = values.dropna().to_numpy(dtype=float)
        if sdtype == "categorical" and not pd.api.types.is_float_dtype(values):
            return "categorical", None, None
        return ("integer" if np.all(np.mod(finite, 1) == 0) else "numeric"), None, None
    if _looks_like_text(values):
        return "text", None, None
    return "categorical", None, None


def infer_schema(
    frame: pd.DataFrame,
    target: str | None = None,
    overrides: dict[str, ColumnOverride] | None = None,
    where: str = "input",
) -> Schema:
    """Infer kinds and roles, apply overrides, and reject columns no model can learn from."""
    overrides = overrides or {}
    for name in [*overrides, *([target] if target else [])]:
        if name not in frame.columns:
            raise SynthgenError(
                f"{where}: column {name!r} not found; columns are: {', '.join(map(str, frame.columns))}"
            )
    _reject_unusable(frame, where)
    detected = _sdv_sdtypes(frame)
    columns = []
    for name in frame.columns:
        kind, pii_type, dt_format = _kind_for(frame, name, detected.get(name, {}))
        col = ColumnSchema(str(name), kind, str(frame[name].dtype), "pii" if pii_type else None, pii_type, dt_format)
        over = overrides.get(name)
        if over is not None:
            col.kind = over.kind or col.kind
            col.role = None if over.role == "none" else (over.role or col.role)
            col.pii_type = over.pii_type or col.pii_type or ("text" if col.role == "pii" else None)
        columns.append(col)
    schema = Schema(columns, target)
    if target:
        _set_target(schema, frame, target, where)
    return schema


def _reject_unusable(frame: pd.DataFrame, where: str) -> None:
    for name in frame.columns:
        values = frame[name]
        if values.isna().all():
            raise SynthgenError(f"{where}: column {name!r} is entirely empty; drop it or fill it")
        if pd.api.types.is_float_dtype(values) and np.isinf(values.to_numpy(dtype=float)).any():
            n_inf = int(np.isinf(values.to_numpy(dtype=float)).sum())
            raise SynthgenError(
                f"{where}: column {name!r} has {n_inf} infinite value(s); replace them with NaN or finite numbers"
            )


def _set_target(schema: Schema, frame: pd.DataFrame, target: str, where: str) -> None:
    col = schema.column(target)
    if col.kind in ("id", "text") or col.role == "pii":
        raise SynthgenError(f"{where}: target {target!r} is an {col.kind or col.role} column; choose a label column")
    if frame[target].isna().any():
        n = int(frame[target].isna().sum())
        raise SynthgenError(
            f"{where}: target {target!r} is missing in {n} row(s); drop those rows or pick another target"
        )
    col.role = "target"
    distinct = frame[target].nunique()
    if col.kind in ("categorical", "boolean") or (col.kind == "integer" and distinct <= MAX_CLASSES):
        if col.kind == "integer":
            col.kind = "categorical"
        schema.classes = sorted(pd.unique(frame[target]).tolist(), key=str)
