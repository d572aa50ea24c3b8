"""The structure stays as drawn (docs/architecture.md): layers point one way and nothing imports
in a circle — checked on the source itself, every import counted (module level, inside functions
and under ``TYPE_CHECKING``), so a function-local import cannot hide a cycle."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: each package and the project packages it may import (the bottom imports none)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "connectors": {"core"},
    "mapping": {"core", "connectors"},
    "plugins": {"core", "connectors", "mapping"},
    "store": {"core", "mapping"},
    "sync": {"core", "connectors", "mapping", "plugins", "store"},
    "reports": {"core", "connectors", "mapping", "plugins", "store", "sync"},
    "api": {"core", "connectors", "mapping", "plugins", "store", "sync"},
    "ops": {"core", "connectors", "mapping", "plugins", "store", "sync"},
    "console": {"core", "connectors", "mapping", "plugins", "store", "sync", "reports", "api", "ops"},
    "fixtures": {"core", "mapping"},
    "schoolgate": {
        "core", "connectors", "mapping", "plugins", "store", "sync", "reports", "api", "ops",
        "console", "fixtures",
    },
    "bench": set(),  # measures anything; checked for cycles only
}  # fmt: skip
PACKAGES = [p for p in ALLOWED if (ROOT / p / "__init__.py").exists()]


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _imports() -> dict[str, set[str]]:
    """module → the project modules it imports (a name imported from a package counts as the
    package's submodule when there is one)."""
    modules = _modules()

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = defaultdict(set)
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            for target in targets:
                if target.split(".")[0] in PACKAGES and (found := known(target)) not in (None, mod):
                    assert found is not None
                    graph[mod].add(found)
    return graph


GRAPH = _imports()


def test_the_project_is_read_whole() -> None:
    assert {"core", "connectors", "mapping", "plugins", "store", "sync", "schoolgate"} <= set(
        PACKAGES
    )
    assert len(_modules()) > 80


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    if package == "bench":
        return
    wrong = sorted(
        f"{mod} imports {dep}"
        for mod, deps in GRAPH.items()
        if mod.split(".")[0] == package
        for dep in deps
        if dep.split(".")[0] != package and dep.split(".")[0] not in ALLOWED[package]
    )
    assert not wrong, "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _packages_of(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for mod, deps in graph.items():
        for dep in deps:
            if dep.split(".")[0] != mod.split(".")[0]:
                out[mod.split(".")[0]].add(dep.split(".")[0])
    return out


def test_no_module_imports_itself_round_a_circle() -> None:
    # a package's __init__ re-exporting its submodules is its public face, not a cycle: the
    # edges from a submodule up to its own package's __init__ are left out
    graph = {mod: {d for d in deps if not mod.startswith(d + ".")} for mod, deps in GRAPH.items()}
    assert _cycles(graph) == []


def test_no_package_imports_itself_round_a_circle() -> None:
    assert _cycles(_packages_of(GRAPH)) == []


def test_the_checks_would_see_a_cycle_and_an_upward_import() -> None:
    graph = {"a.x": {"b.y"}, "b.y": {"a.z"}, "a.z": set()}
    assert _cycles(_packages_of(graph)) == [["a", "b"]]
    assert _cycles({"m": {"n"}, "n": {"m"}}) == [["m", "n"]]
