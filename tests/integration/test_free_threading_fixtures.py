"""The self-test extensions that omit Py_mod_gil (C API, and Cython without freethreading_compatible),
built and run for real on GIL interpreters, where they are ordinary modules. How a free-threaded
interpreter treats them (the threads stage fails, naming the module) is tested on the recorded
free-threaded 3.14 in tests/unit/test_free_threaded.py: no free-threaded CPython exists here."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cell.observe import LoadOutcome, Route
from harness.model import Status
from harness.verdict.stages import StageResult
from tests.conftest import FIXTURES
from tests.integration.conftest import Harness, load_of, run_records

pytestmark = pytest.mark.integration

CASES = ("setuptools/gil-c-api", "setuptools/gil-cython")


def test_modules_without_py_mod_gil_work_on_gil_builds(
    harness: Harness, interpreter_ids: list[str], tmp_path: Path
) -> None:
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(
        f'cases_dir = "{FIXTURES / "extensions"}"\n'
        '[discovery]\nsources = ["pyenv"]\n'
        '[targets.version-specific]\nbuild_on = ["each"]\n'
    )
    args = [a for case in CASES for a in ("--case", case)] + ["--python", "cp312", "--python", "cp313"]
    out, records = run_records(harness, tmp_path / "results", "--matrix", str(matrix), *args)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert len(records) == 2 * 2 * 2  # 2 cases x 2 wheels x 2 columns
    for case in CASES:
        module = "abitest_" + case.replace("/", "_").replace("-", "_")
        for build in ("cp312", "cp313"):
            record = records[f"{case}:version-specific:{build}:{build}"]
            assert (record.status, record.stage) == ("pass", "call"), record.reason
            assert record.stages["threads"] == StageResult(Status.SKIP, "not a free-threaded interpreter")
            load = load_of(record, Route.INSTALLED)
            assert load.outcome is LoadOutcome.LOADED
            assert load.import_warnings == ()  # a GIL build has no GIL to re-enable
            assert load.module_file is not None
            assert Path(load.module_file).name.startswith(module)
