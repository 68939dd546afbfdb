"""Data flows one way: every import of a project module points to the same or an earlier layer, and
the module import graph has no cycle (lazy imports inside functions count as edges too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "adan_ser"

#: Layers in data-flow order; a module may import only from its own layer or an earlier one.
LAYERS = [
    ("adan_ser", "adan_ser.core"),      # package root (version) and the foundation
    ("adan_ser.contracts",),            # folds, align, synthetic-set store, results schema, manifest
    ("adan_ser.corpora",),
    ("adan_ser.features",),
    ("adan_ser.augment",),
    ("adan_ser.classifiers",),
    ("adan_ser.evaluation",),
    ("adan_ser.reporting",),
    ("adan_ser.params",),
    ("adan_ser.cli",),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                # the package root only claims the root itself, not every sub-package
                if prefix == PACKAGE and module != PACKAGE:
                    continue
                best, best_len = i, len(prefix)
    if best is None:
        raise AssertionError(f"module {module} is in no layer; add it to LAYERS")
    return best


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def imported_modules(source: Path | ast.AST, modules: dict[str, Path]) -> set[str]:
    """Project modules a file (or a parsed tree) imports anywhere: module level or inside functions."""
    tree = source if isinstance(source, ast.AST) else ast.parse(source.read_text(), filename=str(source))
    out = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            # the longest project module that the name denotes or lies in
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name.startswith(PACKAGE):
                out.add(name)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph = {}
    for name, path in modules.items():
        deps = imported_modules(path, modules) - {name}
        # `from adan_ser.core import errors` names the package too; a package __init__ is not an edge
        graph[name] = {d for d in deps if not (modules[d].name == "__init__.py" and any(
            e.startswith(d + ".") for e in deps))}
    return graph


def test_every_module_is_in_a_layer():
    for name in project_modules():
        layer_of(name)


def test_no_import_points_to_a_later_stage():
    backwards = [f"{m} (layer {layer_of(m)}) imports {d} (layer {layer_of(d)})"
                 for m, deps in import_graph().items() for d in sorted(deps) if layer_of(d) > layer_of(m)]
    assert not backwards, "\n".join(backwards)


def test_import_graph_has_no_cycle():
    graph = import_graph()
    state: dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep):] + [dep]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_the_checks_catch_a_backward_edge(tmp_path):
    """The walker sees lazy imports: a function-level import of a later stage is reported."""
    src = tmp_path / "adan_ser"
    (src / "contracts").mkdir(parents=True)
    (src / "reporting").mkdir()
    for f in ["__init__.py", "contracts/__init__.py", "reporting/__init__.py", "reporting/report.py"]:
        (src / f).write_text("")
    (src / "contracts" / "folds.py").write_text("def f():\n    from adan_ser.reporting.report import x\n")
    mods = {".".join(p.relative_to(tmp_path).with_suffix("").parts).removesuffix(".__init__"): p
            for p in sorted(src.rglob("*.py"))}
    deps = imported_modules(src / "contracts" / "folds.py", mods)
    assert "adan_ser.reporting.report" in deps
    assert layer_of("adan_ser.reporting.report") > layer_of("adan_ser.contracts.folds")


#: A module holds one job and a class one concept: past these sizes, split by job.
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 300


def test_modules_and_classes_stay_small():
    too_big = []
    for name, path in project_modules().items():
        text = path.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_big.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES:
                too_big.append(f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert not too_big, "; ".join(too_big)
