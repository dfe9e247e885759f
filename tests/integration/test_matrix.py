"""Real builds with real backends, real installers, real interpreters: asserted outcomes, not just 'ran'."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.cell.observe import Route
from harness.config.matrix import load_matrix
from harness.interpreters import providers
from harness.model import Status
from harness.run.records import Record, load
from harness.run.rejudge import rejudge
from harness.verdict.stages import StageResult
from tests.conftest import REPO
from tests.integration.conftest import Harness, load_of, refusals, run_records

pytestmark = pytest.mark.integration

CASES = ("setuptools/c-api", "scikit-build-core/c-api")
PYTHONS = ("cp39", "cp311", "cp312", "cp313")


@pytest.fixture(scope="module")
def first_run(
    harness: Harness, interpreter_ids: list[str], host_matrix: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], dict[str, Record], Path]:
    results = tmp_path_factory.mktemp("results")
    args = ["--matrix", str(host_matrix)] + [a for c in CASES for a in ("--case", c)]
    args += [a for p in PYTHONS for a in ("--python", p)]
    out, records = run_records(harness, results, *args)
    return out, records, results


def test_run_succeeds_and_every_cell_has_a_verdict(
    first_run: tuple[subprocess.CompletedProcess[str], dict[str, Record], Path], host_matrix: Path
) -> None:
    out, records, results = first_run
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    # Exactly the planned cells: every version-specific wheel (built by each interpreter) and both abi3
    # wheels (cp39, cp313) on every interpreter, for both cases; none lost, none extra.
    planned = {
        f"{case}:{target}:{build}:{run}"
        for case in CASES
        for target, builders in (("version-specific", PYTHONS), ("abi3", ("cp39", "cp313")))
        for build in builders
        for run in PYTHONS
    }
    assert set(records) == planned
    # Every verdict is the judge's over the cell's own observations: judged again from the record alone
    # (the matrix's known issues, the run's environment.json), each status and reason comes out the same.
    loaded, environment = load(results / "latest")
    matrix = load_matrix(host_matrix, providers.names())
    again, changes = rejudge(loaded, environment, matrix.targets, matrix.known_issues)
    assert changes == []
    assert [(r.cell, r.status, r.reason) for r in again] == [(r.cell, r.status, r.reason) for r in loaded]
    assert all(r.observed is not None and r.stages for r in loaded)  # no cell went unobserved


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("build", ["cp39", "cp313"])
@pytest.mark.parametrize("run", PYTHONS)
def test_cp39_abi3_wheel_works_everywhere(
    first_run: tuple[object, dict[str, Record], Path], case: str, build: str, run: str
) -> None:
    record = first_run[1][f"{case}:abi3:{build}:{run}"]
    assert record.status == "pass", record.reason
    assert record.stage == "call"
    assert record.wheel is not None
    assert record.wheel.endswith("-cp39-abi3-linux_x86_64.whl")
    assert [f.rsplit(".", 2)[-2] for f in record.ext_files] == ["abi3"]
    compiled = load_of(record).compiled
    assert compiled is not None
    assert compiled.Py_LIMITED_API == 0x03090000
    assert (compiled.PY_VERSION_HEX or 0) >> 16 == (0x0309 if build == "cp39" else 0x030D)
    assert all(call.ok for call in load_of(record).calls)


@pytest.mark.parametrize("case", CASES)
def test_cp312_wheel_refused_on_311(first_run: tuple[object, dict[str, Record], Path], case: str) -> None:
    record = first_run[1][f"{case}:version-specific:cp312:cp311"]
    assert record.status == "pass", record.reason
    assert record.expected.startswith("refuse")
    assert record.stages["resolve"].status == "pass"
    assert refusals(record).startswith("uv: ")  # the installer's own words, naming the interpreter
    assert "cp311" in refusals(record)
    assert record.packaging_accepts is False
    # must-refuse: by file name, the file-name net refuses it cleanly ...
    module = "abitest_" + case.replace("/", "_").replace("-", "_")
    assert record.stages["load:sys_path"] == StageResult(
        Status.PASS,
        "refused cleanly by the file-name safety net (EXTENSION_SUFFIXES): "
        f"ModuleNotFoundError: No module named '{module}'",
    )
    # ... and the binary itself, loaded by path, meets 3.11: whatever it does is recorded, as a finding
    by_path = load_of(record, Route.BY_PATH)
    assert tuple(f.file for f in by_path.files) == record.ext_files
    assert [f.route for f in record.findings] == ["by_path"]


@pytest.mark.parametrize("case", CASES)
def test_version_specific_wheel_works_on_its_own_version(
    first_run: tuple[object, dict[str, Record], Path], case: str
) -> None:
    record = first_run[1][f"{case}:version-specific:cp312:cp312"]
    assert record.status == "pass", record.reason
    assert record.wheel is not None
    assert record.wheel.endswith("-cp312-cp312-linux_x86_64.whl")
    assert record.ext_files[0].endswith(".cpython-312-x86_64-linux-gnu.so")
    compiled = load_of(record).compiled
    assert compiled is not None
    assert compiled.Py_LIMITED_API == 0
    assert record.build_tools  # the pinned build environment is recorded


def test_results_directory(first_run: tuple[object, dict[str, Record], Path]) -> None:
    _, records, results = first_run
    latest = results / "latest"
    report = (latest / "report.md").read_text()
    assert "| target | wheel tag | built on | cp39 | cp311 | cp312 | cp313 |" in report
    assert "No free-threaded interpreter found" in report
    environment = json.loads((latest / "environment.json").read_text())
    assert [i["id"] for i in environment["interpreters"]] == list(PYTHONS)
    for record in records.values():
        assert record.log is not None
        assert (latest / record.log).is_file()


def test_second_unchanged_run_builds_nothing(
    harness: Harness, first_run: tuple[object, dict[str, Record], Path], host_matrix: Path, tmp_path: Path
) -> None:
    args = ["--matrix", str(host_matrix)] + [a for c in CASES for a in ("--case", c)]
    args += [a for p in PYTHONS for a in ("--python", p)]
    out, records = run_records(harness, tmp_path, *args, "-v")  # -v: every build's and cell's line
    assert out.returncode == 0, out.stderr[-3000:]
    assert sorted(records) == sorted(first_run[1])
    assert all(r.build_cached for r in records.values())
    assert "cached: " in out.stderr
    assert "built in" not in out.stderr
    assert {c: r.status for c, r in records.items()} == {c: r.status for c, r in first_run[1].items()}


def test_pip_installer(harness: Harness, interpreter_ids: list[str], host_matrix: Path, tmp_path: Path) -> None:
    """The fallback path: pip builds (PEP 517, isolated) and installs; pip refuses cp39-abi3 on 3.8."""
    args = ["--matrix", str(host_matrix), "--installer", "pip", "--case", "setuptools/c-api", "--target", "abi3"]
    out, records = run_records(harness, tmp_path, *args, "--python", "cp38", "--python", "cp39")
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    works = records["setuptools/c-api:abi3:cp39:cp39"]
    assert works.status == "pass", works.reason
    assert works.installer is not None
    assert works.installer.startswith("pip ")
    refused = records["setuptools/c-api:abi3:cp39:cp38"]
    assert refused.status == "pass", refused.reason
    assert "is not a supported wheel on this platform" in refusals(refused)


def test_failing_build_is_recorded_and_the_run_goes_on(
    harness: Harness, interpreter_ids: list[str], tmp_path: Path
) -> None:
    """A case added from a temporary directory; a second case there does not compile."""
    cases = tmp_path / "extensions"
    good = cases / "setuptools" / "c-api"
    shutil.copytree(REPO / "extensions" / "setuptools" / "c-api", good)
    broken = cases / "setuptools" / "broken"
    shutil.copytree(good, broken)
    pyproject = broken / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("abitest-setuptools-c-api", "abitest-setuptools-broken"))
    for source in broken.rglob("*.c"):
        source.write_text(source.read_text() + "\n#error deliberately broken\n")
    matrix = tmp_path / "matrix.toml"
    matrix.write_text('[discovery]\nsources = ["pyenv"]\n[targets.version-specific]\nbuild_on = ["each"]\n')
    out, records = run_records(harness, tmp_path / "results", "--matrix", str(matrix), "--python", "cp312")
    assert out.returncode == 1
    assert records["setuptools/c-api:version-specific:cp312:cp312"].status == "pass"
    failed = records["setuptools/broken:version-specific:cp312:cp312"]
    assert failed.status == "fail"
    assert failed.stage == "build"
    assert "build failed" in failed.reason
    assert failed.build_log is not None
    assert "deliberately broken" in (tmp_path / "results" / "latest" / failed.build_log).read_text()
    assert "fail    setuptools/broken:version-specific:cp312:cp312" in out.stdout
    assert failed.build_cached is None  # compiled in this run

    # Nothing changed: the failure is remembered, not compiled again; --rebuild compiles it again.
    out, again = run_records(harness, tmp_path / "results", "--matrix", str(matrix), "--python", "cp312")
    remembered = again["setuptools/broken:version-specific:cp312:cp312"]
    assert (remembered.status, remembered.reason, remembered.build_cached) == ("fail", failed.reason, True)
    assert remembered.build_log is not None
    assert "deliberately broken" in (tmp_path / "results" / "latest" / remembered.build_log).read_text()
    assert "failed builds remembered from an earlier run, not compiled again: 1" in out.stdout
    out, rebuilt = run_records(harness, tmp_path / "results", "--matrix", str(matrix), "--python", "cp312", "--rebuild")
    assert rebuilt["setuptools/broken:version-specific:cp312:cp312"].build_cached is None


def test_explicit_interpreter_path_is_its_own_column(harness: Harness, interpreter_ids: list[str]) -> None:
    """A local build added with --python PATH: probed for its flags, not named after its path."""
    listing = json.loads(harness("interpreters", "--json").stdout)["interpreters"]
    path = next(i["path"] for i in listing if i["id"] == "cp312")
    out = harness("interpreters", "--json", "--python", path)
    assert out.returncode == 0, out.stderr
    (chosen,) = json.loads(out.stdout)["interpreters"]
    assert (chosen["id"], chosen["provider"], chosen["free_threaded"], chosen["debug"]) == (
        "cp312",
        "explicit",
        False,
        False,
    )


def test_a_project_config_where_the_harness_runs_does_not_reach_the_installer(
    harness: Harness, interpreter_ids: list[str], tmp_path: Path
) -> None:
    """uv reads the uv.toml or pyproject.toml [tool.uv] it finds from its working directory up: run from a
    project that says `python-platform = "windows"`, a cell whose installer ran there would see its Linux
    wheel refused. The installers run in the harness's cache instead, so the cell is as anywhere else."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.uv.pip]\npython-platform = "windows"\n')
    args = ("--matrix", str(REPO / "matrix.toml"), "--case", "setuptools/c-api", "--target", "version-specific")
    out = harness("run", "--results", str(tmp_path / "results"), *args, "--python", "cp312", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]
    records, _ = load(tmp_path / "results" / "latest")
    cell = {r.cell: r for r in records}["setuptools/c-api:version-specific:cp312:cp312"]
    assert cell.status == "pass", cell.reason
