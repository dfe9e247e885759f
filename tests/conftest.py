"""Shared fixtures: interpreter facts recorded from real probes, and 3.15 facts derived from DOMAIN.md."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import packaging
import pytest
from packaging import tags

from harness.model import Interpreter

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


def pytest_report_header() -> list[str]:
    return [f"packaging {packaging.__version__}"]


def recorded(interp_id: str) -> Interpreter:
    """A real probe's output, captured on this project's machine."""
    return Interpreter.from_json(json.loads((FIXTURES / "interpreters" / f"{interp_id}.json").read_text()))


def derived_315(free_threaded: bool) -> Interpreter:
    """3.15 facts from ../shared/DOMAIN.md (no 3.15 on the host): suffixes as Debian's build lists them,
    tags as packaging >= 26.1 computes them for that ABI."""
    base = recorded("cp313")
    platforms = list(dict.fromkeys(t.split("-", 2)[2] for t in base.supported_tags))
    abi = "cp315t" if free_threaded else "cp315"
    suffixes = [f".cpython-{abi[2:]}-x86_64-linux-gnu.so"]
    if not free_threaded:
        suffixes += [".abi3-x86_64-linux-gnu.so", ".abi3.so"]
    suffixes += [".abi3t-x86_64-linux-gnu.so", ".abi3t.so", ".so"]
    return replace(
        base,
        id=abi,
        path=f"/fake/python3.15{'t' if free_threaded else ''}",
        version=(3, 15, 2),
        free_threaded=free_threaded,
        soabi=f"cpython-{abi[2:]}-x86_64-linux-gnu",
        ext_suffixes=tuple(suffixes),
        supported_tags=tuple(str(t) for t in tags.cpython_tags((3, 15), [abi], platforms)),
        tags_source=f"derived: packaging {packaging.__version__} cpython_tags((3, 15), [{abi!r}])",
    )


@pytest.fixture(scope="session")
def cp38() -> Interpreter:
    return recorded("cp38")


@pytest.fixture(scope="session")
def cp39() -> Interpreter:
    return recorded("cp39")


@pytest.fixture(scope="session")
def cp311(cp312: Interpreter) -> Interpreter:
    """3.11 facts derived from the recorded 3.12 probe (tags as packaging computes them for cp311)."""
    platforms = list(dict.fromkeys(t.split("-", 2)[2] for t in cp312.supported_tags))
    return replace(
        cp312,
        id="cp311",
        version=(3, 11, 7),
        soabi="cpython-311-x86_64-linux-gnu",
        ext_suffixes=(".cpython-311-x86_64-linux-gnu.so", ".abi3.so", ".so"),
        supported_tags=tuple(str(t) for t in tags.cpython_tags((3, 11), ["cp311"], platforms)),
    )


@pytest.fixture(scope="session")
def cp312() -> Interpreter:
    return recorded("cp312")


@pytest.fixture(scope="session")
def cp313() -> Interpreter:
    return recorded("cp313")


@pytest.fixture(scope="session")
def cp315() -> Interpreter:
    return derived_315(free_threaded=False)


@pytest.fixture(scope="session")
def cp315t() -> Interpreter:
    return derived_315(free_threaded=True)


def recorded_free_threaded() -> list[dict[str, Any]]:
    """The 14 records of a real free-threaded 3.14 run (tests/fixtures/free-threaded-3.14/README.md)."""
    path = FIXTURES / "free-threaded-3.14" / "records.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def recorded_cell(cell: str) -> dict[str, Any]:
    """One record of the free-threaded 3.14 run, by cell id."""
    return next(r for r in recorded_free_threaded() if r["cell"] == cell)
