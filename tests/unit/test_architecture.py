"""The shape of the code, checked from its source: imports follow the data flow, sizes stay readable.

Every module's imports are read with `ast`, including the lazy ones inside functions, so a circle
hidden behind a function-level import counts too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent.parent
HARNESS = REPO / "harness"

# Low to high, in the order of the data flow: a layer may import its own and lower layers only.
# Layers sharing a rank (errors, model) sit side by side and may import each other.
LAYERS: dict[str, int] = {
    "infra": 0,
    "errors": 1,
    "model": 1,
    "schema": 2,
    "config": 3,
    "interpreters": 4,
    "build": 5,
    "cell": 6,
    "verdict": 7,
    "run": 8,
    "surface": 9,
    "preference": 10,
    "reports": 11,
    "workflows": 12,
    "cli": 13,
    "__main__": 14,
}
# Run inside other interpreters or the browser: read as files, never imported.
UNIMPORTABLE = {"resources"}

MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400
# The word a long module's docstring uses to say why it stays whole.
LONG_MODULE_MARK = "long because"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(HARNESS.rglob("*.py")) if "resources" not in p.parts}


def layer(module: str) -> str:
    """`harness.cell.execute` -> `cell`; `harness` itself has no layer."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imported(path: Path, module: str, known: set[str]) -> Iterator[tuple[str, int]]:
    """The harness modules `path` imports (anywhere in the file), with the line of each import."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from harness.x import y` imports module harness.x.y when y is one, else harness.x.
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "harness":
                yield name, node.lineno


def graph() -> dict[str, dict[str, int]]:
    mods = modules()
    known = set(mods)
    edges: dict[str, dict[str, int]] = {}
    for name, path in mods.items():
        edges[name] = {}
        for imported_name, line in imported(path, name, known):
            # `from harness.a.b import C` names the module harness.a.b; C is not a module.
            target = imported_name
            while target not in known and "." in target:
                target = target.rpartition(".")[0]
            if target != name and target in known:
                edges[name].setdefault(target, line)
    return edges


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in edges.get(node, {}):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_package_has_a_layer() -> None:
    packages = {layer(m) for m in modules()} - {""}
    on_disk = {p.stem if p.is_file() else p.name for p in HARNESS.iterdir() if not p.name.startswith("_")}
    on_disk = {n for n in on_disk if n != "py.typed"} | {"__main__"}
    assert packages - set(LAYERS) == set(), "give the new package a place in LAYERS"
    assert not (on_disk & UNIMPORTABLE) or (HARNESS / "resources").is_dir()


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_no_import_from_a_lower_layer_to_a_higher_one() -> None:
    upward = []
    for source, targets in graph().items():
        for target, line in targets.items():
            low, high = layer(source), layer(target)
            if not low or not high:
                continue
            if high in UNIMPORTABLE or LAYERS[high] > LAYERS[low]:
                upward.append(
                    f"{modules()[source].relative_to(REPO)}:{line}: {source} ({low}) imports {target} ({high})"
                )
    assert upward == []


def test_the_graph_reader_sees_lazy_imports() -> None:
    # The known-good anchor: __main__ imports the pipeline; a reader that missed imports would say nothing.
    edges = graph()
    assert "harness.model" in edges["harness.cell.execute"]
    assert any(layer(t) == "run" for t in edges["harness.__main__"])


def reachable(start: str, edges: dict[str, dict[str, int]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += edges.get(module, {})
    return seen


def outside_imports(path: Path) -> set[str]:
    """Top-level names of the non-harness modules *path* imports (anywhere in the file)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names - {"harness"}


@pytest.mark.parametrize("module", ["harness.verdict.judge", "harness.run.rejudge"])
def test_the_judge_runs_nothing_and_parses_no_binary(module: str) -> None:
    """Judging is pure: no subprocess, no ELF parsing, not even through what it imports."""
    edges, paths = graph(), modules()
    closure = reachable(module, edges)
    assert {"harness.infra.proc", "harness.build.audit", "harness.cell.execute"} & closure == set()
    forbidden = {"subprocess", "elftools", "abi3info", "ctypes"}
    assert {m: sorted(outside_imports(paths[m]) & forbidden) for m in closure} == {m: [] for m in closure}


def sources() -> list[Path]:
    return sorted([*HARNESS.rglob("*.py"), *(REPO / "benchmarks").rglob("*.py")])


def long_functions() -> list[str]:
    found = []
    for path in sources():
        if "resources" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = (node.end_lineno or node.lineno) - start + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.name} is {length} lines")
    return found


def test_no_function_over_60_lines() -> None:
    assert long_functions() == []


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_a_module_over_400_lines_says_why(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    if lines <= MAX_MODULE_LINES:
        return
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert LONG_MODULE_MARK in docstring.lower(), (
        f"{path.relative_to(REPO)} is {lines} lines: split it, or say in its docstring why it is {LONG_MODULE_MARK} ..."
    )
