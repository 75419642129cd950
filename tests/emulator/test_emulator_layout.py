"""The emulator package's shape: no import cycle among its modules, no import hidden inside a
function (except the one deliberate lazy Flask import of ``__main__``), routes that never import
the app factory, and no module over 400 lines."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import pulumi_miget.emulator

PACKAGE = pulumi_miget.emulator.__name__
ROOT = Path(pulumi_miget.emulator.__file__).parent
MAX_LINES = 400
# (module, function): the imports allowed inside a function. __main__.main imports the server
# (and so Flask) only once it has parsed its flags, so a missing extra is a hint, not a traceback.
LAZY_IMPORTS = {(f"{PACKAGE}.__main__", "main")}


def module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that runs when the module runs: ``if TYPE_CHECKING:`` blocks
    excluded, function bodies included."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and is_type_checking(node):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def imported_modules(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The modules of the emulator package that ``node`` (in ``module``) imports."""
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    else:
        base = node.module or ""
        if node.level:
            package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        # "from base import name" runs base, and imports base.name when that is a submodule.
        names = {base} | {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in names if name in MODULES}


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges: set[str] = set()
        for node in runtime_imports(tree):
            edges |= imported_modules(module, node)
        graph[module] = edges - {module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, str] = {}  # "open" while on the DFS path, "done" after
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_the_walk_sees_the_package_modules() -> None:
    expected = {
        f"{PACKAGE}.{name}"
        for name in ("__main__", "http", "wsgi", "store", "server", "routes", "routes.apps")
    }
    assert expected <= set(MODULES)
    graph = import_graph()
    assert f"{PACKAGE}.routes.apps" in graph[f"{PACKAGE}.routes"]
    assert f"{PACKAGE}.http" in graph[f"{PACKAGE}.routes.credentials"]
    assert f"{PACKAGE}.routes" in graph[f"{PACKAGE}.wsgi"]


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_there_is_no_import_cycle_among_the_emulator_modules() -> None:
    assert find_cycle(import_graph()) is None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_hides_inside_a_function(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    hidden = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if (module, function.name) in LAZY_IMPORTS:
            continue
        hidden += [
            f"{function.name}:{node.lineno}"
            for node in ast.walk(function)
            if isinstance(node, ast.Import | ast.ImportFrom)
        ]
    assert hidden == []


def test_the_allowed_lazy_imports_still_exist() -> None:
    # If __main__.main stops importing lazily, this allowance must go too.
    for module, name in LAZY_IMPORTS:
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        [function] = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name == name
        ]
        assert any(isinstance(node, ast.Import | ast.ImportFrom) for node in ast.walk(function))


@pytest.mark.parametrize("module", sorted(name for name in MODULES if ".routes" in name))
def test_routes_never_import_the_app_factory_or_the_server(module: str) -> None:
    forbidden = {f"{PACKAGE}.wsgi", f"{PACKAGE}.server"}
    assert import_graph()[module] & forbidden == set()


def test_the_http_module_imports_neither_routes_nor_the_factory() -> None:
    imported = import_graph()[f"{PACKAGE}.http"]
    assert {name for name in imported if name.startswith(f"{PACKAGE}.routes")} == set()
    assert f"{PACKAGE}.wsgi" not in imported


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_400_lines(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES
