"""Forced loads run where the refused wheel's runtime dependencies are installed: a cffi module finds
_cffi_backend; a dependency no installer can get is said as such, never as the binary's clean error."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cell.observe import Dependencies, LoadOutcome, Route
from harness.model import Status
from harness.verdict.judge import Finding, FindingKind
from tests.conftest import FIXTURES, REPO
from tests.integration.conftest import Harness, load_of, run_records

pytestmark = pytest.mark.integration


def matrix(tmp_path: Path, cases_dir: Path) -> Path:
    path = tmp_path / "matrix.toml"
    path.write_text(
        f'cases_dir = "{cases_dir}"\n[discovery]\nsources = ["pyenv"]\n'
        '[targets.version-specific]\nbuild_on = ["cp312"]\n'
    )
    return path


def test_cffi_module_loaded_anyway_finds_its_backend(
    harness: Harness, interpreter_ids: list[str], tmp_path: Path
) -> None:
    args = ["--matrix", str(matrix(tmp_path, REPO / "extensions")), "--case", "setuptools/cffi"]
    out, records = run_records(harness, tmp_path / "results", *args, "--python", "cp312", "--python", "cp313")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    record = records["setuptools/cffi:version-specific:cp312:cp313"]
    for route in (Route.SYS_PATH, Route.BY_PATH):
        load = load_of(record, route)
        assert isinstance(load.dependencies, Dependencies)
        assert (load.dependencies.requirements, load.dependencies.ok) == (("cffi",), True)
        assert "_cffi_backend" not in load.exception
    # by path the cp312 binary loads on 3.13 (cffi's module needs no version-specific symbol)
    assert load_of(record, Route.BY_PATH).outcome is LoadOutcome.LOADED
    assert record.findings == (
        Finding(route=Route.BY_PATH, kind=FindingKind.LOADS_AND_WORKS, detail="6 calls correct"),
    )


def test_dependency_not_installable_is_said(harness: Harness, interpreter_ids: list[str], tmp_path: Path) -> None:
    # pip: its dry run refuses the cp312 wheel on 3.13 by tag before looking at the dependency (uv's
    # resolves the dependency first and fails there, so no forced load would run).
    args = ["--matrix", str(matrix(tmp_path, FIXTURES / "extensions")), "--case", "setuptools/missing-dep"]
    args += ["--installer", "pip", "--python", "cp312", "--python", "cp313"]
    out, records = run_records(harness, tmp_path / "results", *args)
    assert out.returncode == 1  # where the wheel fits, its dependency cannot be had: a problem
    installed = records["setuptools/missing-dep:version-specific:cp312:cp312"]
    assert (installed.status, installed.stage) == (Status.ERROR, "resolve")
    refused = records["setuptools/missing-dep:version-specific:cp312:cp313"]
    assert refused.status is Status.PASS, refused.reason
    by_path = load_of(refused, Route.BY_PATH)
    assert isinstance(by_path.dependencies, Dependencies)
    assert not by_path.dependencies.ok
    assert by_path.exception_type == "ModuleNotFoundError"  # the module imports what is missing
    (finding,) = refused.findings
    assert (finding.route, finding.kind) == (Route.BY_PATH, FindingKind.DEPENDENCY_NOT_INSTALLABLE)
    assert finding.detail.startswith("abitest-missing-dependency @ file:///nonexistent/")
    # the file-name net had to fire on 3.13, but with the dependency missing nothing shows it did
    assert refused.stages["load:sys_path"].status is Status.SKIP
    assert refused.stages["load:sys_path"].reason.startswith("not judged: dependency not installable")
