"""The Debian provider: CPython 3.13-3.15, their Py_DEBUG builds and PyPy, run through bubblewrap.

Needs `python -m harness provision debian` (done by .ci/run); skipped with that said otherwise.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.run.records import Record
from tests.integration.conftest import Harness, load_of, refusals, run_records

pytestmark = pytest.mark.integration

PYTHONS = ("cp39", "cp314", "cp315", "cp315d")


@pytest.fixture(scope="module")
def debian(harness: Harness, interpreter_ids: list[str]) -> dict[str, dict[str, object]]:
    out = harness("interpreters", "--json")
    found = {i["id"]: i for i in json.loads(out.stdout)["interpreters"] if i["provider"] == "debian"}
    if "cp315" not in found:
        pytest.skip("no Debian rootfs: run `python -m harness provision debian` (or `nox -s provision`)")
    return found


def test_probe_flags_come_from_the_interpreters(debian: dict[str, dict[str, object]]) -> None:
    assert {"cp313-debian", "cp313d", "cp314", "cp314d", "cp315", "cp315d", "pp311"} <= debian.keys()
    assert debian["cp315d"]["debug"] is True
    assert debian["cp315"]["debug"] is False
    assert not any(i["free_threaded"] for i in debian.values())  # Debian packages no free-threaded build
    assert debian["pp311"]["implementation"] == "pypy"
    assert debian["cp313-debian"]["root"]  # shares 3.13 with pyenv, so the id names its provider
    assert ".abi3t.so" in debian["cp315"]["ext_suffixes"]  # type: ignore[operator]


def test_provision_is_idempotent(harness: Harness, debian: dict[str, dict[str, object]]) -> None:
    out = subprocess.run(
        ["python", "-m", "harness", "provision", "debian"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert out.returncode == 0, out.stderr
    assert "already provisioned" in out.stdout


@pytest.fixture(scope="module")
def cross(
    harness: Harness, debian: dict[str, dict[str, object]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Record]:
    results = tmp_path_factory.mktemp("debian-results")
    args = ["--case", "setuptools/c-api"] + [a for p in PYTHONS for a in ("--python", p)]
    out, records = run_records(harness, results, *args)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return records


def test_builds_on_315(cross: dict[str, Record]) -> None:
    record = cross["setuptools/c-api:version-specific:cp315:cp315"]
    assert record.status == "pass", record.reason
    assert record.ext_files == ("abitest_setuptools_c_api.cpython-315-x86_64-linux-gnu.so",)
    compiled = load_of(record).compiled
    assert compiled is not None
    assert (compiled.PY_VERSION_HEX or 0) >> 16 == 0x030F


def test_315_wheel_refused_on_314(cross: dict[str, Record]) -> None:
    record = cross["setuptools/c-api:version-specific:cp315:cp314"]
    assert record.status == "pass", record.reason
    assert record.expected.startswith("refuse")
    assert refusals(record)


def test_release_wheel_works_on_debug_build(cross: dict[str, Record]) -> None:
    record = cross["setuptools/c-api:version-specific:cp315:cp315d"]
    assert record.status == "pass", record.reason
    assert record.stage == "call"


def test_host_cp39_abi3_wheel_works_on_debian_315(cross: dict[str, Record]) -> None:
    for run in ("cp315", "cp315d", "cp314"):
        record = cross[f"setuptools/c-api:abi3:cp39:{run}"]
        assert record.status == "pass", record.reason
        assert record.stage == "call"


def test_abi3_built_by_315_is_the_known_issue_on_upstream_39(cross: dict[str, Record]) -> None:
    """setuptools on 3.15 names the file .abi3-x86_64-linux-gnu.so in a cp39-abi3 wheel (matrix.toml)."""
    record = cross["setuptools/c-api:abi3:cp315:cp39"]
    assert record.status == "xfail", record.reason
    assert record.known_issue == "https://github.com/python/cpython/issues/122931"
    assert record.ext_files == ("abitest_setuptools_c_api.abi3-x86_64-linux-gnu.so",)
    assert "ModuleNotFoundError" in record.reason
    # Debian's 3.14 knows the multiarch suffix and imports it, but the wheel is still not what the
    # target asked for, so the cell fails at the artifact stage (and the known issue covers it).
    debian_314 = cross["setuptools/c-api:abi3:cp315:cp314"]
    assert debian_314.status == "xfail", debian_314.reason
    assert debian_314.stage == "artifact"
    assert "cell itself: imported, 6/6 calls correct" in debian_314.reason
