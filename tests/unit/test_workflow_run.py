"""The run use case's steps, each called alone on a recorded run (tests/fixtures/runs/base)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.cli import parse_run
from harness.errors import ConfigError
from harness.workflows import run as workflow
from harness.workflows.run import RunRequest, RunState
from tests.conftest import FIXTURES


def request(tmp_path: Path, **changes: Any) -> RunRequest:
    base = RunRequest(matrix=Path("matrix.toml"), cache_dir=tmp_path / "cache", results=tmp_path / "results", jobs=2)
    return replace(base, **changes)


def test_steps_stop_at_the_first_exit_code(tmp_path: Path) -> None:
    ran: list[str] = []

    def step(name: str, code: int | None) -> workflow.Step:
        def run(state: RunState) -> int | None:
            ran.append(name)
            return code

        return run

    state = RunState(request(tmp_path), parse_run)
    assert workflow.execute_steps((step("a", None), step("b", 3), step("c", None)), state) == 3
    assert ran == ["a", "b"]
    assert workflow.execute_steps((step("d", None),), state) == 0


def test_the_run_is_its_steps_in_data_flow_order() -> None:
    names = [s.__name__ for s in workflow.STEPS]
    assert names == [
        "resume",
        "provision_missing",
        "load",
        "find_interpreters",
        "make_plan",
        "open_run",
        "execute",
        "write",
        "summarize",
    ]


def recorded_run(tmp_path: Path) -> Path:
    run_dir = tmp_path / "results" / "r"
    shutil.copytree(FIXTURES / "runs" / "base", run_dir)
    return run_dir


def test_resume_takes_the_selection_from_the_recorded_command_line(tmp_path: Path) -> None:
    run_dir = recorded_run(tmp_path)
    state = RunState(request(tmp_path, resume=run_dir), parse_run)
    workflow.resume(state)
    assert state.request.case == ("setuptools/c-api", "sysconfig/c-api")
    assert state.request.python == ("cp312", "cp313", "cp315")
    assert state.resumed is not None
    assert len(state.resumed.records) == 54


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"python": ("cp39",)}, "--python cp39 differs from the run's cp312 cp313 cp315"),
        ({"case": ("maturin/*",)}, "--case maturin/* differs from the run's setuptools/c-api sysconfig/c-api"),
    ],
)
def test_resume_refuses_another_selection(tmp_path: Path, given: dict[str, Sequence[str]], message: str) -> None:
    run_dir = recorded_run(tmp_path)
    state = RunState(request(tmp_path, resume=run_dir, **given), parse_run)
    with pytest.raises(ConfigError, match="a resumed run keeps its selection") as caught:
        workflow.resume(state)
    assert message in str(caught.value)


def test_summarize_exit_codes_from_the_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """0 with no problem cell, 1 with one, 130 when interrupted: from the records alone."""
    from harness.run.records import Writer, load  # noqa: PLC0415

    for name, interrupted, code in (("base", False, 0), ("regressed", False, 1), ("base", True, 130)):
        records, environment = load(FIXTURES / "runs" / name)
        writer = Writer(tmp_path / f"{name}-{interrupted}", keep=records)
        state = RunState(request(tmp_path), parse_run, writer=writer, environment=environment)
        state.interrupted = interrupted
        assert workflow.summarize(state) == code
        writer.close()
    assert "continue with `python -m harness run --resume" in capsys.readouterr().err
