"""The stages of a `check` cell that differ from the matrix's: a wheel built elsewhere has no add() to
call, so each of its modules is imported in a process of its own, then the GIL's state after the imports
(free-threaded interpreters), then the user's smoke command; its file-name safety net is judged by the
extension files the imports really loaded. Pure, like judge.py, which calls these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from harness.build.audit_result import Audit
from harness.cell.observe import LoadObs, LoadOutcome, Observed, Route
from harness.model import Interpreter, Status
from harness.verdict.stages import Stage, died, import_stage, platform_mismatch, test_stage


def import_stages(run: Interpreter, observed: Observed, audit: Audit | None) -> list[Stage]:
    """Each module imported in its own process, the GIL after the imports, the smoke command."""
    loads = [x for x in observed.loads if x.route is Route.INSTALLED]
    for load in loads:
        if load.outcome is not LoadOutcome.LOADED:
            stage = platform_mismatch(run, audit, load) or import_stage(load)
            return [replace(stage, reason=f"{load.name}: {stage.reason}")]
    names = ", ".join(x.name for x in loads)
    stages = [Stage("import", Status.PASS, f"imported {len(loads)} module(s), each in its own process: {names}")]
    stages.append(gil_stage(run, observed.wheel.tags if observed.wheel else (), loads))
    return [*stages, test_stage(observed.load(Route.TEST))]


def claims_free_threading(tags: Sequence[str]) -> bool:
    """A cp3XXt or abi3t tag: the wheel says it runs without the GIL."""
    return any(t.split("-")[1] == "abi3t" or t.split("-")[1].endswith(("t", "td")) for t in tags)


def gil_reenabled(load: LoadObs) -> str:
    """Why the import turned the GIL back on, or "" (the RuntimeWarning, or sys._is_gil_enabled())."""
    warned = [w for w in load.import_warnings if "GIL" in w]
    if warned:
        return f"importing {load.name} re-enabled the GIL ({warned[0]})"
    return f"sys._is_gil_enabled() is True after importing {load.name}" if load.gil_enabled_after_import else ""


def gil_stage(run: Interpreter, tags: Sequence[str], loads: Sequence[LoadObs]) -> Stage:
    """Free-threaded only: a wheel that claims free-threading must not re-enable the GIL; any other
    wheel doing so is a finding (judge.load_findings), not a failure."""
    if not run.free_threaded:
        return Stage("threads", Status.SKIP, "not a free-threaded interpreter")
    why = next((w for w in map(gil_reenabled, loads) if w), "")
    if why and claims_free_threading(tags):
        return Stage("threads", Status.FAIL, f"{why}; the wheel's tags claim free-threading")
    if why:
        return Stage("threads", Status.PASS, f"{why}; its tags do not claim free-threading (a finding)")
    return Stage("threads", Status.PASS, "the GIL stays disabled after every import")


def sys_path_stage(load: LoadObs, not_fired: str, net: str) -> Stage:
    """The file-name net fired when none of the wheel's extension files was loaded, however the imports
    ended (a package may import without its binary, or fail in its own Python code). *not_fired* says
    which net did not fire and why it had to."""
    name = f"load:{Route.SYS_PATH.value}"
    if load.outcome not in (LoadOutcome.LOADED, LoadOutcome.EXCEPTION):
        status, how = died(load)
        return Stage(name, status, f"{not_fired}: {how}")
    if load.files:
        return Stage(name, Status.FAIL, f"{not_fired}: {', '.join(f.file for f in load.files)} loaded")
    ended = f" (the imports ended: {load.exception})" if load.exception else ""
    return Stage(name, Status.PASS, f"refused cleanly by the {net}: none of the wheel's extension files loaded{ended}")
