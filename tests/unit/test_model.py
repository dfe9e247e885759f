from __future__ import annotations

from dataclasses import replace

import pytest

from harness.model import Cell, Interpreter, KnownIssue, Status, Target, TargetKind, parse_version


@pytest.mark.parametrize(
    "text", ["setuptools/c-api:abi3:cp39:cp313", "meson-python/c-api:version-specific:cp312:cp311-path"]
)
def test_cell_id_round_trips(text: str) -> None:
    assert str(Cell.parse(text)) == text


@pytest.mark.parametrize("text", ["a:b:c", "a:b:c:d:e", "a::c:d"])
def test_cell_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError, match=r"CASE:TARGET:BUILD_PYTHON:RUN_PYTHON"):
        Cell.parse(text)


def test_target_values() -> None:
    abi3 = Target("abi3", TargetKind.ABI3, (3, 9), ("oldest",))
    assert abi3.py_api == "cp39"
    assert abi3.limited_api_hex == "0x03090000"
    assert Target("t", TargetKind.ABI3T, (3, 15), ()).limited_api_hex == "0x030F0000"
    assert Target("vs", TargetKind.VERSION_SPECIFIC, None, ()).py_api == ""


def test_parse_version() -> None:
    assert parse_version("3.15") == (3, 15)
    with pytest.raises(ValueError, match=r"MAJOR\.MINOR"):
        parse_version("3.15.1")


def test_interpreter_json_round_trip(cp313: Interpreter) -> None:
    assert Interpreter.from_json(cp313.to_json()) == cp313


def test_base_ids(cp313: Interpreter, cp315t: Interpreter) -> None:
    assert cp313.base_id == "cp313"
    assert cp315t.base_id == "cp315t"
    assert replace(cp315t, debug=True).base_id == "cp315td"
    assert replace(cp313, implementation="pypy").base_id == "pp313"


def test_known_issue_globs() -> None:
    issue = KnownIssue(
        index=0,
        case=("setuptools/*",),
        target=("abi3",),
        build_python=("*",),
        run_python=("cp31[23]", "cp39"),
        status=Status.FAIL,
        link="https://x",
        note="",
    )
    assert issue.matches("setuptools/cffi", "abi3", "cp39", "cp312")
    assert issue.matches("setuptools/cffi", "abi3", "cp39", "cp39")
    assert not issue.matches("setuptools/cffi", "abi3", "cp39", "cp311")
    assert not issue.matches("setuptools/cffi", "abi3", "cp39", "cp312-debian")
    assert not issue.matches("meson-python/c-api", "abi3", "cp39", "cp312")


def test_problem_statuses() -> None:
    assert {s for s in Status if s.is_problem} == {
        Status.FAIL,
        Status.XPASS,
        Status.CRASH,
        Status.TIMEOUT,
        Status.ERROR,
    }


def test_target_round_trips_through_environment_json() -> None:
    from harness.model import Target, TargetKind  # noqa: PLC0415

    for target in (
        Target("abi3-312", TargetKind.ABI3, (3, 12), ("oldest", "newest")),
        Target("version-specific", TargetKind.VERSION_SPECIFIC, None, ("each",)),
    ):
        assert Target.from_json(target.to_json()) == target
    assert Target("abi3", TargetKind.ABI3, (3, 9), ()).to_json()["py_api"] == "cp39"
