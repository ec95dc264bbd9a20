"""The packages import one way: the core at the bottom, models and inference on it, the API
on top (ARCHITECTURE.md, "Layout").

Reference: every import statement of every module, read from the source with ``ast``
(module-level imports run at import time; those inside functions run on first call; a
``lazy.load("probgen....")`` stand-in or a ``"probgen...."`` module named in a lazy
export table imports on first use, so it counts as an import at first call), and
for the running code, ``sys.modules`` after importing each layer in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import probgen
import probgen.inference
import probgen.models

# the source folders of the installed packages (pyproject's package-dir maps two of them)
PACKAGES = (probgen, probgen.models, probgen.inference)
SOURCES = {package.__name__: Path(package.__file__).parent for package in PACKAGES}
API = {"probgen", "probgen.__main__", "probgen.api", "probgen.cli", "probgen.plots"}
# what each layer may import; inference may use the models' base types, nothing more
ALLOWED = {
    "core": {"core"},
    "models": {"core", "models"},
    "inference": {"core", "inference", "probgen.models.base"},
    "api": {"core", "models", "inference", "api"},
}


def layer(module: str) -> str:
    if module in API:
        return "api"
    for name in ("models", "inference"):
        if module == f"probgen.{name}" or module.startswith(f"probgen.{name}."):
            return name
    return "core"


def modules() -> dict[str, Path]:
    """Every module of the three packages, by its installed name."""
    found = {}
    for prefix, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((prefix, *parts))] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, bool]]:
    """The probgen modules that ``name`` imports, each with whether it is imported at
    module level (eagerly) rather than inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []

    def visit(node: ast.AST, eager: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = eager and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((alias.name, eager) for alias in child.names)
            elif isinstance(child, ast.Constant) and isinstance(child.value, str):
                # a module that ``lazy.load`` or ``lazy.attributes`` imports on first use
                module, _, last = child.value.rpartition(".")
                if "." in child.value and child.value in known:
                    found.append((child.value, False))
                elif module in known and last[:1].isupper():  # "module.Class": its module
                    found.append((module, False))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.rsplit(".", child.level - 1)[0]
                    base = f"{anchor}.{base}" if base else anchor
                for alias in child.names:  # `from package import module` names a module
                    target = f"{base}.{alias.name}"
                    found.append((target if target in known else base, eager))
            visit(child, inner)

    visit(ast.parse(path.read_text()), True)
    return [(target, eager) for target, eager in found if target.split(".")[0] == "probgen"]


def graph(eager_only: bool) -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {
        name: {t for t, eager in imports(name, path, known) if eager or not eager_only}
        for name, path in found.items()
    }


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``edges`` as the list of its nodes (first = last), or None (depth-first
    search: an edge back to a node on the current path closes a cycle)."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def search(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := search(target, [*path, target])):
                return cycle
        state[node] = "done"
        return None

    for start in sorted(edges):
        if start not in state and (cycle := search(start, [start])):
            return cycle
    return None


def test_every_package_is_read():
    found = modules()
    assert {"probgen.api", "probgen.models.base", "probgen.inference.fit"} <= set(found)
    assert {layer(name) for name in found} == set(ALLOWED)


def test_each_layer_imports_only_the_layers_below_it():
    violations = [
        f"{source} ({layer(source)}) imports {target}"
        for source, targets in graph(eager_only=False).items()
        for target in sorted(targets)
        if layer(target) not in ALLOWED[layer(source)] and target not in ALLOWED[layer(source)]
    ]
    assert violations == []


def test_no_module_imports_itself_back_at_import_time():
    assert find_cycle(graph(eager_only=True)) is None


def test_the_cycle_search_finds_a_planted_cycle():
    edges = graph(eager_only=True)
    assert find_cycle(edges | {"probgen.errors": {"probgen.api"}}) is not None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize(
    "module, above",
    [
        ("probgen", ("probgen.api", "probgen.models", "probgen.inference")),
        ("probgen.results", ("probgen.api", "probgen.models", "probgen.inference")),
        ("probgen.models", ("probgen.api", "probgen.inference")),
        ("probgen.inference.fit", ("probgen.api", "probgen.cli", "probgen.plots")),
    ],
)
def test_importing_a_layer_loads_no_layer_above_it(module, above):
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print(*sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert [m for m in loaded if m.startswith(above)] == []
