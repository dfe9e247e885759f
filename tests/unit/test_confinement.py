"""Paths made from data stay under their root: the grammar, the join, the delete, the report writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.__main__ import main
from harness.errors import HarnessError
from harness.infra import atomic
from harness.infra.paths import UnsafePath, part_problem, relative_problem, remove_tree, safe_name, under
from harness.run import pipeline
from harness.run.pipeline import Settings
from harness.run.plan import Plan
from harness.run.progress import Progress
from harness.run.records import Writer, point_latest, point_link, write_json
from tests.conftest import FIXTURES, REPO
from tests.sentinel import sentinel, snapshot

GOOD = ("cp312", "cp315td", "cp313-debian-2", "version-specific", "abi3", "20261130T042006Z-12345", "merged-a+b")
BAD = ("", ".", "..", "a/b", "x/../../victim", "/etc", "a:b", "-rf", ".hidden", "a..b", "a b", "a\nb", "é", "x" * 129)


@pytest.mark.parametrize("text", GOOD)
def test_grammar_accepts(text: str) -> None:
    assert part_problem(text) is None


@pytest.mark.parametrize("text", BAD)
def test_grammar_refuses(text: str) -> None:
    assert part_problem(text) is not None


def test_grammar_refuses_non_strings() -> None:
    assert part_problem(5) == "expected a string, got int"
    assert part_problem(None) == "expected a string, got NoneType"


@pytest.mark.parametrize("rel", ["src/x.c", "src/abitest_facts.h", "a"])
def test_relative_accepts(rel: str) -> None:
    assert relative_problem(rel) is None


@pytest.mark.parametrize("rel", ["../x", "src/../../x", "/etc/hostname", "src//x", "src/", ""])
def test_relative_refuses(rel: str) -> None:
    assert relative_problem(rel) is not None


def test_under_refuses_a_symlink_leaving_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "out").symlink_to(tmp_path)
    (root / "in").symlink_to(root)
    assert under(root, "in", "x") == root / "in" / "x"
    with pytest.raises(UnsafePath, match="leads outside"):
        under(root, "out", "x")
    with pytest.raises(UnsafePath, match=r"holds '\.\.'"):
        under(root, "../x")


def test_remove_tree_deletes_only_under_its_root(tmp_path: Path) -> None:
    victim = sentinel(tmp_path)
    before = snapshot(tmp_path)
    root = tmp_path / "cache"
    root.mkdir()
    (root / "link").symlink_to(victim)
    remove_tree(root, root / "link")  # a symlink is not followed
    with pytest.raises(UnsafePath):
        remove_tree(root, root / ".." / "victim")
    with pytest.raises(UnsafePath):
        remove_tree(root, root)
    (root / "link").unlink()
    root.rmdir()
    assert snapshot(tmp_path) == before
    (root / "mine" / "x").mkdir(parents=True)
    remove_tree(root, root / "mine")
    assert not (root / "mine").exists()


def test_safe_name_is_one_part() -> None:
    for text in ("setuptools/c-api:abi3:cp39:cp312", "../..", ".x", "-x", "a/../b"):
        assert part_problem(safe_name(text)) is None, text


def test_run_plan_with_a_hostile_run_id_deletes_nothing_outside(tmp_path: Path) -> None:
    """The issue's case: run id `x/../../../victim` made the run's scratch directory, then deleted it."""
    victim = sentinel(tmp_path)
    cache = tmp_path / "cache"  # cache/cells/run-x/../../../victim is tmp_path/victim
    cache.mkdir()
    before = snapshot(tmp_path)
    settings = Settings((), cache, 1, 1.0, 1.0, ())
    writer = Writer(tmp_path / "run")
    with pytest.raises(UnsafePath):
        pipeline.run_plan(Plan((), (), ()), settings, "x/../../../victim", writer, Progress(0, live=False))
    writer.close()
    assert victim.is_dir()
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith("run")} == before


def test_run_plan_removes_its_own_scratch_directory(tmp_path: Path) -> None:
    settings = Settings((), tmp_path / "cache", 1, 1.0, 1.0, ())
    writer = Writer(tmp_path / "run")
    pipeline.run_plan(Plan((), (), ()), settings, "r1", writer, Progress(0, live=False))
    writer.close()
    assert not (tmp_path / "cache" / "cells" / "run-r1").exists()


def _hostile_run(tmp_path: Path, run_id: str) -> Path:
    run = tmp_path / "results" / "r"
    run.mkdir(parents=True)
    (run / "results.jsonl").write_text("")
    write_json(run / "environment.json", {"run_id": run_id, "argv": ["run"]})
    return run


@pytest.mark.parametrize("run_id", ["x/../../../victim", "../victim", "/tmp", "a:b", 5])
def test_resume_rerun_with_a_hostile_run_id(tmp_path: Path, capsys: pytest.CaptureFixture[str], run_id: object) -> None:
    victim = sentinel(tmp_path)
    run = _hostile_run(tmp_path, run_id)  # type: ignore[arg-type]
    cache = tmp_path / "cache"
    before = snapshot(tmp_path)
    # No matrix.toml: should the run id ever pass, the command stops there instead of building the repository's.
    missing = str(tmp_path / "no-matrix.toml")
    code = main(["run", "--resume", str(run), "--rerun", "--cache-dir", str(cache), "--matrix", missing])
    err = capsys.readouterr().err
    assert code == 3, err
    assert f"{run / 'environment.json'}: run_id:" in err
    assert "Traceback" not in err
    assert victim.is_dir()
    assert {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("cache")} == before


def test_write_in_replaces_a_symlink_instead_of_writing_through(tmp_path: Path) -> None:
    victim = sentinel(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    (run / "report.md").symlink_to(victim / "keep.txt")
    atomic.write_in(run, "report.md", "new\n")
    assert (victim / "keep.txt").read_text() == "do not delete\n"
    assert not (run / "report.md").is_symlink()
    assert (run / "report.md").read_text() == "new\n"


def test_write_in_a_directory_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "report.md").mkdir()
    with pytest.raises(UnsafePath, match="is a directory"):
        atomic.write_in(tmp_path, "report.md", "x")
    with pytest.raises(UnsafePath):
        atomic.write_in(tmp_path, "../x", "x")


def test_write_json_replaces_a_symlinked_temporary(tmp_path: Path) -> None:
    """The old fixed name environment.tmp was followed when it was a symlink."""
    victim = sentinel(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    (run / "environment.tmp").symlink_to(victim / "keep.txt")
    write_json(run / "environment.json", {"a": 1})
    assert (victim / "keep.txt").read_text() == "do not delete\n"
    assert json.loads((run / "environment.json").read_text()) == {"a": 1}


def test_writer_refuses_a_results_file_leaving_the_run(tmp_path: Path) -> None:
    victim = sentinel(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.jsonl").symlink_to(victim / "keep.txt")
    with pytest.raises(HarnessError, match="leads outside"):
        Writer(run)
    assert (victim / "keep.txt").read_text() == "do not delete\n"


def test_latest_that_is_a_directory_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "latest" / "x").mkdir(parents=True)
    (tmp_path / "r2").mkdir()
    point_latest(tmp_path, tmp_path / "r2")
    assert (tmp_path / "latest" / "x").is_dir()
    assert "latest: a directory or file, not the symlink the harness keeps" in capsys.readouterr().err
    (tmp_path / "l2").mkdir()
    (tmp_path / "latest" / "x").rmdir()
    (tmp_path / "latest").rmdir()
    point_latest(tmp_path, tmp_path / "r2")
    assert (tmp_path / "latest").readlink() == Path("r2")


def _read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only run directory, as a non-root user sees it (the tests may run as root, who can write anyway)."""

    def refuse(path: Path, text: str) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(atomic, "write_text", refuse)


@pytest.mark.parametrize("argv", [["--rejudge", "--matrix", str(REPO / "matrix.toml")], ["--format", "md"]])
def test_read_only_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(FIXTURES / "runs" / "base", run)
    before = snapshot(tmp_path)
    _read_only(monkeypatch)
    assert main(["report", str(run), *argv]) == 1
    err = capsys.readouterr().err
    assert f"{run}" in err
    assert "Permission denied" in err
    assert "Traceback" not in err
    assert snapshot(tmp_path) == before


def test_nightly_latest_that_is_a_directory_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "nightly-latest" / "results.jsonl").parent.mkdir()
    (tmp_path / "nightly-latest" / "results.jsonl").write_text("")
    before = snapshot(tmp_path)
    assert point_link(tmp_path / "nightly-latest", Path("n1") / "merged") is False
    assert snapshot(tmp_path) == before
    assert "nightly-latest: a directory or file" in capsys.readouterr().err
    assert point_link(tmp_path / "other", Path("n1") / "merged") is True
    assert (tmp_path / "other").readlink() == Path("n1/merged")
