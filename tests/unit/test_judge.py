"""The judgement, rule by rule, over observations recorded from real cells (no subprocess).

Fixtures: tests/fixtures/observed/*.json are real records' `observed` of setuptools/c-api-modexport
version-specific wheels (built on 3.13, 3.14, 3.15, 3.15d) on the interpreters their names say.
Variants are made with dataclasses.replace, each changing the one fact a rule reads.
"""

from __future__ import annotations

import json

import pytest

from harness.build.audit_result import Audit
from harness.build.audit_result import Finding as AuditFinding
from harness.cell.observe import (
    AbiInfo,
    Answer,
    BuildObs,
    Call,
    InstallerObs,
    LoadObs,
    LoadOutcome,
    Observed,
    Route,
)
from harness.model import Cell, Expectation, Interpreter, KnownIssue, Status, Target, TargetKind
from harness.schema.decode import convert
from harness.verdict.judge import CellFacts, decide, judge
from harness.verdict.oracle import abi_info_check
from harness.verdict.stages import Stage, audit_stage, platform_mismatch
from tests.conftest import FIXTURES, recorded
from tests.unit.structs import replace

VS = Target("version-specific", TargetKind.VERSION_SPECIFIC, None, ("each",))
CASE = "setuptools/c-api-modexport"
ACCEPT = Expectation(True, "cp39-abi3: stable ABI works on every later GIL CPython (PEP 384, PEP 425)")
REFUSE = Expectation(False, "cp312-cp312: version-specific ABI for 3.12 only (PEP 3149, PEP 425)")
GIL_315 = AbiInfo(major=1, minor=0, flags=0x2, build_version=0x030F02F0, abi_version=0x030F02F0)


def facts(fixture: str, build: str, run: Interpreter | str, observed: Observed | None = None) -> CellFacts:
    data = json.loads((FIXTURES / "observed" / f"{fixture}.json").read_text())
    run_interp = recorded(run) if isinstance(run, str) else run
    return CellFacts(
        cell=Cell(CASE, VS.name, build, run_interp.id),
        target=VS,
        build=recorded(build),
        run=run_interp,
        observed=observed or convert(data["observed"], Observed, source=f"{fixture}.json"),
    )


def with_load(f: CellFacts, route: Route, **changes: object) -> CellFacts:
    loads = tuple(replace(x, **changes) if x.route is route else x for x in f.observed.loads)
    return replace(f, observed=replace(f.observed, loads=loads))


def issue(status: Status = Status.FAIL, **selectors: tuple[str, ...]) -> KnownIssue:
    fields: dict[str, tuple[str, ...]] = {
        "case": ("*",),
        "target": ("*",),
        "build_python": ("*",),
        "run_python": ("*",),
    }
    fields.update(selectors)
    return KnownIssue(index=0, status=status, link="https://example.org/issue/1", note="", **fields)


# -- accepted wheels ---------------------------------------------------------------------------


def test_installed_module_with_right_calls_passes() -> None:
    verdict = judge(facts("installed_cp313", "cp313", "cp313"), [])
    assert (verdict.status, verdict.stage, verdict.reason) == (Status.PASS, "call", "imported, 6/6 calls correct")
    assert verdict.expected == "install+work"
    assert list(verdict.stages) == ["audit", "resolve", "install", "import", "call", "threads"]
    assert verdict.findings == ()


def test_wrong_call_fails_with_values() -> None:
    f = facts("installed_cp313", "cp313", "cp313")
    load = f.observed.load(Route.INSTALLED)
    assert load is not None
    wrong = (Call(call="add(2**31 - 1, 1)", expected="OverflowError", actual="-2147483648", ok=False),)
    verdict = judge(with_load(f, Route.INSTALLED, calls=load.calls[:1] + wrong), [])
    assert (verdict.status, verdict.stage) == (Status.FAIL, "call")
    assert "add(2**31 - 1, 1) gave -2147483648, expected OverflowError" in verdict.reason


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"outcome": LoadOutcome.EXCEPTION, "exception": "ImportError: nope"}, Status.FAIL, "import failed: Import"),
        ({"outcome": LoadOutcome.CRASH, "signal": "SIGSEGV"}, Status.CRASH, "crashed with SIGSEGV"),
        ({"outcome": LoadOutcome.TIMEOUT}, Status.TIMEOUT, "did not finish in time"),
        ({"outcome": LoadOutcome.NO_REPORT, "returncode": 1}, Status.CRASH, "exited 1 before reporting"),
    ],
)
def test_installed_import_outcomes(changes: dict[str, object], status: Status, words: str) -> None:
    verdict = judge(with_load(facts("installed_cp313", "cp313", "cp313"), Route.INSTALLED, **changes), [])
    assert (verdict.status, verdict.stage) == (status, "import")
    assert words in verdict.reason


def test_install_failure_is_error_unless_refused() -> None:
    f = facts("installed_cp313", "cp313", "cp313")
    (uv,) = f.observed.installers
    broken = replace(uv, install=Answer(ok=False, message="error: disk full"))
    verdict = judge(replace(f, observed=replace(f.observed, installers=(broken,), loads=())), [])
    assert (verdict.status, verdict.stage) == (Status.ERROR, "install")
    refused = replace(uv, install=Answer(ok=False, refused=True, message="not a supported wheel"))
    verdict = judge(replace(f, observed=replace(f.observed, installers=(refused,), loads=())), [])
    assert (verdict.status, verdict.stage) == (Status.FAIL, "install")


def test_installer_refusing_an_acceptable_wheel_fails_at_resolve() -> None:
    f = facts("installed_cp313", "cp313", "cp313")
    (uv,) = f.observed.installers
    no = replace(uv, resolve=Answer(ok=False, refused=True, message="no matching tag"), install=None)
    verdict = judge(replace(f, observed=replace(f.observed, installers=(no,), loads=())), [])
    assert (verdict.status, verdict.stage) == (Status.FAIL, "resolve")
    assert "uv refused a wheel the tag rules accept" in verdict.reason


def test_installers_disagreeing_is_named() -> None:
    f = facts("refused_314_on_313", "cp314", "cp313")
    (uv,) = f.observed.installers
    pip = InstallerObs(name="pip", version="pip 26.0", env=Answer(ok=True), resolve=Answer(ok=True))
    verdict = judge(replace(f, observed=replace(f.observed, installers=(uv, pip))), [])
    assert (verdict.status, verdict.stage) == (Status.FAIL, "resolve")
    assert "pip accepts a wheel the tag rules refuse" in verdict.reason
    assert "installers disagree: uv refuses, pip accepts" in verdict.reason


def test_resolve_error_and_environment_error() -> None:
    f = facts("installed_cp313", "cp313", "cp313")
    (uv,) = f.observed.installers
    odd = replace(uv, resolve=Answer(ok=False, message="error: index unreachable"), install=None)
    verdict = judge(replace(f, observed=replace(f.observed, installers=(odd,), loads=())), [])
    assert (verdict.status, verdict.stage, verdict.reason) == (
        Status.ERROR,
        "resolve",
        "uv failed: error: index unreachable",
    )
    no_env = replace(uv, env=Answer(ok=False, message="no python"), resolve=None, install=None)
    verdict = judge(replace(f, observed=replace(f.observed, installers=(no_env,), loads=())), [])
    assert (verdict.status, verdict.reason) == (Status.ERROR, "could not create an environment: no python")


# -- refused wheels, loaded anyway -------------------------------------------------------------


def test_refused_wheel_reports_both_loads_and_the_finding() -> None:
    verdict = judge(facts("refused_314_on_313", "cp314", "cp313"), [])
    assert (verdict.status, verdict.expected) == (Status.PASS, "refuse")
    assert verdict.reason.startswith("refused as expected (cp314-cp314: version-specific ABI for 3.14 only")
    assert "sys_path: refused cleanly by the file-name safety net" in verdict.reason
    assert "by_path: loads and works" in verdict.reason
    assert [(x.route, x.kind) for x in verdict.findings] == [("by_path", "loads and works")]
    assert verdict.stages["load:sys_path"].status == "pass"


def test_file_name_net_that_must_fire_but_does_not_fails() -> None:
    f = facts("refused_314_on_313", "cp314", "cp313")
    verdict = judge(with_load(f, Route.SYS_PATH, outcome=LoadOutcome.LOADED), [])
    assert (verdict.status, verdict.stage) == (Status.FAIL, "load:sys_path")
    assert "file-name safety net (EXTENSION_SUFFIXES) did not fire" in verdict.reason


def test_file_name_net_cannot_fire_for_a_listed_suffix() -> None:
    """A .cpython-314 file on an interpreter that (say, patched) lists that suffix: only a finding."""
    run = replace(recorded("cp313"), ext_suffixes=(".cpython-314-x86_64-linux-gnu.so", ".so"))
    f = with_load(
        facts("refused_314_on_313", "cp314", run), Route.SYS_PATH, outcome=LoadOutcome.CRASH, signal="SIGSEGV"
    )
    verdict = judge(f, [])
    assert verdict.status is Status.PASS
    assert ("sys_path", "crash") in [(x.route, x.kind) for x in verdict.findings]


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"outcome": LoadOutcome.CRASH, "signal": "SIGSEGV"}, "crash"),
        ({"outcome": LoadOutcome.TIMEOUT}, "timeout"),
        ({"outcome": LoadOutcome.EXCEPTION, "exception": "ImportError: undefined symbol: Py_Version"}, "clean error"),
    ],
)
def test_runtime_load_without_a_check_is_a_finding_not_a_problem(changes: dict[str, object], kind: str) -> None:
    verdict = judge(with_load(facts("refused_314_on_313", "cp314", "cp313"), Route.BY_PATH, **changes), [])
    assert verdict.status is Status.PASS
    assert [(x.route, x.kind) for x in verdict.findings] == [("by_path", kind)]


def test_debug_build_module_passes_the_runtime_check_on_release() -> None:
    """Recorded: 3.15d's version-specific module declares GIL, ABI 3.15; 3.15 lets it through."""
    verdict = judge(facts("refused_315d_on_315", "cp315d", "cp315"), [])
    assert verdict.status is Status.PASS
    assert "passes the check" in verdict.reason
    assert [(x.route, x.kind) for x in verdict.findings] == [("by_path", "loads and works")]


def free_threaded_315() -> Interpreter:
    """3.15t facts derived from the recorded 3.15 probe and DOMAIN.md (no free-threaded build here)."""
    return replace(
        recorded("cp315"),
        id="cp315t",
        free_threaded=True,
        ext_suffixes=(".cpython-315t-x86_64-linux-gnu.so", ".abi3t-x86_64-linux-gnu.so", ".abi3t.so", ".so"),
    )


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        (
            {
                "outcome": LoadOutcome.EXCEPTION,
                "exception_type": "ImportError",
                "exception": "ImportError: m: incompatible with free-threaded CPython",
            },
            Status.PASS,
            "refused cleanly by the runtime safety net",
        ),
        ({"outcome": LoadOutcome.LOADED}, Status.FAIL, "runtime safety net (Py_mod_abi, PyABIInfo_Check) did not fire"),
        ({"outcome": LoadOutcome.CRASH, "signal": "SIGSEGV"}, Status.CRASH, "did not fire (GIL-only module"),
        (
            {"outcome": LoadOutcome.EXCEPTION, "exception_type": "SystemError", "exception": "SystemError: x"},
            Status.FAIL,
            "did not fire",
        ),
    ],
)
def test_module_the_runtime_check_must_refuse(changes: dict[str, object], status: Status, words: str) -> None:
    """The recorded GIL-flagged 3.15 module on a free-threaded 3.15: PyABIInfo_Check must refuse it."""
    f = with_load(facts("refused_315d_on_315", "cp315d", free_threaded_315()), Route.BY_PATH, **changes)
    f = with_load(f, Route.SYS_PATH, outcome=LoadOutcome.EXCEPTION, exception_type="ModuleNotFoundError")
    verdict = judge(f, [])
    assert verdict.status is status
    assert words in verdict.reason
    assert verdict.findings == ()


@pytest.mark.parametrize(
    ("info", "run", "result", "words"),
    [
        (None, "cp315", None, "declares no Py_mod_abi"),
        (GIL_315, "cp314", None, "has no Py_mod_abi check"),
        (GIL_315, "cp315", True, "passes the check"),
        (GIL_315, "cp315d", True, "passes the check"),  # debug is not part of the check
        (replace(GIL_315, abi_version=0x03100000), "cp315", False, "version-specific ABI 3.16 is not 3.15"),
        (replace(GIL_315, flags=0x3, abi_version=0x03100000), "cp315", False, "stable ABI 3.16 is newer"),
        (replace(GIL_315, flags=0x3, abi_version=0x03090000), "cp315", True, "passes"),
        (replace(GIL_315, flags=0x1 | 0x4, abi_version=0x030F0000), "cp315", False, "free-threaded-only module"),
        (replace(GIL_315, flags=0x1 | 0x6, abi_version=0x030F0000), "cp315", True, "passes"),
        (replace(GIL_315, major=0), "cp315", None, "turns the check off"),
        (replace(GIL_315, major=2), "cp315", False, "version too high"),
        (replace(GIL_315, flags=0x9, abi_version=0x030F0000), "cp315", False, "both internal and stable"),
    ],
)
def test_abi_info_check_follows_cpython(info: AbiInfo | None, run: str, result: bool | None, words: str) -> None:
    ok, why = abi_info_check(info, recorded(run))
    assert ok is result
    assert words in why


def test_abi_info_check_on_free_threaded() -> None:
    ok, why = abi_info_check(GIL_315, free_threaded_315())
    assert ok is False
    assert "GIL-only module on a free-threaded build" in why
    assert abi_info_check(replace(GIL_315, flags=0x1 | 0x6), free_threaded_315())[0] is True


# -- known issues, builds, artifacts -----------------------------------------------------------


def test_known_issue_turns_failure_into_xfail_and_pass_into_xpass() -> None:
    f = facts("refused_314_on_313", "cp314", "cp313")
    broken = with_load(f, Route.SYS_PATH, outcome=LoadOutcome.LOADED)
    assert judge(broken, [issue()]).status is Status.XFAIL
    assert judge(f, [issue()]).status is Status.XPASS
    assert judge(f, [issue(run_python=("cp312",))]).status is Status.PASS  # the selector decides
    assert judge(broken, [issue(Status.CRASH)]).status is Status.FAIL  # another failure than expected


def test_failed_build_is_fail_or_error_with_its_known_issue() -> None:
    f = facts("installed_cp313", "cp313", "cp313")
    failed = replace(f, observed=Observed(build=BuildObs(ok=False, message="build failed (exit 1): no abi3t")))
    verdict = judge(failed, [])
    assert (verdict.status, verdict.stage, verdict.expected) == (Status.FAIL, "build", "a wheel")
    assert judge(failed, [issue()]).status is Status.XFAIL
    infra = replace(f, observed=Observed(build=BuildObs(ok=False, infrastructure=True, message="index down")))
    assert judge(infra, []).status is Status.ERROR


def test_artifact_check_reads_compiled_values_from_a_forced_load() -> None:
    """A refused wheel that loaded by path still shows what it was compiled as."""
    abi3 = Target("abi3", TargetKind.ABI3, (3, 9), ("each",))
    f = replace(facts("refused_314_on_313", "cp314", "cp313"), target=abi3)
    verdict = judge(f, [])
    assert (verdict.status, verdict.stage) == (Status.FAIL, "artifact")
    assert "compiled Py_LIMITED_API=0 Py_TARGET_ABI3T=0" in verdict.reason


def test_first_differing_stage_decides() -> None:
    stages = [
        Stage("audit", Status.SKIP, "not a stable-ABI wheel"),
        Stage("resolve", Status.PASS, "accepted"),
        Stage("install", Status.PASS, "installed"),
        Stage("import", Status.CRASH, "SIGSEGV"),
        Stage("call", Status.FAIL, "never reached in reality"),
    ]
    verdict = decide(stages)
    assert (verdict.status, verdict.stage, verdict.reason) == (Status.CRASH, "import", "SIGSEGV")
    assert (decide(stages[:3]).status, decide(stages[:3]).stage) == (Status.PASS, "install")


def test_audit_finding_fails_only_older_claimed_interpreters() -> None:
    audit = Audit(
        "abi3audit", (AuditFinding("m.abi3.so", "PyType_GetName joined the stable ABI in 3.11", (3, 11)),), True
    )
    assert audit_stage(audit, recorded("cp39"), ACCEPT).status is Status.FAIL
    assert audit_stage(audit, recorded("cp313"), ACCEPT).status is Status.PASS
    assert audit_stage(audit, recorded("cp39"), REFUSE).status is Status.PASS  # not claimed there
    assert audit_stage(Audit("none: not a stable-ABI wheel", (), False), recorded("cp39"), ACCEPT).status is Status.SKIP


def test_missing_system_library_version_is_a_platform_mismatch() -> None:
    audit = Audit("abi3audit", (), True, {"CXXABI": "1.3.15", "GLIBC": "2.14"})
    error = (
        "ImportError: /usr/lib/x86_64-linux-gnu/libstdc++.so.6: version `CXXABI_1.3.15' not found "
        "(required by /venv/lib/python3.13/site-packages/m.abi3.so)"
    )
    load = LoadObs(route=Route.INSTALLED, outcome=LoadOutcome.EXCEPTION, exception=error)
    stage = platform_mismatch(recorded("cp313"), audit, load)
    assert stage is not None
    assert stage.status is Status.XFAIL
    assert "platform mismatch, not an ABI bug: CXXABI_1.3.15 not found" in stage.reason
    assert "the wheel needs CXXABI 1.3.15, GLIBC 2.14" in stage.reason
    other = replace(load, exception="ImportError: undefined symbol: PyFoo")
    assert platform_mismatch(recorded("cp313"), audit, other) is None


def test_a_rootfs_load_dying_under_bwrap_is_a_crash() -> None:
    """Recorded: Cython modules built on 3.13 loaded by path on Debian's 3.15 exit 139 through bwrap."""
    f = with_load(
        facts("refused_315_on_314", "cp315", "cp314"), Route.BY_PATH, outcome=LoadOutcome.NO_REPORT, returncode=139
    )
    verdict = judge(f, [])
    assert [(x.route, x.kind) for x in verdict.findings] == [("by_path", "crash")]
    assert "SIGSEGV (bwrap exit 139)" in verdict.findings[0].detail
    host = replace(f, run=replace(f.run, root=""))
    assert [x.kind for x in judge(host, []).findings] == ["no report"]  # no bwrap: an exit status is just that
