"""`check` on real wheels and real interpreters: a wheelhouse (a real PyPI wheel and a copy whose RECORD
lies), then a requirement downloaded from PyPI; the run directory works with report, --rejudge, --shard
and merge as a matrix run's does."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from harness.run.manifest import CheckEntry
from harness.run.records import Record, load
from tests.integration.conftest import Harness
from tests.unit.test_check import WHEEL

pytestmark = pytest.mark.integration

PYTHONS = ("--python", "cp312", "--python", "cp313")
SMOKE = 'python -c \'import markupsafe; assert markupsafe.escape("<") == "&lt;"\''
ID = "markupsafe/3.0.2:cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64:file"


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real cp312 wheel, and a copy retagged cp313 whose __init__.py no longer matches RECORD."""
    house = tmp_path_factory.mktemp("wheelhouse")
    shutil.copy(WHEEL, house)
    lying = house / WHEEL.name.replace("cp312-cp312", "cp313-cp313")
    with zipfile.ZipFile(WHEEL) as src, zipfile.ZipFile(lying, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            out.writestr(item.filename, data + b"\n" if item.filename == "markupsafe/__init__.py" else data)
    return house


def check(harness: Harness, cache_dir: Path, results: Path, *args: str) -> dict[str, Record]:
    out = harness("check", *args, *PYTHONS, "--cache-dir", str(cache_dir), "--results", str(results))
    assert out.returncode in (0, 1), out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    records, _ = load(results / "latest")
    return {r.cell: r for r in records}


def test_a_wheelhouse_every_cell_with_a_verdict(
    harness: Harness, cache_dir: Path, wheelhouse: Path, tmp_path: Path, interpreter_ids: list[str]
) -> None:
    cells = check(harness, cache_dir, tmp_path, str(wheelhouse), "--test", SMOKE)
    assert len(cells) == 4
    assert all(r.reason for r in cells.values())
    works = cells[f"{ID}:cp312"]
    assert (works.status, works.stages["import"].status, works.stages["test"].status) == ("pass", "pass", "pass")
    refused = cells[f"{ID}:cp313"]
    assert (refused.status, refused.expected) == ("pass", "refuse")
    assert {f.route for f in refused.findings} == {"by_path"}
    lying = [r for c, r in cells.items() if "cp313-cp313" in c]
    assert {(r.status, r.stage) for r in lying} == {("fail", "build")}
    assert all("markupsafe/__init__.py: sha256 in RECORD is not the file's" in r.reason for r in lying)
    page = (tmp_path / "latest" / "report.html").read_text()
    assert "Where each wheel works" in page
    assert "markupsafe/3.0.2" in page

    # Report, re-judging and the other formats work on it as on any run directory.
    out = harness("report", str(tmp_path / "latest"), "--rejudge", "--format", "md,html,junit,summary")
    assert out.returncode == 0, out.stderr
    assert "0 changed status" in out.stdout
    assert (tmp_path / "latest" / "junit.xml").is_file()


def test_shards_of_a_check_merge_into_the_whole(
    harness: Harness, cache_dir: Path, wheelhouse: Path, tmp_path: Path, interpreter_ids: list[str]
) -> None:
    for k in (1, 2):
        check(harness, cache_dir, tmp_path / f"shard-{k}", str(wheelhouse), "--shard", f"{k}/2")
    dirs = [str((tmp_path / f"shard-{k}" / "latest").resolve()) for k in (1, 2)]
    out = harness("merge", *dirs, "--out", str(tmp_path / "merged"))
    assert out.returncode == 0, out.stderr
    records, environment = load(tmp_path / "merged")
    assert len(records) == 4
    assert isinstance(environment.check, CheckEntry)
    assert environment.check.wheels


def test_a_requirement_from_the_index(
    harness: Harness, cache_dir: Path, tmp_path: Path, interpreter_ids: list[str]
) -> None:
    cells = check(harness, cache_dir, tmp_path, "markupsafe==3.0.2", "--import", "markupsafe._speedups")
    assert len(cells) == 2 * len({c.split(":")[1] for c in cells})
    assert {r.status for r in cells.values()} == {"pass"}
    accepted = [r for r in cells.values() if r.expected.startswith("install+work")]
    assert sorted(r.run_python for r in accepted) == ["cp312", "cp313"]
    environment = json.loads((tmp_path / "latest" / "environment.json").read_text())
    assert environment["check"]["index"] == "https://pypi.org/simple"
    assert all("sha256=" in w["origin"] for w in environment["check"]["wheels"])
