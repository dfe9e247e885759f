"""A real run's directory, then made hostile as a downloaded artifact could be: nothing outside is touched.

One real cell (sysconfig/c-api, version-specific, built and run on cp312). Its environment.json then
names the run `x/../../../victim` (the run's scratch directory in the cache would have been that path, and
`--resume --rerun` deleted it), and its report.md is a symlink out of the directory.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.conftest import Harness
from tests.sentinel import sentinel, snapshot

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def real_run(harness: Harness, interpreter_ids: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    matrix = tmp_path_factory.mktemp("hostile") / "matrix.toml"
    matrix.write_text(
        f'cases_dir = "{REPO / "extensions"}"\n[discovery]\nsources = ["pyenv"]\n[targets.version-specific]\n'
    )
    results = matrix.parent / "results"
    out = harness(
        "run", "--matrix", str(matrix), "--case", "sysconfig/c-api", "--target", "version-specific",
        "--python", "cp312", "--results", str(results), "-j", "1",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return (results / "latest").resolve()


def test_resume_rerun_with_a_hostile_run_id(harness: Harness, real_run: Path, cache_dir: Path) -> None:
    # the cache is <tmp>/cacheN: cells/run-x/../../../victim is <tmp>/victim
    victim = sentinel(cache_dir.parent)
    before = snapshot(victim)
    env_file = real_run / "environment.json"
    environment = json.loads(env_file.read_text())
    env_file.write_text(json.dumps(environment | {"run_id": "x/../../../victim"}))
    records = (real_run / "results.jsonl").read_bytes()
    out = harness("run", "--resume", str(real_run), "--rerun")
    env_file.write_text(json.dumps(environment))
    assert out.returncode == 3, out.stderr
    assert f"{env_file}: run_id:" in out.stderr
    assert "Traceback" not in out.stderr
    assert snapshot(victim) == before
    assert (real_run / "results.jsonl").read_bytes() == records


def test_report_replaces_a_symlink_instead_of_writing_through(harness: Harness, real_run: Path) -> None:
    victim = sentinel(real_run.parent.parent)
    before = snapshot(victim)
    (real_run / "report.md").unlink()
    (real_run / "report.md").symlink_to(victim / "keep.txt")
    out = harness("report", str(real_run))
    assert out.returncode == 0, out.stderr
    assert snapshot(victim) == before
    assert not (real_run / "report.md").is_symlink()
    assert "ABI matrix" in (real_run / "report.md").read_text()
