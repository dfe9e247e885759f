"""Subprocess outcomes become observations (recorded outcomes, no subprocess); observations round-trip."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from harness.cell.execute import LOADING_MARKER, RESULT_MARKER, load_obs
from harness.cell.observe import Call, Compiled, LoadOutcome, Observed, Route
from harness.errors import DamagedResults, HarnessError
from harness.infra.proc import Outcome
from harness.schema.decode import convert
from tests.conftest import FIXTURES

CALLS_OK = [{"call": "add(1, 2)", "expected": "3", "actual": "3", "ok": True}]


def outcome(stdout: str = "", returncode: int = 0, timed_out: bool = False, stderr: str = "") -> Outcome:
    return Outcome(("python",), returncode, stdout, stderr, 0.1, timed_out)


def result_line(data: dict[str, Any]) -> str:
    return "module noise\n" + RESULT_MARKER + json.dumps(data) + "\n"


def test_loaded_module_keeps_calls_and_compiled_values() -> None:
    obs = load_obs(
        Route.INSTALLED,
        outcome(result_line({"python": "3.12.1", "calls": CALLS_OK, "compiled": {"Py_LIMITED_API": 0}})),
    )
    assert obs.outcome is LoadOutcome.LOADED
    assert obs.calls == (Call(call="add(1, 2)", expected="3", actual="3", ok=True),)
    assert obs.compiled == Compiled(Py_LIMITED_API=0)


def test_exception_keeps_class_and_message() -> None:
    line = result_line({"python": "3.12.1", "import_error": "ImportError: nope", "import_error_type": "ImportError"})
    obs = load_obs(Route.SYS_PATH, outcome(line))
    assert (obs.outcome, obs.exception_type, obs.exception) == (
        LoadOutcome.EXCEPTION,
        "ImportError",
        "ImportError: nope",
    )


@pytest.mark.parametrize(("code", "name"), [(-11, "SIGSEGV"), (-6, "SIGABRT"), (-7, "SIGBUS")])
def test_signal_is_a_crash_naming_the_file_being_loaded(code: int, name: str) -> None:
    stdout = f"{LOADING_MARKER}pkg/_native.cpython-312-x86_64-linux-gnu.so\n"
    obs = load_obs(Route.BY_PATH, outcome(stdout, returncode=code, stderr="Fatal Python error: Segmentation fault"))
    assert (obs.outcome, obs.signal) == (LoadOutcome.CRASH, name)
    assert obs.files[0].file == "pkg/_native.cpython-312-x86_64-linux-gnu.so"
    assert obs.stderr_tail == "Fatal Python error: Segmentation fault"


def test_timeout_and_silent_exit() -> None:
    assert load_obs(Route.INSTALLED, outcome(returncode=-9, timed_out=True)).outcome is LoadOutcome.TIMEOUT
    silent = load_obs(Route.INSTALLED, outcome(returncode=1, stderr="Fatal Python error: init"))
    assert (silent.outcome, silent.returncode) == (LoadOutcome.NO_REPORT, 1)


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "observed").glob("*.json")))
def test_recorded_observations_round_trip(name: str) -> None:
    data = json.loads((FIXTURES / "observed" / name).read_text())["observed"]
    assert convert(data, Observed, source=name).to_json() == data


def test_a_malformed_call_report_is_a_harness_error_naming_the_field() -> None:
    line = result_line({"python": "3.12.1", "calls": [{"call": "add(1, 2)", "ok": "yes"}]})
    with pytest.raises(HarnessError, match=r"call.py.s report: calls\[0\]\.ok: expected bool, got str"):
        load_obs(Route.INSTALLED, outcome(line))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cp312-loaded.txt", LoadOutcome.LOADED),
        ("cp312-by-path.txt", LoadOutcome.LOADED),
        ("cp312-import-error.txt", LoadOutcome.EXCEPTION),
    ],
)
def test_recorded_call_reports_are_read_whole(name: str, expected: LoadOutcome) -> None:
    stdout = (FIXTURES / "call_reports" / name).read_text()
    report = json.loads(stdout.splitlines()[-1].removeprefix(RESULT_MARKER))
    obs = load_obs(Route.INSTALLED, outcome(stdout))
    assert obs.outcome is expected
    assert [f.file for f in obs.files] == [f["file"] for f in report.get("files", [])]
    assert list(msgspec.to_builtins(obs.calls)) == report.get("calls", [])
    assert obs.exception == report.get("import_error", "")
    assert obs.module_file == report.get("module_file")


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        ({"import_warnings": "DeprecationWarning"}, "import_warnings: expected array, got str"),
        ({"module_file": 5}, "module_file: expected str | null, got int"),
        ({"import_error": ["x"]}, "import_error: expected str | null, got array"),
        ({"compiled": {"Py_LIMITED_API": "3.12"}}, "compiled.Py_LIMITED_API: expected int | null, got str"),
        ({"threads": {"threads": -1, "calls": 8}}, "threads.threads: expected int >= 0"),
        ({"python": None}, "python: expected str, got null"),
        ({"surprise": 1}, "unknown field"),
    ],
)
def test_a_call_report_that_does_not_fit_names_the_field(damage: dict[str, Any], named: str) -> None:
    stdout = (FIXTURES / "call_reports" / "cp312-loaded.txt").read_text()
    report = json.loads(stdout.splitlines()[-1].removeprefix(RESULT_MARKER))
    with pytest.raises(HarnessError, match=r"call\.py's report: ") as caught:
        load_obs(Route.INSTALLED, outcome(result_line({**report, **damage})))
    assert named in str(caught.value)


def test_a_report_that_is_not_json_is_a_harness_error() -> None:
    with pytest.raises(HarnessError, match="not valid JSON"):
        load_obs(Route.INSTALLED, outcome(RESULT_MARKER + "{]\n"))


def test_unknown_observation_version_is_refused() -> None:
    data = json.loads((FIXTURES / "observed" / "installed_cp313.json").read_text())["observed"]
    with pytest.raises(DamagedResults, match=r"x\.json: version 99; this harness reads observations of version 1"):
        convert({**data, "version": 99}, Observed, source="x.json", error=DamagedResults)
