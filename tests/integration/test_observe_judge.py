"""Observations, then verdicts: refused binaries really loaded, and `report --rejudge` reproducing
every verdict from the records alone (and following matrix.toml's known issues there and back)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.cell.observe import LoadOutcome, Route
from harness.run.records import Record, load
from harness.verdict.judge import Finding, FindingKind
from tests.conftest import REPO
from tests.integration.conftest import Harness, load_of, observed, run_records

pytestmark = pytest.mark.integration

CASE = "setuptools/c-api-modexport"  # PEP 793 with Py_mod_abi on 3.15, PyInit_ before
PYTHONS = ("cp314", "cp315", "cp315d")


@pytest.fixture(scope="module")
def modexport(
    harness: Harness, interpreter_ids: list[str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Record]]:
    if not all(p in interpreter_ids for p in PYTHONS):
        pytest.skip("needs the Debian rootfs' cp314, cp315 and cp315d: run `nox -s provision`")
    results = tmp_path_factory.mktemp("modexport")
    args = ["--case", CASE, "--target", "version-specific"] + [a for p in PYTHONS for a in ("--python", p)]
    out, records = run_records(harness, results, *args)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return (results / "latest").resolve(), records


@pytest.mark.parametrize("build", ["cp315", "cp315d"])
def test_pep793_module_built_on_315_meets_314_by_path(modexport: tuple[Path, dict[str, Record]], build: str) -> None:
    """3.14 has no PyModExport_ support: the binary, loaded by path, is turned away by a missing PyInit_."""
    record = modexport[1][f"{CASE}:version-specific:{build}:cp314"]
    assert record.status == "pass", record.reason
    by_path = load_of(record, Route.BY_PATH)
    (file,) = by_path.files
    assert file.abi_info is not None  # read from the binary before loading it
    assert file.abi_info.abi_version >> 16 == 0x030F
    assert by_path.exception_type == "ImportError"
    assert "does not define module export function (PyInit_" in by_path.exception
    assert record.findings == (Finding(route=Route.BY_PATH, kind=FindingKind.CLEAN_ERROR, detail=by_path.exception),)


def test_debug_built_module_on_the_release_build(modexport: tuple[Path, dict[str, Record]]) -> None:
    """Refused by tag (cp315d), passed by Py_mod_abi (debug is no part of the check), and it works."""
    record = modexport[1][f"{CASE}:version-specific:cp315d:cp315"]
    assert record.status == "pass", record.reason
    assert "passes the check (PyABIInfo_Check" in record.reason
    by_path = load_of(record, Route.BY_PATH)
    assert by_path.compiled is not None
    assert (by_path.compiled.PY_VERSION_HEX or 0) >> 16 == 0x030F
    assert all(call.ok for call in by_path.calls)


def test_every_record_keeps_its_observations(modexport: tuple[Path, dict[str, Record]]) -> None:
    """Every cell records what it did, and the observations agree with each other: a wheel the
    installers accept is installed and imported (its own interpreter's wheel always is, and loads); one
    they refuse (cp315d's wheel on cp315, its tag rule) is loaded anyway both ways, never installed."""
    assert len(modexport[1]) == len(PYTHONS) ** 2
    for cell, record in modexport[1].items():
        facts = observed(record)
        build, run = cell.split(":")[2:]
        assert facts.build.ok, cell
        assert facts.wheel is not None, cell
        assert facts.wheel.name == record.wheel, cell
        answers = [i.resolve for i in facts.installers]
        assert answers, cell
        assert all(a is not None for a in answers), cell
        accepted = {a.ok for a in answers if a is not None}
        assert len(accepted) == 1, cell  # the installers agree here
        routes = [load.route for load in facts.loads]
        if accepted == {True}:
            assert routes == [Route.INSTALLED], cell
        else:
            assert all(a is not None and a.refused for a in answers), cell
            assert routes == [Route.SYS_PATH, Route.BY_PATH], cell
        if build == run:
            assert accepted == {True}, cell
            assert load_of(record).outcome is LoadOutcome.LOADED, cell
    assert observed(modexport[1][f"{CASE}:version-specific:cp315d:cp315"]).loads[0].route is Route.SYS_PATH


def rejudge(harness: Harness, run_dir: Path, matrix: Path) -> subprocess.CompletedProcess[str]:
    return harness("report", str(run_dir), "--rejudge", "--matrix", str(matrix))


def verdicts(run_dir: Path) -> dict[str, tuple[str, str]]:
    records, _ = load(run_dir)
    return {r.cell: (r.status, r.reason) for r in records}


def test_rejudge_reproduces_and_follows_known_issues(
    harness: Harness, modexport: tuple[Path, dict[str, Record]], tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(modexport[0], run_dir)
    before = verdicts(run_dir)
    matrix = tmp_path / "matrix.toml"
    original = (
        (REPO / "matrix.toml").read_text().replace('cases_dir = "extensions"', f'cases_dir = "{REPO}/extensions"')
    )
    matrix.write_text(original)

    out = rejudge(harness, run_dir, matrix)
    assert out.returncode == 0, out.stderr
    assert "0 changed status" in out.stdout
    assert verdicts(run_dir) == before  # every verdict derived again, identical

    # A known issue over the debug-built wheels: exactly their passing cells become xpass ...
    matrix.write_text(
        original + f'\n[[known_issue]]\ncase = "{CASE}"\nbuild_python = "cp315d"\nstatus = "fail"\n'
        'link = "https://example.org/issue/1"\n'
    )
    out = rejudge(harness, run_dir, matrix)
    after = verdicts(run_dir)
    changed = {cell for cell, (status, _) in after.items() if status != before[cell][0]}
    expected = {cell for cell in before if cell.split(":")[2] == "cp315d"}
    assert changed == expected
    assert {after[cell][0] for cell in expected} == {"xpass"}
    assert f"{len(expected)} changed status" in out.stdout
    # ... and back when it is removed.
    matrix.write_text(original)
    rejudge(harness, run_dir, matrix)
    assert verdicts(run_dir) == before
    assert json.loads((run_dir / "results.jsonl").read_text().splitlines()[0])["schema_version"] == 2


def test_unchanged_cells_are_reused_and_rerun_executes(
    harness: Harness, interpreter_ids: list[str], tmp_path: Path
) -> None:
    """After a run that executes (--rerun), an unchanged run reuses every cell with the same verdicts;
    --rerun reuses none; another cell timeout (an input of the observations) reuses none."""
    args = ["--case", "sysconfig/c-api", "--target", "version-specific", "--python", "cp312", "--python", "cp313"]
    runs = []
    for extra in (["--rerun"], [], ["--rerun"], ["--timeout", "45"]):
        out = harness("run", "--results", str(tmp_path / "r"), *args, *extra)
        assert out.returncode == 0, out.stderr[-3000:]
        records, _ = load(tmp_path / "r" / "latest")
        runs.append({r.cell: r for r in records})
    first, second, rerun, other_timeout = runs
    assert len(first) == 4
    assert all(r.reused_from is None for r in first.values())
    first_run = next(iter(first.values())).run_id
    assert {r.reused_from for r in second.values()} == {first_run}
    assert {c: (r.status, r.reason) for c, r in second.items()} == {c: (r.status, r.reason) for c, r in first.items()}
    assert all(r.reused_from is None for r in rerun.values())
    assert all(r.reused_from is None for r in other_timeout.values())
