"""How the import/call subprocess's outcome becomes a status (recorded outcomes, no subprocess)."""

from __future__ import annotations

import json

from harness.execute import RESULT_MARKER, interpret_call
from harness.model import Status
from harness.proc import Outcome

CALLS_OK = [{"call": "add(1, 2)", "expected": "3", "actual": "3", "ok": True}]


def outcome(stdout: str = "", returncode: int = 0, timed_out: bool = False, stderr: str = "") -> Outcome:
    return Outcome(("python",), returncode, stdout, stderr, 0.1, timed_out)


def result_line(data: dict[str, object]) -> str:
    return "module noise\n" + RESULT_MARKER + json.dumps(data) + "\n"


def test_pass() -> None:
    status, reason, details = interpret_call(outcome(result_line({"calls": CALLS_OK})), 60)
    assert status is Status.PASS
    assert reason == "imported, 1/1 calls correct"
    assert details["calls"] == CALLS_OK


def test_wrong_call_is_fail_with_values() -> None:
    calls = [
        *CALLS_OK,
        {"call": "add(2**31 - 1, 1)", "expected": "OverflowError", "actual": "-2147483648", "ok": False},
    ]
    status, reason, _ = interpret_call(outcome(result_line({"calls": calls})), 60)
    assert status is Status.FAIL
    assert "add(2**31 - 1, 1) gave -2147483648, expected OverflowError" in reason


def test_import_error_is_fail() -> None:
    status, reason, _ = interpret_call(outcome(result_line({"import_error": "ImportError: nope"})), 60)
    assert status is Status.FAIL
    assert reason == "import failed: ImportError: nope"


def test_signal_is_crash() -> None:
    status, reason, _ = interpret_call(outcome(returncode=-11, stderr="Fatal Python error: Segmentation fault"), 60)
    assert status is Status.CRASH
    assert "SIGSEGV" in reason
    assert "Segmentation fault" in reason


def test_abort_is_crash() -> None:
    status, reason, _ = interpret_call(outcome(returncode=-6), 60)
    assert status is Status.CRASH
    assert "SIGABRT" in reason


def test_timeout() -> None:
    status, reason, _ = interpret_call(outcome(returncode=-9, timed_out=True), 5)
    assert status is Status.TIMEOUT
    assert "5s" in reason


def test_exit_without_result_is_crash() -> None:
    status, reason, _ = interpret_call(outcome("", returncode=1, stderr="Fatal Python error: init"), 60)
    assert status is Status.CRASH
    assert "exited 1 before reporting" in reason
