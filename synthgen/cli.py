"""`synthgen <stage>`: parse arguments → typed params → a stage call; one-line errors, exit codes.

Each stage runs either for a dataset spec (`--dataset NAME`, as DVC calls it, paths by convention)
or one-shot on explicit files. Exit codes: 0 success, 1 validation gate failed, 2 bad input,
3 internal error (a bug: please report it).

Every option is one row of OPTIONS: its flag, where its value goes (`spec.<field>` of the dataset
spec, `<section>.<field>` of params, `path.<name>` or `world.<rank|size>`) and its help. `resolve`
merges params.yaml, the spec and the flags in that order, in one place. Heavy libraries are
imported only once a command runs, so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import Any


def _positive(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


TARGET = ("--target", "spec.target", {"help": "class or regression target column (sensor: the per-entity label)"})
MODALITY = ("--modality", "spec.modality", {"help": "tabular (default), sensor, image, or another registered one"})
SOURCE_KINDS = "CSV, Parquet (file or directory), JSON Lines; images: a class-folder tree, .npz or Parquet"
DATA_OPTIONS = [
    ("--source", "spec.source", {"help": SOURCE_KINDS}),
    TARGET,
    MODALITY,
    ("--entity", "spec.entity", {"help": "sensor: entity id column (machine, patient, account)"}),
    ("--time", "spec.time", {"help": "sensor: time column (dates or numbers)"}),
    ("--rate", "spec.rate", {"type": float, "help": "sensor: resample to one step per RATE (seconds for dates)"}),
    ("--size", "spec.image_size", {"type": _positive, "help": "image: square side in pixels (default: <= 64)"}),
]
EPOCHS = ("--epochs", "train.epochs", {"type": _positive, "help": "training epochs (default: the model's budget)"})
ROWS = ("--rows", "sample.rows", {"type": _positive, "help": "rows, entities or images (default: x multiple)"})
HELP = {
    "ingest": "read a raw source, infer its layout, split train/holdout",
    "train": "fit a generative model and save it",
    "sample": "draw synthetic rows from a saved model into Parquet",
    "validate": "score a synthetic set; exit 1 when the gate fails",
    "augment": "real train + synthetic rows, marked by is_synthetic",
    "export": "write a set in its modality's native form (images: a class-per-folder PNG tree)",
    "run": "every stage for one source, without DVC",
}
NO_DATASET = {"export"}  # one-shot only (run --dataset NAME: the spec, written into --out)
# command: its options, each (flag, where the value goes, argparse keywords)
OPTIONS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "ingest": [
        *DATA_OPTIONS,
        ("--out", "path.prepared", {"help": "directory for train.parquet, holdout.parquet, layout.json"}),
    ],
    "train": [
        ("--data", "path.train", {"help": "training table (as ingest wrote it, or any table)"}),
        ("--out", "path.model", {"help": "model directory to write"}),
        TARGET,
        ("--schema", "path.schema", {"help": "tables: schema.json (default: ingest's beside --data, or inferred)"}),
        ("--model", "train.model", {"help": "registered model name (overrides train.model)"}),
        EPOCHS,
    ],
    "sample": [
        ("--model", "path.model", {"help": "model directory written by `synthgen train`"}),
        ("--out", "path.synthetic", {"help": "Parquet file to write"}),
        ROWS,
        ("--condition", "sample.conditions", {"action": "append", "metavar": "COL=VALUE", "help": "only this class"}),
        ("--mode", "sample.mode", {"choices": ["plain", "balance"], "help": "balance: even out the classes"}),
        ("--rank", "world.rank", {"type": int, "help": "this process's rank (default: torchrun/SLURM's)"}),
        ("--world-size", "world.size", {"type": _positive, "help": "processes sharing it; --out: a directory"}),
    ],
    "validate": [
        ("--train", "path.train", {"help": "real train table"}),
        ("--holdout", "path.holdout", {"help": "real holdout table (never trained on)"}),
        ("--synthetic", "path.synthetic", {"help": "synthetic table to judge"}),
        ("--out", "path.reports", {"help": "directory for metrics.json, report.html and expectations/"}),
        TARGET,
        ("--schema", "path.schema", {"help": "tables: schema.json (default: ingest's beside --train)"}),
    ],
    "augment": [
        ("--train", "path.train", {"help": "real train table"}),
        ("--synthetic", "path.synthetic", {"help": "synthetic Parquet from `synthgen sample`"}),
        ("--out", "path.augmented", {"help": "Parquet file to write"}),
        TARGET,
        ("--metrics", "path.metrics", {"help": "metrics.json of validate on this --synthetic; its gate must pass"}),
        ("--strategy", "augment.strategy", {"choices": ["append", "balance"], "help": "overrides augment.strategy"}),
    ],
    "export": [
        ("--source", "path.source", {"help": "Parquet from sample or augment"}),
        ("--out", "path.export", {"help": "directory to create"}),
        ("--modality", "spec.modality", {"default": "image", "help": "the set's modality (default: image)"}),
    ],
    "run": [
        *DATA_OPTIONS,
        ("--out", "path.out", {"help": "output directory: new, empty, or one an earlier run wrote"}),
        ROWS,
        ("--model", "train.model", {"help": "registered model name (default: the modality's own)"}),
        EPOCHS,
    ],
}


def _required(dest: str) -> bool:
    """Every path a command names, and the source; the --dataset convention fills them in."""
    return (dest.startswith("path.") and dest != "path.schema") or dest == "spec.source"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synthgen", description=__doc__.splitlines()[0])
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, options in OPTIONS.items():
        p = sub.add_parser(name, help=HELP[name], description=HELP[name])
        p.add_argument("--params", default="params.yaml", help="params file (default: params.yaml if present)")
        p.add_argument("--seed", type=int, help="overrides params `seed`")
        p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only warnings and errors")
        if name not in NO_DATASET:
            p.add_argument("--dataset", help="run for pipelines/NAME.yaml with the conventional paths (as DVC does)")
        for flag, dest, kwargs in options:
            p.add_argument(flag, dest=dest, **kwargs)
    return parser


def resolve(args: argparse.Namespace) -> tuple[Any, Any, dict[str, Any], int]:
    """The typed params and spec (config.resolve merges file, spec and flags), the paths the
    command reads and writes, and the seed."""
    from synthgen.config import resolve as merge
    from synthgen.errors import SynthgenError
    from synthgen.layout import DatasetPaths

    name = getattr(args, "dataset", None)
    flags = {k: v for k, v in vars(args).items() if "." in k and v is not None}
    params, spec = merge(args.params, name, flags, f"synthgen {args.command}")
    paths = DatasetPaths(name).conventional() if name else {}
    paths.update({k[5:]: v for k, v in flags.items() if k.startswith("path.")})
    given = {**{f"path.{k}": v for k, v in paths.items()}, **{f"spec.{k}": v for k, v in spec.model_dump().items()}}
    missing = [flag for flag, dest, _ in OPTIONS[args.command] if _required(dest) and not given.get(dest)]
    if missing:
        also = " (or --dataset NAME)" if "dataset" in args else ""
        raise SynthgenError(f"synthgen {args.command}: give {' '.join(missing)}{also}")
    return params, spec, paths, args.seed if args.seed is not None else params.seed


def dispatch(args: argparse.Namespace) -> None:
    """One stage call per command, on the resolved params, spec and paths."""
    from synthgen import stages
    from synthgen.sampling.parts import detect_world

    params, spec, p, seed = resolve(args)
    world = lambda: detect_world(vars(args).get("world.rank"), vars(args).get("world.size"))  # noqa: E731
    if args.command != "run":  # run checks the names once it has chosen the modality's model
        stages.check_names(params, str(args.params))
    calls = {
        "ingest": lambda: stages.ingest(spec, p["prepared"], params.ingest, seed),
        "train": lambda: stages.train(p["train"], p["model"], params.train, seed, spec, p.get("schema"), p.get("loss")),
        "sample": lambda: stages.sample(
            p["model"], p["synthetic"], params.sample, seed, world(), params.train.accelerator
        ),
        "validate": lambda: stages.validate(
            p["train"], p["holdout"], p["synthetic"], p["reports"], params.validate_, seed, spec, p.get("schema")
        ),
        "augment": lambda: stages.augment(
            p["train"], p["synthetic"], p["augmented"], params.augment, p["metrics"], spec.target
        ),
        "export": lambda: stages.export(p["source"], p["export"], spec.modality),
        "run": lambda: stages.run(spec, p["out"], params, seed),
    }
    calls[args.command]()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from synthgen.errors import GateFailed, SynthgenError
    from synthgen.logs import configure_logging

    configure_logging(args.quiet)

    try:
        dispatch(args)
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
