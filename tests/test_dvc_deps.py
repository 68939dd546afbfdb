"""Each DVC stage's deps cover every project module its `adan` command imports, directly or not, so a
code change always marks the stages it can affect as changed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from tests.test_architecture import (
    PACKAGE,
    SRC,
    import_graph,
    imported_modules,
    project_modules,
)

ROOT = SRC.parent
CLI = SRC / PACKAGE / "cli"


def stages() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def command_function(command: str) -> tuple[Path, ast.FunctionDef]:
    """The module of cli/ and its function that run ``adan <command>``."""
    wanted = {command.replace("-", "_"), "cmd_" + command.replace("-", "_")}
    for path in sorted(CLI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name in wanted:
                return path, node
    raise AssertionError(f"no function for `adan {command}` in cli/")


def _top_imports(path: Path) -> ast.Module:
    tree = ast.parse(path.read_text())
    return ast.Module(body=[n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], type_ignores=[])


#: The params schema reads the estimators' signatures and constraints (the augmenter, classifier
#: and head specs) to check every block of params.yaml, so params imports them. That import checks
#: keys; it computes nothing a stage writes, and the values a stage reads are its DVC ``params``.
#: So a stage depends on those layers only where its command imports them itself: a change to an
#: estimator does not rerun `prepare` or `extract`.
SCHEMA_ONLY = (f"{PACKAGE}.features", f"{PACKAGE}.augment", f"{PACKAGE}.classifiers")


def _schema_only(source: str, target: str) -> bool:
    return source.startswith(f"{PACKAGE}.params") and target.startswith(SCHEMA_ONLY)


def command_modules(command: str) -> set[str]:
    """Project modules that ``adan <command>`` can import: cli/'s module-level imports, those in
    the command's function, and everything they import in turn (less the schema's reading of the
    estimators, :data:`SCHEMA_ONLY`)."""
    modules = project_modules()
    path, fn = command_function(command)
    start = set()
    # the package (which imports every command module), the group's module, the command's own module
    for part in (_top_imports(CLI / "__init__.py"), _top_imports(CLI / "app.py"), _top_imports(path), fn):
        start |= imported_modules(part, modules)
    graph = import_graph()
    # cli/'s own modules count by their module-level imports (above), not by the lazy imports of
    # the other commands they hold
    cli = {m for m in modules if m == f"{PACKAGE}.cli" or m.startswith(f"{PACKAGE}.cli.")}
    seen, todo = set(cli), [m for m in start if m not in cli]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo += sorted(t for t in graph[m] if not _schema_only(m, t))
    return seen


def covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return any(rel == d or rel.startswith(d.rstrip("/") + "/") for d in deps)


@pytest.mark.parametrize("stage", sorted(stages()))
def test_stage_deps_cover_the_modules_its_command_imports(stage):
    spec = stages()[stage]
    spec = spec.get("do", spec)  # foreach stages
    command = spec["cmd"].split()[1]
    deps = [str(d) for d in spec.get("deps", [])]
    modules = project_modules()
    missing = [m for m in sorted(command_modules(command)) if not covered(modules[m], deps)]
    assert not missing, f"stage {stage}: deps miss {', '.join(modules[m].relative_to(ROOT).as_posix() for m in missing)}"


def test_a_missing_dep_is_reported():
    modules = project_modules()
    assert not covered(modules[f"{PACKAGE}.reporting.report"], ["src/adan_ser/augment", "src/adan_ser/core"])
    assert covered(modules[f"{PACKAGE}.augment.stage"], ["src/adan_ser/augment"])
