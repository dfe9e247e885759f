"""A segfault, an abort and a hang on import are each one cell's verdict; the run goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.integration.conftest import Harness, run_records

pytestmark = pytest.mark.integration


def test_crash_abort_and_hang_are_recorded(harness: Harness, interpreter_ids: list[str], tmp_path: Path) -> None:
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(
        f'cases_dir = "{FIXTURES / "extensions"}"\n'
        "timeout = 10\n"
        '[discovery]\nsources = ["pyenv"]\n'
        '[targets.version-specific]\nbuild_on = ["cp312"]\n'
    )
    out, records = run_records(
        harness,
        tmp_path / "results",
        "--matrix",
        str(matrix),
        *("--case", "setuptools/segfault", "--case", "setuptools/abort", "--case", "setuptools/hang"),
        *("--python", "cp312", "--python", "cp313"),
    )
    assert out.returncode == 1  # problems found, and the run finished
    segfault = records["setuptools/segfault:version-specific:cp312:cp312"]
    assert (segfault.status, segfault.stage) == ("crash", "import")
    assert "SIGSEGV" in segfault.reason
    abort = records["setuptools/abort:version-specific:cp312:cp312"]
    assert (abort.status, abort.stage) == ("crash", "import")
    assert "SIGABRT" in abort.reason
    hang = records["setuptools/hang:version-specific:cp312:cp312"]
    assert (hang.status, hang.stage) == ("timeout", "import")
    assert "did not finish within 10s" in hang.reason
    # every other cell still ran: the cp312 wheels are refused on 3.13; by file name their files are
    # not even found there (a cp312 suffix) ...
    for kind in ("segfault", "abort", "hang"):
        other = records[f"setuptools/{kind}:version-specific:cp312:cp313"]
        assert other.status == "pass", other.reason
        assert other.stages["load:sys_path"].reason.startswith(
            "refused cleanly by the file-name safety net (EXTENSION_SUFFIXES): ModuleNotFoundError"
        )
    # ... loaded by path, the binary runs: its crash or hang is that cell's finding (no safety net
    # promised otherwise), not a problem, and the run goes on
    found = {
        kind: records[f"setuptools/{kind}:version-specific:cp312:cp313"].findings
        for kind in ("segfault", "abort", "hang")
    }
    assert [(f.route, f.kind) for f in found["segfault"]] == [("by_path", "crash")]
    assert [(f.route, f.kind) for f in found["abort"]] == [("by_path", "crash")]
    assert [(f.route, f.kind) for f in found["hang"]] == [("by_path", "timeout")]
    assert len(records) == 3 * 2  # 3 wheels x 2 columns, every one recorded
