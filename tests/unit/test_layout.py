"""The package's shape holds: no import circle, small modules, one-way data flow, benchmarks that
stand on the product alone (CONTRIBUTING.md explains the layout these tests keep)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "provider" / "pulumi_miget"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every pulumi_miget module ``path`` imports (type-only and function-level imports too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in found if m in modules and m != name}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imported_modules(p) for p in PACKAGE.rglob("*.py")}


def test_no_import_circle_in_the_package() -> None:
    edges = graph()
    # A package imports its submodules to re-export them; a submodule importing its own package's
    # __init__ would be the circle. Parent packages are left out as targets for that reason.
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in edges.items()}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str], seen: set[str]) -> None:
        for nxt in sorted(edges.get(node, ())):
            if nxt in path:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in seen:
                seen.add(nxt)
                visit(nxt, [*path, nxt], seen)

    for start in sorted(edges):
        visit(start, [start], {start})
    assert cycles == []


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_no_module_is_over_400_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_data_flows_one_way() -> None:
    """program → resource class → provider → API client → HTTP client: the API clients know
    no provider or resource, the HTTP client knows no collection, rules know no provider."""
    edges = graph()
    for module, targets in edges.items():
        if module.startswith("pulumi_miget.api"):
            assert not any(
                t.startswith(("pulumi_miget.resources", "pulumi_miget.provider")) for t in targets
            ), module
        if module.startswith("pulumi_miget.rules"):
            assert all(t.startswith("pulumi_miget.rules") for t in targets), module
    assert edges["pulumi_miget.api.http"] <= {
        "pulumi_miget._version",
        "pulumi_miget.errors",
        "pulumi_miget.settings",
    }


def test_benchmarks_import_nothing_from_tests() -> None:
    for path in sorted((ROOT / "benchmarks").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            assert not any(n == "tests" or n.startswith("tests.") for n in names), path
