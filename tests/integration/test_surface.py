"""The surface probe on real interpreters: ctypes lookup and the C probe compiled against real headers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.conftest import Harness

pytestmark = pytest.mark.integration

PAIR = ("cp39", "cp310")  # two levels and three levels: five small compiles


def surface(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "harness", "surface", "--cache-dir", str(cache), *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)


def test_surface_probes_two_interpreters_and_diffs_them(interpreter_ids: list[str], tmp_path: Path) -> None:
    missing = [i for i in PAIR if i not in interpreter_ids]
    if missing:
        pytest.skip(f"the surface test needs {', '.join(missing)}")
    out = surface(tmp_path, "--python", PAIR[0], "--python", PAIR[1], "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    by_id = {s["interpreter"]["id"]: s for s in data["surfaces"]}
    assert set(by_id) == set(PAIR)
    for s in by_id.values():
        assert s["lookup"] == "ctypes.pythonapi"
        assert any(x["name"] == "PyType_FromSpec" and x["found_as"] for x in s["symbols"])
        levels = {p["level"]: p for p in s["levels"]}
        assert all(p["ok"] for p in levels.values()), levels
        assert levels["3"]["layouts"]["PyMethodDef"] == 32
        assert levels["3"]["constants"]["METH_VARARGS"] == 1
    assert [p["level"] for p in by_id["cp310"]["levels"]] == ["3", "3.9", "3.10", "full-3.10"]
    assert all(m["last_change_version"] is None for m in data["milestones"]), data["milestones"]
    # The C probes are cached by content: the diff reuses them and sees 3.10's header change.
    diff = surface(tmp_path, "--diff", *PAIR, "--json")
    assert diff.returncode == 0, diff.stderr
    changes = {(c["kind"], c["level"], c["name"]): c for c in json.loads(diff.stdout)["changes"]}
    flags = changes[("constant-no-op", "3", "Py_TPFLAGS_DEFAULT")]  # only the no-op version-tag bit
    assert (flags["old"], flags["new"]) == ("262144", "0")
    assert "bpo-42747" in flags["note"]
    assert changes[("known-gap", "", "PyCFunction_New")]["note"] == "gh-87405"  # 3.10 exports it again


def test_surface_section_in_the_run_report(harness: Harness, interpreter_ids: list[str], tmp_path: Path) -> None:
    """A run's report carries its interpreters' surface, kept in the run directory for `report`."""
    args = ["--case", "sysconfig/c-api", "--target", "version-specific", "--python", "cp39"]
    out = harness("run", "--results", str(tmp_path), *args, surface=True)
    assert out.returncode == 0, out.stderr[-3000:]
    section = (tmp_path / "latest" / "surface.md").read_text()
    assert section.startswith("## Surface")
    assert "cp39" in section
    assert section in (tmp_path / "latest" / "report.md").read_text()
    rebuilt = harness("report", str(tmp_path / "latest"))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert section in (tmp_path / "latest" / "report.md").read_text()
