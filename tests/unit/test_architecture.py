"""The module map of docs/architecture.md, checked: imports go one way, no circle, none in a function.

Each module of ``odm`` is on a floor (the pure floor, I/O, the document on top, the tools above it).
A module imports at run time only from its own floor or the ones below; imports under
``if TYPE_CHECKING:`` are for annotations and may point up. Run alone with
``pytest tests/unit/test_architecture.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ODM = Path(__file__).resolve().parents[2] / "odm"

# The floors, bottom to top: the first prefix that matches a module names its floor.
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("pure", ("odm.errors", "odm._core", "odm.fields", "odm.meta", "odm.mapping", "odm.expressions", "odm.aggs")),
    ("io", ("odm._sending", "odm.connections", "odm.search", "odm.update_by_query", "odm.analysis", "odm.index", "odm.bulk",
            "odm.schema", "odm.tenancy")),
    ("document", ("odm.document",)),
    ("above", ("odm.migrate", "odm.migrations", "odm.cli", "odm.fastapi", "odm.testing", "odm.__main__", "odm.mypy")),
    ("face", ("odm",)),  # odm/__init__: re-exports every floor; nothing inside odm imports it
]
RANK = {name: rank for rank, (name, _) in enumerate(FLOORS)}
# Imports inside a function, none of them to dodge a circle (docs/architecture.md, "Known exceptions").
FUNCTION_IMPORTS_ALLOWED = {"odm.testing.pytest_plugin": {"odm.connections"}}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ODM.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def floor_of(module: str) -> str:
    for floor, prefixes in FLOORS:
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return floor
    raise AssertionError(f"{module} is on no floor: add it to FLOORS and docs/architecture.md")


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The odm modules an ``from ... import ...`` loads (a submodule imported by name counts)."""
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    if not base.startswith("odm"):
        return []
    submodules = [f"{base}.{alias.name}" for alias in node.names if is_module(f"{base}.{alias.name}")]
    # "from .. import migrate" loads the submodule; the package is loaded by then anyway
    return submodules if len(submodules) == len(node.names) else [base, *submodules]


def is_module(name: str) -> bool:
    path = ODM.parent / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> tuple[set[str], set[str]]:
    """(runtime imports at module level, imports inside function bodies) of one file."""
    module, is_package = module_name(path), path.name == "__init__.py"
    runtime: set[str] = set()
    in_functions: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and is_type_checking(node):
            for branch in node.orelse:
                visit(branch, in_function)
            return
        if isinstance(node, ast.ImportFrom):
            (in_functions if in_function else runtime).update(resolve(module, is_package, node))
        elif isinstance(node, ast.Import):
            names = {alias.name for alias in node.names if alias.name.startswith("odm")}
            (in_functions if in_function else runtime).update(names)
        inside = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(ast.parse(path.read_text()), False)
    return runtime - {module}, in_functions - {module}


GRAPH = {module_name(path): imports_of(path) for path in sorted(ODM.rglob("*.py"))}


def test_every_module_is_on_a_floor() -> None:
    for module in GRAPH:
        floor_of(module)


def test_runtime_imports_never_point_up() -> None:
    upward = [
        f"{module} ({floor_of(module)}) imports {target} ({floor_of(target)})"
        for module, (runtime, _) in GRAPH.items()
        for target in sorted(runtime)
        if RANK[floor_of(target)] > RANK[floor_of(module)]
    ]
    assert upward == []


def test_no_module_inside_odm_imports_odm_itself() -> None:
    assert [module for module, (runtime, _) in GRAPH.items() if "odm" in runtime and module != "odm"] == []


def test_there_is_no_import_circle() -> None:
    runtime = {module: {t for t in targets if t in GRAPH} for module, (targets, _) in GRAPH.items()}
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def walk(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(runtime[module]):
            # a package's __init__ importing its own submodules is how re-exports work, and a
            # submodule importing a sibling loads the package first: neither is a circle unless
            # the submodule imports a name the __init__ has not defined yet, which mypy and the
            # import below catch
            if target.startswith(module + ".") or module.startswith(target + "."):
                continue
            if state.get(target) == 1:
                circles.append(path[path.index(target) :] + [target] if target in path else [module, target])
            elif target not in state:
                walk(target, [*path, target])
        state[module] = 2

    for module in sorted(runtime):
        if module not in state:
            walk(module, [module])
    assert circles == []


def test_no_import_of_odm_inside_a_function() -> None:
    found = {
        module: sorted(inner - FUNCTION_IMPORTS_ALLOWED.get(module, set()))
        for module, (_, inner) in GRAPH.items()
        if inner - FUNCTION_IMPORTS_ALLOWED.get(module, set())
    }
    assert found == {}


def test_the_top_level_stays_small() -> None:
    top = sorted(path.name for path in ODM.glob("*.py"))
    assert len(top) <= 16, top
