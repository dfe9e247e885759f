"""Forced loads with the refused wheel's runtime requirements: what is read from METADATA, and how a
missing dependency is judged (on the recorded free-threaded 3.14 cffi cell, whose forced load ran
without cffi installed: `ModuleNotFoundError: No module named '_cffi_backend'`)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from harness.build.metadata import runtime_requirements
from harness.cell.observe import Dependencies, LoadOutcome, Observed, Route
from harness.model import Cell, Status, Target, TargetKind
from harness.schema.decode import convert
from harness.verdict.judge import CellFacts, judge
from tests.conftest import recorded, recorded_cell
from tests.unit.structs import replace

CFFI_CELL = "setuptools/cffi:version-specific:cp314:cp314t"


def wheel_with(tmp_path: Path, headers: str) -> Path:
    path = tmp_path / "abitest_x-1.0.0-cp314-cp314-linux_x86_64.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("abitest_x-1.0.0.dist-info/METADATA", headers + "\nDescription body\nRequires-Dist: no\n")
    return path


def test_runtime_requirements_keep_markers_and_leave_extras_out(tmp_path: Path) -> None:
    headers = (
        "Metadata-Version: 2.4\nName: abitest-x\nVersion: 1.0.0\n"
        "Requires-Dist: cffi>=1.0\n"
        "Requires-Dist: cffi>=1.17; platform_python_implementation != 'PyPy'\n"
        "Requires-Dist: pytest; extra == 'test'\n"
    )
    assert runtime_requirements(wheel_with(tmp_path, headers)) == (
        "cffi>=1.0",
        "cffi>=1.17; platform_python_implementation != 'PyPy'",
    )
    assert runtime_requirements(wheel_with(tmp_path, "Metadata-Version: 2.4\nName: abitest-x\n")) == ()


def cffi_facts(deps: Dependencies | None) -> CellFacts:
    record = recorded_cell(CFFI_CELL)
    observed = convert(record["observed"], Observed, source="recorded")
    observed = replace(observed, loads=tuple(replace(x, dependencies=deps) for x in observed.loads))
    return CellFacts(
        cell=Cell.parse(CFFI_CELL),
        target=Target("version-specific", TargetKind.VERSION_SPECIFIC, None, ("each",)),
        build=recorded("cp314"),
        run=recorded("cp314t"),
        observed=observed,
    )


def test_recorded_missing_backend_was_a_clean_error_of_the_binary() -> None:
    # What the run before dependencies said (old records are judged as they were).
    verdict = judge(cffi_facts(None), [])
    assert [(f.route, f.kind) for f in verdict.findings] == [("by_path", "clean error")]
    assert "_cffi_backend" in verdict.findings[0].detail


def test_dependency_not_installable_is_its_own_finding() -> None:
    deps = Dependencies(requirements=("cffi",), ok=False, message="error: no matching distribution for cffi")
    verdict = judge(cffi_facts(deps), [])
    assert verdict.status is Status.PASS
    (finding,) = verdict.findings
    assert (finding.route, finding.kind) == ("by_path", "dependency not installable")
    assert finding.detail.startswith("cffi: error: no matching distribution for cffi; the load ended: ")
    # The file-name net had to fire; with the dependency missing its error proves nothing either way.
    assert verdict.stages["load:sys_path"].status == "skip"
    assert verdict.stages["load:sys_path"].reason.startswith("not judged: dependency not installable: cffi")


def test_installed_dependency_leaves_the_binary_its_outcome() -> None:
    verdict = judge(cffi_facts(Dependencies(requirements=("cffi",), ok=True)), [])
    assert [f.kind for f in verdict.findings] == ["clean error"]
    assert verdict.stages["load:sys_path"].status == "pass"


def test_dependencies_round_trip() -> None:
    facts = cffi_facts(Dependencies(requirements=("cffi; python_version >= '3.8'",), ok=False, message="x"))
    again = convert(facts.observed.to_json(), Observed, source="recorded")
    assert again == facts.observed
    load = again.load(Route.BY_PATH)
    assert load is not None
    assert load.outcome is LoadOutcome.EXCEPTION
