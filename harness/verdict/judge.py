"""Observations + expectation + known issues -> stages, status, reason. Pure: no subprocess, no I/O.

The verdict is composed here: each stage (stages.py), the forced loads of a refused wheel, whether
the wheel is what its target asked for (artifact.py), then the known issues of matrix.toml.

The cell's status is the first stage that differs from what the oracle expects. A refused wheel's
files loaded anyway are judged by what CPython promises: the file-name net must fire when the
interpreter does not list the file's suffix, and the runtime check (Py_mod_abi, PyABIInfo_Check)
must refuse what its rules refuse. Where nothing was promised, what happened is a finding (shown
in the report, counted apart from problems), never a failure.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import msgspec

from harness.cell.observe import Dependencies, LoadObs, LoadOutcome, Observed, Route
from harness.model import Cell, Expectation, Interpreter, KnownIssue, Status, Target, Verdict, ext_suffix
from harness.verdict import artifact, checked, oracle
from harness.verdict.stages import (
    CLEAN_LOAD_ERRORS,
    Stage,
    StageResult,
    audit_stage,
    call_stage,
    died,
    import_stage,
    platform_mismatch,
    resolve_stage,
    threads_stage,
    through_bwrap,
)


class FindingKind(enum.StrEnum):
    LOADS_AND_WORKS = "loads and works"
    WRONG_RESULTS = "loads, wrong results"
    CLEAN_ERROR = "clean error"
    CRASH = "crash"
    TIMEOUT = "timeout"
    NO_REPORT = "no report"
    DEPENDENCY_NOT_INSTALLABLE = "dependency not installable"  # the wheel's runtime requirements, there
    IMPORTS = "imports"  # `check`: a refused wheel's modules imported anyway (it has no calls to make)
    IMPORTS_PURE = "imports, no extension loaded"  # `check`: the names imported, none of the binaries did
    REENABLES_GIL = "re-enables the GIL"  # `check`, free-threaded: an import turned the GIL back on


class Finding(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a refused binary did when loaded anyway, where CPython promised nothing (a record's `findings`)."""

    route: Route  # sys_path or by_path
    kind: FindingKind
    detail: str


@dataclass(frozen=True, kw_only=True)
class CellFacts:
    """Everything the judgement reads besides the known issues."""

    cell: Cell
    target: Target
    build: Interpreter | None  # None only when a record's build interpreter is not on file
    run: Interpreter
    observed: Observed


@dataclass(frozen=True, kw_only=True)
class Judgement:
    status: Status
    reason: str
    stage: str
    expected: str
    expected_rule: str = ""
    stages: dict[str, StageResult] = field(default_factory=dict)
    known_issue: str | None = None
    packaging_accepts: bool | None = None
    findings: tuple[Finding, ...] = ()

    def record_fields(self) -> dict[str, Any]:
        """The judgement's part of a record (results.Record field names)."""
        return {
            "status": self.status,
            "reason": self.reason,
            "stage": self.stage,
            "expected": self.expected,
            "expected_rule": self.expected_rule,
            "stages": self.stages,
            "known_issue": self.known_issue,
            "packaging_accepts": self.packaging_accepts,
            "findings": self.findings,
        }


def judge(facts: CellFacts, known_issues: Sequence[KnownIssue]) -> Judgement:
    seen = tuple(through_bwrap(x, facts.run) for x in facts.observed.loads)
    facts = replace(facts, observed=msgspec.structs.replace(facts.observed, loads=seen))
    cell, observed = facts.cell, facts.observed
    issue = find_known_issue(known_issues, cell.case, cell.target, cell.build_python, cell.run_python)
    link = issue.link if issue else None
    if not observed.build.ok:
        status = Status.ERROR if observed.build.infrastructure else Status.FAIL
        verdict = apply_known_issue(Verdict(status, observed.build.message, "build"), issue)
        return Judgement(
            status=verdict.status,
            reason=verdict.reason,
            stage="build",
            expected="a wheel",
            stages={"build": Stage("build", status, observed.build.message).to_json()},
            known_issue=link,
        )
    wheel = observed.wheel
    if observed.harness_error or wheel is None:
        why = observed.harness_error or "no wheel observed"
        return Judgement(status=Status.ERROR, reason=f"harness error: {why}", stage="harness", expected="-")
    expectation = oracle.expect(wheel.tags, facts.run, issue, wheel.requires_python)
    stages = cell_stages(facts, expectation)
    verdict = decide(stages)
    findings = load_findings(facts)
    loads = [s for s in stages if s.name.startswith("load:")]
    if verdict.status is Status.PASS and loads:
        # A refused wheel: say the refusal and what each forced load did, in one line.
        said = "; ".join(f"{s.name.removeprefix('load:')}: {s.reason}" for s in loads)
        verdict = Verdict(Status.PASS, f"refused as expected ({expectation.rule}); loaded anyway: {said}", "resolve")
    compiled = next((x.compiled for x in observed.loads if x.outcome is LoadOutcome.LOADED and x.compiled), None)
    if facts.build is not None:
        problems = artifact.problems(facts.target, facts.build, wheel.tags, wheel.ext_files, compiled)
        verdict = artifact.with_problems(verdict, problems)
    verdict = apply_known_issue(verdict, issue)
    return Judgement(
        status=verdict.status,
        reason=verdict.reason,
        stage=verdict.stage,
        expected=expectation.label,
        expected_rule=expectation.rule,
        stages={s.name: s.to_json() for s in stages},
        known_issue=link,
        packaging_accepts=oracle.packaging_accepts(wheel.tags, facts.run),
        findings=findings,
    )


def find_known_issue(
    issues: Iterable[KnownIssue], case: str, target: str, build_python: str, run_python: str
) -> KnownIssue | None:
    """The first [[known_issue]] of matrix.toml whose selector covers the cell."""
    return next((k for k in issues if k.matches(case, target, build_python, run_python)), None)


def apply_known_issue(verdict: Verdict, known: KnownIssue | None) -> Verdict:
    """A known upstream bug turns its failure into xfail, and a pass into xpass (remove the entry)."""
    if known is None:
        return verdict
    ref = known.link + (f" ({known.note})" if known.note else "")
    if verdict.status is Status.PASS:
        return replace(
            verdict,
            status=Status.XPASS,
            reason=f"passed although known issue {ref} expects {known.status.value}; "
            f"remove the entry if it is fixed ({verdict.reason})",
        )
    if verdict.status is known.status:
        return replace(verdict, status=Status.XFAIL, reason=f"known issue {ref}: {verdict.reason}")
    if verdict.status in (Status.FAIL, Status.CRASH, Status.TIMEOUT):
        return replace(
            verdict,
            reason=f"{verdict.reason} (known issue {known.link} expects "
            f"{known.status.value}, got {verdict.status.value})",
        )
    return verdict


def decide(stages: Sequence[Stage]) -> Verdict:
    """The first stage that is neither pass nor skip decides; otherwise the cell passes."""
    for stage in stages:
        if stage.status not in (Status.PASS, Status.SKIP):
            return Verdict(stage.status, stage.reason, stage.name)
    deciding = [s for s in stages if s.status is Status.PASS]
    last = deciding[-1] if deciding else Stage("plan", Status.SKIP, "no stage ran")
    return Verdict(Status.PASS, last.reason, last.name)


def cell_stages(facts: CellFacts, expectation: Expectation) -> list[Stage]:
    observed, run = facts.observed, facts.run
    assert observed.wheel is not None
    audit = observed.audit
    stages = [audit_stage(audit, run, expectation)]
    broken = next((i for i in observed.installers if not i.env.ok), None)
    if broken is not None:
        stages.append(Stage("resolve", Status.ERROR, f"could not create an environment: {broken.env.message}"))
        return stages
    failed = next((i for i in observed.installers if i.resolve and not i.resolve.ok and not i.resolve.refused), None)
    if failed is not None:
        assert failed.resolve is not None
        stages.append(Stage("resolve", Status.ERROR, f"{failed.name} failed: {failed.resolve.message}"))
        return stages
    stages.append(resolve_stage(observed.installers, expectation, run, observed.wheel.tags))
    accepted = [i for i in observed.installers if i.resolve and i.resolve.ok]
    if not accepted:
        why = "the wheel is refused here" if not expectation.accept else "refused"
        stages.append(Stage("install", Status.SKIP, f"not installed: {why}"))
        return stages + forced_load_stages(facts, expectation)
    bad = next((i for i in accepted if i.install is None or not i.install.ok), None)
    if bad is not None:
        message = bad.install.message if bad.install else "not attempted"
        refused = bool(bad.install and bad.install.refused)
        status = Status.FAIL if refused else Status.ERROR
        stages.append(Stage("install", status, f"{bad.name} failed to install: {message}"))
        return stages
    stages.append(Stage("install", Status.PASS, f"installed with {', '.join(i.name for i in accepted)}"))
    load = observed.load(Route.INSTALLED)
    if load is None:
        return [*stages, Stage("import", Status.ERROR, "installed, but no import was observed")]
    if load.name:
        return stages + checked.import_stages(facts.run, facts.observed, audit)
    stages.append(platform_mismatch(run, audit, load) or import_stage(load))
    if load.outcome is LoadOutcome.LOADED:
        stages += [call_stage(load), threads_stage(run, load)]
    return stages


# -- refused wheels, loaded anyway -------------------------------------------------------------

NETS = {
    Route.SYS_PATH: "file-name safety net (EXTENSION_SUFFIXES)",
    Route.BY_PATH: "runtime safety net (Py_mod_abi, PyABIInfo_Check)",
}


def runtime_check(facts: CellFacts) -> tuple[bool | None, str]:
    """CPython's runtime check applied to every extension file of the wheel (read by the by-path load)."""
    load = facts.observed.load(Route.BY_PATH)
    if load is None or not load.files:
        return None, "no extension file was read"
    verdicts = [oracle.abi_info_check(f.abi_info, facts.run) for f in load.files]
    refuse = [why for ok, why in verdicts if ok is False]
    if refuse:
        return False, refuse[0]
    notes = [f.abi_info_note for f in load.files if f.abi_info_note]
    if notes:
        return None, f"ABI info not readable: {notes[0]}"
    if any(ok for ok, _ in verdicts):
        return True, next(why for ok, why in verdicts if ok)
    return None, verdicts[0][1]


def filename_net_fires(facts: CellFacts) -> bool:
    """The file-name net can only refuse files whose suffix the interpreter does not list."""
    wheel = facts.observed.wheel
    assert wheel is not None
    suffixes = {ext_suffix(name) for name in wheel.ext_files if "." in name}
    return bool(suffixes) and not suffixes & set(facts.run.ext_suffixes)


def forced_load_stages(facts: CellFacts, expectation: Expectation) -> list[Stage]:
    """A refused wheel's files loaded anyway: a net that must fire is a stage that passes or fails."""
    stages = []
    must, why = runtime_check(facts)
    for route in (Route.SYS_PATH, Route.BY_PATH):
        load = facts.observed.load(route)
        if load is None:
            continue
        name = f"load:{route.value}"
        rule = why if must is False else "the interpreter does not list the file's suffix"
        missing = missing_dependencies(load)
        if net_must_fire(facts, route, must) and missing:
            # The error may be the missing dependency's, not the net's: nothing to judge.
            stages.append(Stage(name, Status.SKIP, f"not judged: {missing}; the load ended: {load.exception}"))
        elif net_must_fire(facts, route, must) and route is Route.SYS_PATH and load.name:
            stages.append(checked.sys_path_stage(load, f"{NETS[route]} did not fire ({rule})", NETS[route]))
        elif net_must_fire(facts, route, must):
            if load.outcome is LoadOutcome.EXCEPTION and load.exception_type in CLEAN_LOAD_ERRORS:
                stages.append(Stage(name, Status.PASS, f"refused cleanly by the {NETS[route]}: {load.exception}"))
            elif load.outcome is LoadOutcome.EXCEPTION:
                stages.append(Stage(name, Status.FAIL, f"{NETS[route]} did not fire ({rule}): {load.exception}"))
            elif load.outcome is LoadOutcome.LOADED:
                stages.append(Stage(name, Status.FAIL, f"{NETS[route]} did not fire ({rule}): the module loaded"))
            else:
                status, how = died(load)
                stages.append(Stage(name, status, f"{NETS[route]} did not fire ({rule}): {how}"))
        else:
            finding = _finding(route, load)
            stages.append(Stage(name, Status.PASS, f"{finding.kind} ({finding.detail}); no safety net applies: {why}"))
    if not expectation.accept and not stages:
        stages.append(Stage("load", Status.SKIP, "no forced load observed"))
    return stages


def net_must_fire(facts: CellFacts, route: Route, must: bool | None) -> bool:
    """The runtime check must refuse the module (*must* is False), or, by file name, the interpreter
    does not list the file's suffix."""
    return must is False or (route is Route.SYS_PATH and filename_net_fires(facts))


def load_findings(facts: CellFacts) -> tuple[Finding, ...]:
    """Forced loads that no safety net had to stop: what the binary did. Under `check`, also an
    installed wheel that does not claim free-threading and re-enables the GIL on a free-threaded build."""
    must, _ = runtime_check(facts)
    found = []
    for route in (Route.SYS_PATH, Route.BY_PATH):
        load = facts.observed.load(route)
        if load is not None and not net_must_fire(facts, route, must):
            found.append(_finding(route, load))
    wheel = facts.observed.wheel
    if not facts.run.free_threaded or wheel is None:
        return tuple(found)
    claimed = checked.claims_free_threading(wheel.tags)
    for load in facts.observed.loads:
        why = checked.gil_reenabled(load) if load.name and load.outcome is LoadOutcome.LOADED else ""
        if why and (load.route is not Route.INSTALLED or not claimed):
            found.append(Finding(route=load.route, kind=FindingKind.REENABLES_GIL, detail=why))
    return tuple(found)


def missing_dependencies(load: LoadObs) -> str:
    """'dependency not installable: ...' when the load ended in an exception in an environment that
    lacks the wheel's runtime requirements (the exception is then not the binary's own)."""
    deps = load.dependencies
    if not isinstance(deps, Dependencies) or deps.ok or load.outcome is not LoadOutcome.EXCEPTION:
        return ""
    return f"dependency not installable: {', '.join(deps.requirements)}: {deps.message}"


def _finding(route: Route, load: LoadObs) -> Finding:
    missing = missing_dependencies(load)
    if missing:
        detail = missing.removeprefix(f"{FindingKind.DEPENDENCY_NOT_INSTALLABLE}: ")
        return Finding(
            route=route,
            kind=FindingKind.DEPENDENCY_NOT_INSTALLABLE,
            detail=f"{detail}; the load ended: {load.exception}",
        )
    if load.outcome is LoadOutcome.LOADED and load.name and not load.calls:
        if route is Route.SYS_PATH and not load.files:  # a namespace package of stubs, a pure fallback
            return Finding(route=route, kind=FindingKind.IMPORTS_PURE, detail=f"{load.name} imported")
        return Finding(route=route, kind=FindingKind.IMPORTS, detail=f"{load.name} imported")
    if load.outcome is LoadOutcome.LOADED:
        wrong = [c for c in load.calls if not c.ok]
        if wrong:
            return Finding(route=route, kind=FindingKind.WRONG_RESULTS, detail=f"{len(wrong)} calls wrong")
        return Finding(route=route, kind=FindingKind.LOADS_AND_WORKS, detail=f"{len(load.calls)} calls correct")
    if load.outcome is LoadOutcome.EXCEPTION:
        return Finding(route=route, kind=FindingKind.CLEAN_ERROR, detail=load.exception)
    if load.outcome is LoadOutcome.CRASH:
        return Finding(route=route, kind=FindingKind.CRASH, detail=f"{load.signal}: {load.stderr_tail}")
    if load.outcome is LoadOutcome.TIMEOUT:
        return Finding(route=route, kind=FindingKind.TIMEOUT, detail="killed after the cell's timeout")
    return Finding(route=route, kind=FindingKind.NO_REPORT, detail=f"exit {load.returncode}: {load.stderr_tail}")
