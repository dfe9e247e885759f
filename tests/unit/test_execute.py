"""How subprocess outcomes become stages, and stages a cell status (recorded outcomes, no subprocess)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from harness.audit import Audit, Finding
from harness.execute import (
    RESULT_MARKER,
    Stage,
    audit_stage,
    call_stage,
    decide,
    forced_load_stages,
    interpret_call,
    platform_mismatch,
    resolve_stage,
    threads_stage,
)
from harness.model import Expectation, Interpreter, Status
from harness.proc import Outcome

CALLS_OK = [{"call": "add(1, 2)", "expected": "3", "actual": "3", "ok": True}]
ACCEPT = Expectation(True, "cp39-abi3: stable ABI works on every later GIL CPython (PEP 384, PEP 425)")
REFUSE = Expectation(False, "cp312-cp312: version-specific ABI for 3.12 only (PEP 3149, PEP 425)")


def outcome(stdout: str = "", returncode: int = 0, timed_out: bool = False, stderr: str = "") -> Outcome:
    return Outcome(("python",), returncode, stdout, stderr, 0.1, timed_out)


def result_line(data: dict[str, Any]) -> str:
    return "module noise\n" + RESULT_MARKER + json.dumps(data) + "\n"


def test_import_passes_and_calls_are_a_separate_stage() -> None:
    status, reason, details = interpret_call(outcome(result_line({"calls": CALLS_OK})), 60)
    assert (status, reason) == (Status.PASS, "imported")
    assert call_stage(details) == Stage("call", Status.PASS, "imported, 1/1 calls correct")


def test_wrong_call_is_fail_with_values() -> None:
    calls = [
        *CALLS_OK,
        {"call": "add(2**31 - 1, 1)", "expected": "OverflowError", "actual": "-2147483648", "ok": False},
    ]
    stage = call_stage({"calls": calls})
    assert stage.status is Status.FAIL
    assert "add(2**31 - 1, 1) gave -2147483648, expected OverflowError" in stage.reason


def test_import_error_is_fail() -> None:
    status, reason, _ = interpret_call(outcome(result_line({"import_error": "ImportError: nope"})), 60)
    assert (status, reason) == (Status.FAIL, "import failed: ImportError: nope")


@pytest.mark.parametrize(("code", "name"), [(-11, "SIGSEGV"), (-6, "SIGABRT"), (-7, "SIGBUS")])
def test_signal_is_crash(code: int, name: str) -> None:
    status, reason, _ = interpret_call(outcome(returncode=code, stderr="Fatal Python error: Segmentation fault"), 60)
    assert status is Status.CRASH
    assert name in reason


def test_timeout() -> None:
    status, reason, _ = interpret_call(outcome(returncode=-9, timed_out=True), 5)
    assert status is Status.TIMEOUT
    assert "5s" in reason


def test_exit_without_result_is_crash() -> None:
    status, reason, _ = interpret_call(outcome("", returncode=1, stderr="Fatal Python error: init"), 60)
    assert status is Status.CRASH
    assert "exited 1 before reporting" in reason


def test_first_differing_stage_decides() -> None:
    stages = [
        Stage("audit", Status.SKIP, "not a stable-ABI wheel"),
        Stage("resolve", Status.PASS, "accepted"),
        Stage("install", Status.PASS, "installed"),
        Stage("import", Status.CRASH, "SIGSEGV"),
        Stage("call", Status.FAIL, "never reached in reality"),
    ]
    verdict = decide(stages, {})
    assert (verdict.status, verdict.stage, verdict.reason) == (Status.CRASH, "import", "SIGSEGV")
    assert verdict.details["stages"]["audit"] == {"status": "skip", "reason": "not a stable-ABI wheel"}
    passed = decide(stages[:3], {})
    assert (passed.status, passed.stage) == (Status.PASS, "install")


def test_resolve_refusal_as_expected(cp311: Interpreter) -> None:
    stage = resolve_stage(
        {"uv": (False, "no matching tag"), "pip": (False, "not supported")}, REFUSE, cp311, ["cp312-cp312-linux_x86_64"]
    )
    assert stage.status is Status.PASS
    assert stage.reason.startswith("refused as expected")
    assert "uv: no matching tag; pip: not supported" in stage.reason


def test_resolve_installers_disagree(cp311: Interpreter) -> None:
    stage = resolve_stage({"uv": (False, "no"), "pip": (True, "accepts")}, REFUSE, cp311, ["cp312-cp312-linux_x86_64"])
    assert stage.status is Status.FAIL
    assert "pip accepts a wheel the tag rules refuse" in stage.reason
    assert "installers disagree: uv refuses, pip accepts" in stage.reason


def test_resolve_notes_packaging_disagreement(cp311: Interpreter) -> None:
    odd = replace(cp311, supported_tags=("cp312-cp312-linux_x86_64",))
    stage = resolve_stage({"uv": (False, "no")}, REFUSE, odd, ["cp312-cp312-linux_x86_64"])
    assert stage.status is Status.PASS
    assert "[packaging.tags accepts it]" in stage.reason


@pytest.mark.parametrize(
    ("stdout", "code", "status", "words"),
    [
        (
            result_line(
                {"import_error": "ModuleNotFoundError: No module named 'm'", "import_error_type": "ModuleNotFoundError"}
            ),
            0,
            Status.PASS,
            "clean ModuleNotFoundError",
        ),
        (
            result_line({"import_error": "SystemError: invalid PyModuleDef", "import_error_type": "SystemError"}),
            0,
            Status.PASS,
            "clean SystemError",
        ),
        (
            result_line({"import_error": "OSError: boom", "import_error_type": "OSError"}),
            0,
            Status.FAIL,
            "expected ImportError",
        ),
        ("", -11, Status.CRASH, "safety nets"),
        (result_line({"calls": CALLS_OK}), 0, Status.PASS, "refusal is by tag only"),
    ],
)
def test_forced_load_of_a_refused_wheel(stdout: str, code: int, status: Status, words: str) -> None:
    (stage,) = forced_load_stages(outcome(stdout, returncode=code), 60, {})
    assert stage.status is status
    assert words in stage.reason


def test_threads_stage_only_on_free_threaded(cp313: Interpreter, cp315t: Interpreter) -> None:
    assert threads_stage(cp313, {}).status is Status.SKIP
    good = {
        "import_warnings": [],
        "gil_enabled_after_import": False,
        "threads": {"threads": 8, "calls": 16000, "errors": []},
    }
    assert threads_stage(cp315t, good).status is Status.PASS
    bad = {
        **good,
        "import_warnings": ["RuntimeWarning: The global interpreter lock (GIL) has been enabled"],
        "gil_enabled_after_import": True,
    }
    stage = threads_stage(cp315t, bad)
    assert stage.status is Status.FAIL
    assert "re-enabled the GIL" in stage.reason


def test_audit_finding_fails_only_older_claimed_interpreters(cp39: Interpreter, cp313: Interpreter) -> None:
    audit = Audit("abi3audit", (Finding("m.abi3.so", "PyType_GetName joined the stable ABI in 3.11", (3, 11)),), True)
    assert audit_stage(audit, cp39, ACCEPT).status is Status.FAIL
    assert audit_stage(audit, cp313, ACCEPT).status is Status.PASS
    assert audit_stage(audit, cp39, REFUSE).status is Status.PASS  # not claimed there
    assert audit_stage(Audit("none: not a stable-ABI wheel", (), False), cp39, ACCEPT).status is Status.SKIP


def test_missing_system_library_version_is_a_platform_mismatch(cp313: Interpreter) -> None:
    audit = Audit("abi3audit", (), True, (("CXXABI", "1.3.15"), ("GLIBC", "2.14")))
    error = (
        "ImportError: /usr/lib/x86_64-linux-gnu/libstdc++.so.6: version `CXXABI_1.3.15' not found "
        "(required by /venv/lib/python3.13/site-packages/m.abi3.so)"
    )
    stage = platform_mismatch(cp313, audit, {"import_error": error})
    assert stage is not None
    assert stage.status is Status.XFAIL
    assert "platform mismatch, not an ABI bug: CXXABI_1.3.15 not found" in stage.reason
    assert "the wheel needs CXXABI 1.3.15, GLIBC 2.14" in stage.reason
    assert platform_mismatch(cp313, audit, {"import_error": "ImportError: undefined symbol: PyFoo"}) is None
