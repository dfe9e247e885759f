"""`new-case` writes a case that builds and imports as it stands (no renaming by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import Harness, run_records

pytestmark = pytest.mark.integration

PYTHON = "cp312"


def test_new_case_builds_and_imports(harness: Harness, tmp_path: Path) -> None:
    interpreters = harness("interpreters", "--json")
    assert interpreters.returncode == 0, interpreters.stderr
    if PYTHON not in [i["id"] for i in json.loads(interpreters.stdout)["interpreters"]]:
        pytest.skip(f"needs CPython {PYTHON} (pyenv or uv)")
    cases = tmp_path / "extensions"
    out = harness("new-case", "sysconfig/c-api-renamed", "--from", "sysconfig/c-api", "--cases-dir", str(cases))
    assert out.returncode == 0, out.stderr
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(f'cases_dir = "{cases}"\n[discovery]\nsources = ["pyenv", "uv"]\n[targets.version-specific]\n')
    out, records = run_records(harness, tmp_path / "results", "--matrix", str(matrix), "--python", PYTHON, "-j", "1")
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    record = records[f"sysconfig/c-api-renamed:version-specific:{PYTHON}:{PYTHON}"]
    assert record.status == "pass", record.reason
    assert record.wheel == f"abitest_sysconfig_c_api_renamed-1.0.0-{PYTHON}-{PYTHON}-linux_x86_64.whl"
    assert record.ext_files == (f"abitest_sysconfig_c_api_renamed.cpython-{PYTHON[2:]}-x86_64-linux-gnu.so",)
    assert record.stage == "call"  # imported under its new name and every call answered
