"""`synthgen <stage>`: parse arguments → typed params → library call; one-line errors, exit codes.

Each stage runs either for a dataset spec (`--dataset NAME`, as DVC calls it, paths by convention)
or one-shot on explicit files. Exit codes: 0 success, 1 validation gate failed, 2 bad input,
3 internal error (a bug: please report it).
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

from synthgen import image_pipeline, pipeline, sensor_pipeline
from synthgen.config import DatasetSpec, Params, check_names, load_params, load_spec, merged
from synthgen.data.images import IMAGE, LABEL, export_folders
from synthgen.data.schema import Schema
from synthgen.errors import GateFailed, SynthgenError
from synthgen.io import atomic_path, claim_output_dir, mark_output_dir, read_json, read_table
from synthgen.layout import DatasetPaths
from synthgen.sampling.parts import detect_world
from synthgen.sampling.plan import parse_conditions

log = logging.getLogger("synthgen")


def _positive(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synthgen", description=__doc__.splitlines()[0])
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str, dataset: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--params", default="params.yaml", help="params file (default: params.yaml if present)")
        p.add_argument("--seed", type=int, help="overrides params `seed`")
        p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only warnings and errors")
        if dataset:
            p.add_argument("--dataset", help="run for pipelines/NAME.yaml with the conventional paths (as DVC does)")
        return p

    p = command("ingest", "read a raw table, infer its schema, split train/holdout")
    p.add_argument("--source", help="CSV, Parquet (file or directory) or JSON Lines file")
    p.add_argument("--out", help="directory for train.parquet, holdout.parquet, schema.json")
    p.add_argument("--target", help="class or regression target column")
    _sensor_arguments(p)

    p = command("train", "fit a generative model and save it")
    p.add_argument("--data", help="training table (any format ingest reads)")
    p.add_argument("--out", help="model directory to write")
    p.add_argument("--target", help="class or regression target column")
    p.add_argument("--schema", help="schema.json from ingest (default: inferred from --data)")
    p.add_argument("--model", help="registered model name (overrides train.model)")
    p.add_argument("--epochs", type=_positive, help="training epochs (default: the model's own budget)")

    p = command("sample", "draw synthetic rows from a saved model into Parquet")
    p.add_argument("--model", help="model directory written by `synthgen train`")
    p.add_argument("--out", help="Parquet file to write")
    p.add_argument("--rows", type=_positive, help="number of rows (default: sample.multiple x train rows)")
    p.add_argument("--condition", action="append", default=[], metavar="COL=VALUE", help="only rows of this class")
    p.add_argument("--mode", choices=["plain", "balance"], help="balance: rows that even out the classes")
    p.add_argument("--rank", type=int, help="this process's rank when several share the work (else torchrun/SLURM's)")
    p.add_argument("--world-size", type=_positive, help="how many processes share the work; --out becomes a directory")

    p = command("validate", "score a synthetic table; exit 1 when the gate fails")
    p.add_argument("--train", help="real train table")
    p.add_argument("--holdout", help="real holdout table (never trained on)")
    p.add_argument("--synthetic", help="synthetic table to judge")
    p.add_argument("--out", help="directory for metrics.json and expectations/")
    p.add_argument("--target", help="class or regression target column")
    p.add_argument("--schema", help="schema.json from ingest (default: inferred from --train)")

    p = command("augment", "real train + synthetic rows, marked by is_synthetic")
    p.add_argument("--train", help="real train table")
    p.add_argument("--synthetic", help="synthetic Parquet from `synthgen sample`")
    p.add_argument("--out", help="Parquet file to write")
    p.add_argument("--target", help="class target (needed by strategy balance)")
    p.add_argument("--metrics", help="metrics.json from validate of this --synthetic; refuses unless its gate passed")
    p.add_argument("--strategy", choices=["append", "balance"], help="overrides augment.strategy")

    p = command("export", "write a Parquet of images (from sample or augment) as a class-per-folder PNG tree", False)
    p.add_argument("--source", required=True, help="Parquet with `image` (PNG bytes) and `label` columns")
    p.add_argument("--out", required=True, help="directory to create, one subfolder per class")

    p = command("run", "every stage for one file, without DVC", dataset=False)
    p.add_argument("--source", required=True, help="CSV, Parquet (file or directory) or JSON Lines file")
    p.add_argument("--out", required=True, help="output directory: new, empty, or one an earlier run wrote")
    p.add_argument("--target", help="class or regression target column (sensor: the per-entity label)")
    _sensor_arguments(p)
    p.add_argument("--rows", type=_positive, help="synthetic rows, or entities for sensor data (default: x multiple)")
    p.add_argument("--model", help="registered model name")
    p.add_argument("--epochs", type=_positive, help="training epochs (default: the model's own budget)")
    return parser


def _sensor_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--modality",
        choices=["tabular", "sensor", "image"],
        default="tabular",
        help="sensor: sequences per entity; image: a class-folder tree, .npz or a Parquet of image bytes",
    )
    p.add_argument("--entity", help="sensor: entity id column (machine, patient, account)")
    p.add_argument("--time", help="sensor: time column (dates or numbers)")
    p.add_argument("--rate", type=float, help="sensor: resample to one step per RATE (seconds for dates)")
    p.add_argument("--size", type=_positive, help="image: square side in pixels (default: smallest side, <= 64)")


def _sensor_spec(args: argparse.Namespace) -> DatasetSpec:
    """The sensor settings of a one-shot command, checked like a spec."""
    if not (args.entity and args.time):
        raise SynthgenError(f"synthgen {args.command} --modality sensor: give --entity COL and --time COL")
    return DatasetSpec(
        source=str(args.source),
        modality="sensor",
        target=args.target,
        entity=args.entity,
        time=args.time,
        rate=args.rate,
    )


def _need(args: argparse.Namespace, *names: str) -> None:
    missing = [f"--{n}" for n in names if getattr(args, n) is None]
    if missing:
        raise SynthgenError(f"synthgen {args.command}: give {' '.join(missing)} (or --dataset NAME)")


def _section(params: Params, spec: DatasetSpec | None, name: str) -> Any:
    attr = {"validate": "validate_"}.get(name, name)
    section = getattr(params, attr)
    return merged(section, getattr(spec, attr), f"pipelines spec {name}") if spec else section


def _dispatch(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    check_names(params, str(args.params))
    seed = args.seed if args.seed is not None else params.seed
    spec = load_spec(args.dataset) if getattr(args, "dataset", None) else None
    paths = DatasetPaths(args.dataset) if spec else None
    target = getattr(args, "target", None) or (spec.target if spec else None)
    cmd = args.command
    if cmd == "ingest":
        source, out = (spec.source, paths.prepared) if spec else (args.source, args.out)
        if not spec:
            _need(args, "source", "out")
        sensor = (
            spec if spec and spec.modality == "sensor" else _sensor_spec(args) if args.modality == "sensor" else None
        )
        if (spec.modality if spec else args.modality) == "image":
            image_pipeline.ingest(source, out, _section(params, spec, "ingest"), seed, _image_size(args, spec), target)
        elif sensor:
            sensor_pipeline.ingest(
                source,
                out,
                _section(params, spec, "ingest"),
                seed,
                sensor.entity,
                sensor.time,
                target,
                sensor.channels,
                sensor.static,
                sensor.rate,
                sensor.max_length,
            )
        else:
            pipeline.ingest(source, out, _section(params, spec, "ingest"), seed, target, spec.columns if spec else None)
    elif cmd == "train":
        if not spec:
            _need(args, "data", "out")
        train_params = _section(params, spec, "train")
        updates = {k: v for k, v in {"model": args.model, "epochs": args.epochs}.items() if v is not None}
        train_params = train_params.model_copy(update=updates)
        prepared = paths.prepared if spec else Path(args.data).parent
        if _modality(prepared) != "tabular":
            stage = image_pipeline if _modality(prepared) == "image" else sensor_pipeline
            loss_csv = paths.reports / "loss.csv" if spec else None
            data = paths.train if spec else args.data
            stage.train(
                data, stage.load_layout(prepared), paths.model if spec else args.out, train_params, seed, loss_csv
            )
            return
        schema_path = paths.schema if spec else args.schema
        schema = Schema.load(schema_path) if schema_path else None
        pipeline.train(
            paths.train if spec else args.data,
            paths.model if spec else args.out,
            train_params,
            seed,
            target,
            schema,
            loss_csv=paths.reports / "loss.csv" if spec else None,
        )
    elif cmd == "sample":
        if not spec:
            _need(args, "model", "out")
        sample_params = _section(params, spec, "sample")
        updates: dict[str, Any] = {"rows": args.rows, "mode": args.mode}
        if args.condition:
            updates["conditions"] = parse_conditions(args.condition)
        sample_params = sample_params.model_copy(update={k: v for k, v in updates.items() if v is not None})
        model_dir = Path(paths.model if spec else args.model)
        out = paths.synthetic if spec else args.out
        world = detect_world(args.rank, args.world_size)
        if _model_modality(model_dir) == "tabular":
            pipeline.sample(model_dir, out, sample_params, seed, world)
        elif world.size > 1:
            raise SynthgenError(f"{model_dir}: distributed sampling is for tables; run one process for this model")
        else:
            stage = sensor_pipeline if _model_modality(model_dir) == "sensor" else image_pipeline
            stage.sample(model_dir, out, sample_params, seed)
    elif cmd == "validate":
        if not spec:
            _need(args, "train", "holdout", "synthetic", "out")
        prepared = paths.prepared if spec else Path(args.train).parent
        if _modality(prepared) != "tabular":
            stage = image_pipeline if _modality(prepared) == "image" else sensor_pipeline
            stage.validate(
                paths.train if spec else args.train,
                paths.holdout if spec else args.holdout,
                paths.synthetic if spec else args.synthetic,
                stage.load_layout(prepared),
                paths.reports if spec else args.out,
                _section(params, spec, "validate"),
                seed,
            )
            return
        schema_path = paths.schema if spec else args.schema
        pipeline.validate(
            paths.train if spec else args.train,
            paths.holdout if spec else args.holdout,
            paths.synthetic if spec else args.synthetic,
            paths.reports if spec else args.out,
            _section(params, spec, "validate"),
            seed,
            Schema.load(schema_path) if schema_path else None,
            target,
        )
    elif cmd == "augment":
        if not spec:
            _need(args, "train", "synthetic", "out", "metrics")
        augment_params = _section(params, spec, "augment")
        if args.strategy:
            augment_params = augment_params.model_copy(update={"strategy": args.strategy})
        prepared = paths.prepared if spec else Path(args.train).parent
        if _modality(prepared) == "sensor" and augment_params.strategy == "balance":
            raise SynthgenError(
                "augment.strategy balance counts rows; for sensor data sample with sample.mode: balance "
                "(whole entities per class) and augment with strategy append"
            )
        pipeline.augment(
            paths.train if spec else args.train,
            paths.synthetic if spec else args.synthetic,
            paths.augmented if spec else args.out,
            augment_params,
            paths.reports / "metrics.json" if spec else args.metrics,
            LABEL if _modality(prepared) == "image" else target,
        )
    elif cmd == "export":
        _export(args.source, Path(args.out))
    elif cmd == "run":
        {"sensor": _run_sensor, "image": _run_image}.get(args.modality, _run)(args, params, seed)


def _modality(prepared: Path) -> str:
    """What ingest wrote: a sensor or image layout beside the tables, or neither."""
    if (prepared / image_pipeline.LAYOUT).exists():
        return "image"
    return "sensor" if (prepared / sensor_pipeline.LAYOUT).exists() else "tabular"


def _model_modality(model_dir: Path) -> str:
    config = model_dir / "config.json"
    return read_json(config).get("modality", "tabular") if config.exists() else "tabular"


def _image_size(args: argparse.Namespace, spec: DatasetSpec | None) -> int | None:
    return spec.image_size if spec else getattr(args, "size", None)


def _export(source: str, out: Path) -> None:
    frame = read_table(source)
    missing = [c for c in (IMAGE, LABEL) if c not in frame.columns]
    if missing:
        raise SynthgenError(f"{source}: column(s) {missing} missing; export reads image tables written by synthgen")
    with atomic_path(out) as tmp:
        tmp.mkdir(parents=True)
        n = export_folders(frame, tmp)
    log.info("export: %d images into %s", n, out)


def _run_image(args: argparse.Namespace, params: Params, seed: int) -> None:
    """`run` for images: the same stages and outputs, one Parquet row per image."""

    def ingest(prepared: Path) -> Any:
        return image_pipeline.ingest(args.source, prepared, params.ingest, seed, args.size, args.target)

    _run_modality(args, params, seed, image_pipeline, "image_ddpm", ingest, params.augment, LABEL)


def _run_sensor(args: argparse.Namespace, params: Params, seed: int) -> None:
    """`run` for sensor data: the same stages and outputs, entities as the unit, long format kept."""
    spec = _sensor_spec(args)

    def ingest(prepared: Path) -> Any:
        return sensor_pipeline.ingest(
            args.source, prepared, params.ingest, seed, spec.entity, spec.time, args.target, rate=spec.rate
        )

    append = params.augment.model_copy(update={"strategy": "append"})  # balance counts rows, not entities
    _run_modality(args, params, seed, sensor_pipeline, "sensor_ddpm", ingest, append, None)


def _run_modality(
    args: argparse.Namespace,
    params: Params,
    seed: int,
    stage: Any,
    default_model: str,
    ingest: Any,
    augment: Any,
    target: str | None,
) -> None:
    """Every stage of a sensor or image `stage` module, built in a temporary sibling of --out."""
    updates = {k: v for k, v in {"model": args.model or default_model, "epochs": args.epochs}.items() if v is not None}
    train_params = params.train.model_copy(update={**updates, "model_config_": {}} if args.model is None else updates)
    check_names(params.model_copy(update={"train": train_params}), "--model/--params")
    gate_failure: GateFailed | None = None
    claim_output_dir(args.out)
    with atomic_path(args.out) as out:
        out.mkdir(parents=True)
        mark_output_dir(out)
        layout = ingest(out / "prepared")
        train, holdout = out / "prepared" / "train.parquet", out / "prepared" / "holdout.parquet"
        stage.train(train, layout, out / "model", train_params, seed, out / "loss.csv")
        sample_params = params.sample.model_copy(update={"rows": args.rows} if args.rows is not None else {})
        stage.sample(out / "model", out / "synthetic.parquet", sample_params, seed)
        try:
            stage.validate(train, holdout, out / "synthetic.parquet", layout, out, params.validate_, seed)
        except GateFailed as exc:
            gate_failure = GateFailed(str(exc).replace(str(out), str(args.out)))
        if gate_failure is None:
            pipeline.augment(
                train, out / "synthetic.parquet", out / "augmented.parquet", augment, out / "metrics.json", target
            )
    log.info("run: outputs in %s", args.out)
    if gate_failure is not None:
        raise gate_failure


def _run(args: argparse.Namespace, params: Params, seed: int) -> None:
    """All stages, built in a temporary sibling of --out that replaces it at the end.

    Bad input leaves --out untouched; a failed gate still delivers its metrics and report (but no
    augmented.parquet), since that is what a reviewer needs to see.
    """
    updates = {k: v for k, v in {"model": args.model, "epochs": args.epochs}.items() if v is not None}
    train_params = params.train.model_copy(update=updates)
    check_names(params.model_copy(update={"train": train_params}), "--model/--params")
    gate_failure: GateFailed | None = None
    claim_output_dir(args.out)
    with atomic_path(args.out) as out:
        out.mkdir(parents=True)
        mark_output_dir(out)
        pipeline.ingest(args.source, out / "prepared", params.ingest, seed, args.target)
        schema = Schema.load(out / "prepared" / "schema.json")
        train, holdout = out / "prepared" / "train.parquet", out / "prepared" / "holdout.parquet"
        pipeline.train(train, out / "model", train_params, seed, args.target, schema, loss_csv=out / "loss.csv")
        sample_params = params.sample.model_copy(update={"rows": args.rows} if args.rows is not None else {})
        pipeline.sample(out / "model", out / "synthetic.parquet", sample_params, seed)
        try:
            pipeline.validate(train, holdout, out / "synthetic.parquet", out, params.validate_, seed, schema)
        except GateFailed as exc:  # name the final directory, not the temporary one
            gate_failure = GateFailed(str(exc).replace(str(out), str(args.out)))
        if gate_failure is None:
            pipeline.augment(
                train,
                out / "synthetic.parquet",
                out / "augmented.parquet",
                params.augment,
                out / "metrics.json",
                args.target,
            )
    log.info("run: outputs in %s", args.out)
    if gate_failure is not None:
        raise gate_failure


def _quiet_libraries() -> None:
    """Keep the terminal to what synthgen did; library chatter goes to warnings level."""
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric", "great_expectations"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(name)s %(levelname)s: %(message)s", stream=sys.stderr, force=True
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("synthgen: %(message)s"))
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.WARNING if args.quiet else logging.INFO)
    _quiet_libraries()
    try:
        _dispatch(args)
    except GateFailed as exc:
        print(f"synthgen: gate failed: {exc}", file=sys.stderr)
        return 1
    except SynthgenError as exc:
        print(f"synthgen: error: {exc}", file=sys.stderr)
        return 2
    except Exception:  # the CLI boundary: a bug must not look like a gate failure (1) or bad input (2)
        traceback.print_exc()
        print("synthgen: internal error (exit 3): please report it with the traceback above", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
