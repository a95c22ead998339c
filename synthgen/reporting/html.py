"""One self-contained HTML report per dataset: verdicts first, then the evidence behind them."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import NUMERIC_KINDS, Schema
from synthgen.encoding.columns import to_float
from synthgen.io import atomic_path
from synthgen.reporting import figures
from synthgen.validation.distance import DistanceSpace, nearest

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222}
h1{margin-bottom:.2rem} .banner{padding:.8rem 1rem;border-radius:6px;font-size:1.3rem;font-weight:600;margin:1rem 0}
.passed{background:#e6f4ea;color:#137333}.failed{background:#fce8e6;color:#a50e0e}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ddd;padding:.3rem .6rem;font-size:.9rem;text-align:left}
th{background:#f5f5f5}.pass{color:#137333;font-weight:600}.fail{color:#a50e0e;font-weight:600}
.warn{color:#b06000;font-weight:600}.skipped,.off{color:#777}
.inconclusive,.accepted_inconclusive,.unsafe{color:#a50e0e;font-weight:600}
.grid{display:flex;flex-wrap:wrap;gap:.5rem}.grid img{border:1px solid #eee}
"""
SCRIPT = """window.addEventListener('load', function () {
  var n = 0;
  for (var i of document.images) { if (i.complete && i.naturalWidth > 0) n++; }
  document.body.setAttribute('data-figures-loaded', String(n));
});"""


def escape(value: Any) -> str:
    return html.escape(str(value))


def _table(header: list[str], rows: list[list[Any]], table_id: str = "", raw_cols: tuple[int, ...] = ()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell if i in raw_cols else escape(cell)}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table{f' id={table_id!r}' if table_id else ''}><tr>{head}</tr>{body}</table>"


def _exceptions(metrics: dict[str, Any]) -> str:
    """The gate's exceptions, in red above the verdicts: privacy checks loosened by `allow_unsafe`, and
    fail-level checks whose inconclusive result `accept_inconclusive` let through."""
    notes = [
        f"UNSAFE: {escape(name)} is looser than shipped ({escape(reason)})"
        for name, reason in metrics.get("allow_unsafe", {}).items()
    ]
    notes += [
        f"ACCEPTED INCONCLUSIVE: {escape(name)} could not be computed and did not block the gate"
        for name in metrics.get("accepted_inconclusive", [])
    ]
    return "".join(f'<p class="unsafe">{note}</p>' for note in notes)


def privacy_line(metrics: dict[str, Any]) -> str:
    """The set's formal guarantee, first thing under the verdicts: its model's (epsilon, delta)."""
    if metrics.get("dp_epsilon") is None:
        return ""
    return (
        f'<p class="dp" id="dp">Differential privacy: the model that drew this set is '
        f"(&epsilon; = {metrics['dp_epsilon']:.3g}, &delta; = {metrics['dp_delta']:.2g})-DP with respect to each "
        "train record (a row, or a whole entity of sensor data).</p>"
    )


def verdict_table(metrics: dict[str, Any]) -> str:
    rows = []
    for name, c in metrics["checks"].items():
        score = "-" if c["score"] is None else f"{c['score']:.4g}"
        sign = "≥" if c["direction"] == "higher_is_better" else "≤"
        verdict = f'<span class="{c["verdict"]}">{c["verdict"].upper()}</span>'
        if "unsafe" in c:
            verdict += f' <span class="unsafe">UNSAFE: {escape(c["unsafe"])}</span>'
        rows.append(
            [
                name,
                c["kind"],
                score,
                f"{sign} {c['threshold']:g}",
                c["level"],
                verdict,
                c.get("reason") or c.get("description", ""),
            ]
        )
    return (
        privacy_line(metrics)
        + _exceptions(metrics)
        + _table(
            ["check", "kind", "score", "threshold", "level", "verdict", "what / why skipped"], rows, "verdicts", (5,)
        )
    )


def _utility(metrics: dict[str, Any]) -> str:
    utility = metrics["checks"].get("utility", {}).get("details") or {}
    gain = metrics["checks"].get("augmentation_gain", {}).get("details") or {}
    if not utility and not gain:
        return "<p>No utility scores (no target column, or skipped: see the verdict table).</p>"
    runs = {
        "train on real (TRTR)": utility.get("trtr") or gain.get("real"),
        "train on synthetic (TSTR)": utility.get("tstr"),
        "train on real + synthetic": gain.get("augmented"),
    }
    rows = [[label] + [f"{v:.4f}" for v in scores.values()] for label, scores in runs.items() if scores]
    header = ["trained on → scored on the real holdout", *next(s for s in runs.values() if s)]
    out = _table(header, rows, "utility")
    minority = gain.get("minority_classes") or {}
    if minority:
        cls_rows = [[cls, *(f"{v:.3f}" for v in vals.values())] for cls, vals in minority.items()]
        out += "<h3>Minority classes</h3>" + _table(["class", *next(iter(minority.values()))], cls_rows, "minority")
    return out


def _numeric_frame(frame: pd.DataFrame, schema: Schema, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: to_float(frame[c], schema.column(c)) for c in columns})


def _expectations(out_dir: Path) -> str:
    path = out_dir / "expectations" / "results.json"
    if not path.exists():
        return "<p>No Great Expectations results (the check was skipped or off).</p>"
    results = json.loads(path.read_text())["results"]
    rows = []
    for r in results:
        config = r["expectation_config"]
        kwargs = {k: v for k, v in config["kwargs"].items() if k not in ("batch_id", "column")}
        unexpected = r.get("result", {}).get("unexpected_percent")
        verdict = '<span class="pass">PASS</span>' if r["success"] else '<span class="fail">FAIL</span>'
        rows.append(
            [
                config["type"],
                config["kwargs"].get("column", "(table)"),
                json.dumps(kwargs, default=str)[:120],
                "-" if unexpected is None else f"{unexpected:.2f}%",
                verdict,
            ]
        )
    link = (
        '<p>Raw results: <a href="expectations/results.json">expectations/results.json</a>, suite: '
        '<a href="expectations/suite.json">expectations/suite.json</a>, Great Expectations Data Docs: '
        '<a id="data-docs" href="data_docs/index.html">data_docs/index.html</a> '
        "(their styling loads from a CDN; the table below is the same content, offline).</p>"
    )
    return link + _table(["expectation", "column", "arguments", "unexpected", "verdict"], rows, "expectations", (4,))


def write_report(
    metrics: dict[str, Any],
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    out_dir: Path,
    title: str,
) -> Path:
    """Write report.html (figures embedded) and dcr.csv (for `dvc plots show`) into `out_dir`."""
    columns = [c.name for c in schema.columns if c.modelled]
    numeric = [c for c in columns if schema.column(c).kind in NUMERIC_KINDS]
    sections = [
        f"<h1>{escape(title)}</h1>",
        f'<div class="banner {"passed" if metrics["passed"] else "failed"}">Gate '
        f"{'PASSED' if metrics['passed'] else 'FAILED'}: {metrics['rows']['synthetic']:,} synthetic rows, "
        f"{metrics['rows']['train']:,} train, {metrics['rows']['holdout']:,} holdout</div>",
        "<h2>Verdicts</h2>",
        verdict_table(metrics),
        "<h2>Utility</h2>",
        _utility(metrics),
    ]

    images = []
    for name in columns:
        is_num = name in numeric
        real = to_float(train[name], schema.column(name)) if is_num else train[name]
        synth = to_float(synthetic[name], schema.column(name)) if is_num else synthetic[name]
        images.append(figures.distribution(name, pd.Series(real), pd.Series(synth), is_num))
    sections += [
        "<h2>Columns: real vs synthetic</h2>",
        '<div class="grid" id="distributions">'
        + "".join(f'<img alt="distribution" src="{i}">' for i in images)
        + "</div>",
    ]
    if len(numeric) >= 2:
        heat = figures.correlation_heatmaps(
            _numeric_frame(train, schema, numeric), _numeric_frame(synthetic, schema, numeric)
        )
        sections += [
            "<h2>Correlations (numeric columns)</h2>",
            f'<img id="correlations" alt="correlations" src="{heat}">',
        ]

    if columns:
        space = DistanceSpace(schema, train, columns)
        t = space.embed(train)
        synth_d, hold_d = nearest(t, space.embed(synthetic))[:, 0], nearest(t, space.embed(holdout))[:, 0]
        sections += [
            "<h2>Distance to closest record</h2>",
            "<p>Synthetic rows should sit no closer to train rows than unseen real (holdout) rows do.</p>",
            f'<img id="dcr" alt="DCR histogram" src="{figures.dcr_histogram(synth_d, hold_d)}">',
        ]
        write_dcr_plot(synth_d, hold_d, out_dir / "dcr.csv")
    sections += loss_section(out_dir)
    sections += ["<h2>Schema (Great Expectations)</h2>", _expectations(out_dir)]
    sections += ["<h2>Constraints</h2>", constraints_table(metrics)]
    return write_page(sections, title, out_dir)


def constraints_table(metrics: dict[str, Any], check: str = "constraints", unit: str = "rows") -> str:
    """Each declared rule and the share of synthetic rows (or entities) that keep it."""
    held = (metrics["checks"].get(check, {}).get("details") or {}).get("held") or {}
    if not held:
        return "<p>No constraints declared (the spec's <code>constraints:</code>; ingest logs the ones it found).</p>"
    rows = [[rule, f"{share:.4f}"] for rule, share in held.items()]
    return _table(["rule", f"share of synthetic {unit} that keep it"], rows, "constraints")


def loss_section(out_dir: Path) -> list[str]:
    loss = out_dir / "loss.csv"
    if not loss.exists():
        return []
    curve = pd.read_csv(loss)
    if curve.drop(columns=["step"], errors="ignore").isna().all().all():
        return ["<h2>Training loss</h2>", "<p>Not recorded (a differentially private fit releases no losses).</p>"]
    return ["<h2>Training loss</h2>", f'<img id="loss" alt="loss curve" src="{figures.loss_curve(curve)}">']


def write_page(sections: list[str], title: str, out_dir: Path) -> Path:
    """report.html with styles, script and figures inline: it renders offline."""
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title><style>{STYLE}</style>"
        f"<script>{SCRIPT}</script></head><body>{''.join(sections)}</body></html>"
    )
    dest = out_dir / "report.html"
    with atomic_path(dest) as tmp:
        tmp.write_text(page)
    return dest


def write_dcr_plot(synth_d: np.ndarray, hold_d: np.ndarray, dest: Path) -> None:
    """Histogram densities on shared bins, one row per bin: what `dvc plots show` draws."""
    edges = np.histogram_bin_edges(np.r_[synth_d, hold_d], bins=30)
    frame = pd.DataFrame(
        {
            "distance": ((edges[:-1] + edges[1:]) / 2).round(6),
            "synthetic": np.histogram(synth_d, edges, density=True)[0].round(6),
            "holdout": np.histogram(hold_d, edges, density=True)[0].round(6),
        }
    )
    with atomic_path(dest) as tmp:
        frame.to_csv(tmp, index=False)
