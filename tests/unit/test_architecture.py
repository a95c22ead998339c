"""The layout is the architecture: no lower layer imports a higher one, no private name crosses modules.

Layers, lowest first (README "Architecture"): the plumbing (errors, registry, io, logs, layout), data
and encoding, config, the learning parts (models, sampling, training), the synthesizer base,
validation and reporting, modalities, stages, and the CLI on top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "synthgen"
LAYERS = [
    {"errors", "registry", "io", "logs", "layout"},
    {"data", "encoding", "privacy"},
    {"config"},
    {"models", "sampling", "training"},
    {"synthesizer"},
    {"validation", "reporting"},
    {"modalities"},
    {"stages"},
    {"cli", "__init__"},
]


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    return next(i for i, names in enumerate(LAYERS) if top in names)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) of every synthgen import in the file, function-level ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("synthgen"):
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.startswith("synthgen")]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_lower_layer_imports_a_higher_one(path):
    me = _name(path)
    upward = [m for m, _ in _imports(path) if m != "synthgen" and _layer(m) > _layer(me)]
    assert not upward, f"{me} (layer {_layer(me)}) imports {upward}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_name_crosses_modules(path):
    private = [f"{m}.{n}" for m, names in _imports(path) for n in names if n.startswith("_") and n != "__version__"]
    assert not private, f"{_name(path)} imports private names {private}"
