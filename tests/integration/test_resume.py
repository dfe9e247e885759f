"""An interrupted run (kill -9, Ctrl-C) continues with `run --resume`: nothing lost, nothing twice.

One small real run (sysconfig/c-api, version-specific, three interpreters, one job so it is slow enough to
be caught part-way) is the reference; the same run is interrupted, resumed, and compared with it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.run.records import Record, load, read
from tests.conftest import REPO
from tests.integration.conftest import Harness

pytestmark = pytest.mark.integration

PYTHONS = ("cp311", "cp312", "cp313")
TOTAL = len(PYTHONS) * len(PYTHONS)  # one wheel per interpreter, run on each
# What must agree between the resumed and the uninterrupted run (durations and run ids aside).
SAME = ("status", "reason", "stage", "expected", "wheel", "wheel_tags", "ext_files", "known_issue", "packaging_accepts")


@pytest.fixture(scope="module")
def selection(interpreter_ids: list[str], tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    matrix = tmp_path_factory.mktemp("resume") / "matrix.toml"
    matrix.write_text(
        f'cases_dir = "{REPO / "extensions"}"\n[discovery]\nsources = ["pyenv"]\n'
        '[targets.version-specific]\nbuild_on = ["each"]\n'
    )
    args = ["--matrix", str(matrix), "--case", "sysconfig/c-api", "--target", "version-specific", "-j", "1"]
    return args + [a for p in PYTHONS for a in ("--python", p)]


@pytest.fixture(scope="module")
def reference(harness: Harness, selection: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Record]:
    results = tmp_path_factory.mktemp("reference")
    out = harness("run", "--results", str(results), *selection)
    assert out.returncode == 0, out.stderr[-3000:]
    records, _ = load(results / "latest")
    assert len(records) == TOTAL
    return {r.cell: r for r in records}


def _interrupt(cache_dir: Path, results: Path, selection: list[str], sig: signal.Signals) -> Path:
    """Start the run, wait for its first records, then send *sig*; the run directory."""
    cmd = [sys.executable, "-m", "harness", "run", "--results", str(results), "--cache-dir", str(cache_dir)]
    child = subprocess.Popen(
        cmd + selection, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 300
    lines = 0
    while time.monotonic() < deadline and child.poll() is None:
        files = list(results.glob("*/results.jsonl"))
        lines = len(files[0].read_bytes().splitlines()) if files else 0
        if lines >= 2:
            break
        time.sleep(0.02)
    assert child.poll() is None, "the run ended before it could be interrupted"
    if sig is signal.SIGKILL:
        os.killpg(child.pid, sig)  # the harness and every subprocess of it, as a CI timeout does
    else:
        os.kill(child.pid, sig)
    child.wait(timeout=300)
    assert child.stderr is not None
    child.stderr.close()
    (run_dir,) = [p for p in results.iterdir() if p.is_dir() and not p.is_symlink()]
    return run_dir


def _resume_and_compare(harness: Harness, run_dir: Path, reference: dict[str, Record]) -> None:
    before = {r.cell: r for r in read(run_dir).records}  # a torn last line is allowed here
    assert 1 <= len(before) < TOTAL, f"interrupted with {len(before)} of {TOTAL} cells recorded"
    out = harness("run", "--resume", str(run_dir))
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"{len(before)} of {TOTAL} cells kept, {TOTAL - len(before)} to run" in out.stderr
    records, environment = load(run_dir)
    cells = [r.cell for r in records]
    assert len(cells) == len(set(cells)) == TOTAL  # none lost, none twice
    assert set(cells) == set(reference)
    for record in records:
        assert record.run_id == environment.run_id
        for name in SAME:
            assert getattr(record, name) == getattr(reference[record.cell], name), (record.cell, name)
        if record.cell in before:
            assert record == before[record.cell]  # kept as it was, not run again
    assert environment.resumed


def test_resume_after_kill_9(
    harness: Harness,
    cache_dir: Path,
    selection: list[str],
    reference: dict[str, Record],
    tmp_path: Path,
) -> None:
    run_dir = _interrupt(cache_dir, tmp_path / "results", selection, signal.SIGKILL)
    assert json.loads((run_dir / "environment.json").read_text()).get("finished") is None
    _resume_and_compare(harness, run_dir, reference)


def test_resume_after_ctrl_c(
    harness: Harness,
    cache_dir: Path,
    selection: list[str],
    reference: dict[str, Record],
    tmp_path: Path,
) -> None:
    run_dir = _interrupt(cache_dir, tmp_path / "results", selection, signal.SIGINT)
    environment = json.loads((run_dir / "environment.json").read_text())
    assert environment["interrupted"] is True
    _resume_and_compare(harness, run_dir, reference)
