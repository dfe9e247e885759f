"""Integration fixtures: the real harness CLI on real interpreters, with a throwaway cache."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cell.observe import LoadObs, Observed, Route
from harness.run.records import Record, load
from tests.conftest import REPO

NEEDED = ("cp38", "cp39", "cp311", "cp312", "cp313")

Harness = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def harness(cache_dir: Path) -> Harness:
    def run(*args: str, cwd: Path = REPO, surface: bool = False) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "harness", *args]
        if args[0] in ("run", "interpreters"):
            cmd += ["--cache-dir", str(cache_dir)]
        if args[0] == "run" and not surface:
            cmd.append("--no-surface")  # measured once, in test_surface_section_in_the_run_report
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=1800, check=False)

    return run


@pytest.fixture(scope="session")
def host_matrix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's cases with fixed build interpreters, so results do not depend on whether a
    newer (provisioned) interpreter exists: abi3 is built on cp39 and cp313."""
    path = tmp_path_factory.mktemp("matrix") / "matrix.toml"
    path.write_text(
        f'cases_dir = "{REPO / "extensions"}"\n'
        '[discovery]\nsources = ["pyenv", "uv", "debian", "path"]\n'
        '[targets.version-specific]\nbuild_on = ["each"]\n'
        '[targets.abi3]\nmin_python = "3.9"\nbuild_on = ["cp39", "cp313"]\n'
    )
    return path


@pytest.fixture(scope="session")
def interpreter_ids(harness: Harness) -> list[str]:
    out = harness("interpreters", "--json")
    assert out.returncode == 0, out.stderr
    ids = [i["id"] for i in json.loads(out.stdout)["interpreters"]]
    missing = [i for i in NEEDED if i not in ids]
    if missing:
        pytest.skip(
            f"integration tests need CPython {', '.join(missing)} (found {', '.join(ids)}); "
            "install them with pyenv or uv, or add them with --python"
        )
    return ids


def run_records(
    harness: Harness, results: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Record]]:
    out = harness("run", "--results", str(results), *args)
    records, _ = load(results / "latest")
    return out, {r.cell: r for r in records}


def observed(record: Record) -> Observed:
    assert record.observed is not None, record.cell
    return record.observed


def load_of(record: Record, route: Route = Route.INSTALLED) -> LoadObs:
    found = observed(record).load(route)
    assert found is not None, f"{record.cell}: no {route.value} load observed"
    return found


def refusals(record: Record) -> str:
    """The installers' own refusal messages, as recorded."""
    return "; ".join(
        f"{i.name}: {i.resolve.message}" for i in observed(record).installers if i.resolve and not i.resolve.ok
    )
