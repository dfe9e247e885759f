"""Two runs at once on one fresh cache: both complete with every cell, the cache holds one of each entry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.run.records import load
from tests.conftest import REPO

pytestmark = pytest.mark.integration

PYTHONS = ("cp312", "cp313")


def test_two_runs_share_one_fresh_cache(interpreter_ids: list[str], tmp_path: Path) -> None:
    cache = tmp_path / "cache"  # fresh: both runs copy probe-lib, probe, build and audit at the same time
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(
        f'cases_dir = "{REPO / "extensions"}"\n[discovery]\nsources = ["pyenv"]\n'
        '[targets.version-specific]\nbuild_on = ["each"]\n'
    )
    args = ["--matrix", str(matrix), "--case", "sysconfig/c-api", "--cache-dir", str(cache), "-j", "2"]
    args += [a for p in PYTHONS for a in ("--python", p)]
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "harness", "run", "--results", str(tmp_path / name), *args],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    errors = [run.communicate(timeout=600)[1] for run in runs]
    for run, err in zip(runs, errors, strict=True):
        assert run.returncode == 0, err[-3000:]
    for name in ("a", "b"):
        records, _ = load(tmp_path / name / "latest")
        assert len(records) == len(PYTHONS) ** 2
        assert {r.status for r in records} == {"pass"}, [(r.cell, r.reason) for r in records if r.status != "pass"]
    wheels = sorted((cache / "wheels").iterdir())
    assert len(wheels) == len(PYTHONS)  # one entry per wheel, whoever built it
    for entry in wheels:
        assert (entry / "artifact.json").is_file()
        assert len(list(entry.glob("*.whl"))) == 1
    leftovers = [p for p in cache.rglob("*") if p.name.startswith(".") and not p.name.endswith(".lock")]
    assert leftovers == []
    assert len(list((cache / "probe-lib").iterdir())) == 1
