"""`gate --python PATH` on a real uninstalled CPython (`./python` where `make` left it).

Needs CPython build trees under $ABI_HARNESS_CPYTHON_SRC (default: cpython-src/ in the harness's cache
directory), as `nox -s cpython_checkout` leaves them (Debian's orig tarball, `./configure && make`, and an
out-of-tree `--disable-gil` build in build-ft/); CI does not build CPython, so there these tests skip.
The sysconfig/c-api case compiles with the tree's own headers (Include/ in the source tree, pyconfig.h
in the build tree) inside uv's build venv; the surface's C probe compiles against the same two.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.interpreters import checkout
from tests.conftest import REPO

pytestmark = pytest.mark.integration

SOURCES = checkout.default_dest()


def build_trees() -> list[Path]:
    """Every `python` that `make` left in a build directory (pybuilddir.txt beside it) under SOURCES."""
    if not SOURCES.is_dir():
        return []
    return sorted(
        p for p in SOURCES.glob("**/python") if (p.parent / "pybuilddir.txt").is_file() and os.access(p, os.X_OK)
    )


def tree(free_threaded: bool) -> Path:
    for python in build_trees():
        out = subprocess.run(
            [python, "-c", "import sysconfig; print(bool(sysconfig.get_config_var('Py_GIL_DISABLED')))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.stdout.strip() == str(free_threaded):
            return python
    flavour = "free-threaded" if free_threaded else "GIL"
    pytest.skip(
        f"no {flavour} CPython build tree under {SOURCES} (ABI_HARNESS_CPYTHON_SRC); nox -s cpython_checkout makes one"
    )


def gate(python: Path, cache: Path, results: Path, matrix: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "harness", "gate", "--cache-dir", str(cache), "--results", str(results)]
    cmd += ["--matrix", str(matrix), "--case", "sysconfig/c-api", "--python", str(python), "--json"]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1200, check=False)


def test_gate_of_a_gil_build_tree(host_matrix: Path, cache_dir: Path, tmp_path: Path) -> None:
    python = tree(free_threaded=False)
    out = gate(python, cache_dir, tmp_path, host_matrix)
    verdict = json.loads(out.stdout)
    new = verdict["new"]
    assert new.endswith("-build")
    assert "not installed" in verdict["new_described"]
    assert "baseline_note" not in verdict, verdict.get("baseline_note")
    # Its own wheel, compiled in uv's build venv against Include/ and the build tree's pyconfig.h, runs.
    records = [json.loads(line) for line in (Path(verdict["run_dir"]) / "results.jsonl").read_text().splitlines()]
    own = next(r for r in records if r["cell"] == f"sysconfig/c-api:version-specific:{new}:{new}")
    assert own["status"] == "pass", own["reason"]
    assert "levels both compile" in verdict["surface_compared"]
    assert out.returncode == 0, (verdict["cell_problems"], verdict["surface"], verdict["unverified"])


def test_gate_of_a_free_threaded_build_tree_says_its_baseline_is_another_flavour(
    host_matrix: Path, cache_dir: Path, tmp_path: Path
) -> None:
    python = tree(free_threaded=True)
    out = gate(python, cache_dir, tmp_path, host_matrix)
    assert out.returncode in (0, 1), out.stderr
    verdict = json.loads(out.stdout)
    assert verdict["new"].endswith("t-build")
    if "free-threaded" not in verdict["baseline_described"]:  # none of its minor or older here: said so
        assert "is a GIL build" in verdict.get("baseline_note", ""), verdict
    records = [json.loads(line) for line in (Path(verdict["run_dir"]) / "results.jsonl").read_text().splitlines()]
    own = [r for r in records if r["build_python"] == verdict["new"] and r["run_python"] == verdict["new"]]
    assert own, [r["cell"] for r in records]
    assert all(r["status"] == "pass" for r in own), [(r["cell"], r["reason"]) for r in own]
