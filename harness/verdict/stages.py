"""One stage of a cell judged from its observation: audit, resolve, install, import, call, threads, test.

Each function reads one part of `observed` and returns a Stage; judge.py puts them in order and decides.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from harness.build.audit_result import Audit
from harness.cell.observe import InstallerObs, LoadObs, LoadOutcome
from harness.model import Expectation, Interpreter, Status
from harness.verdict import oracle

# Clean refusals to load: the exception classes a safety net raises.
CLEAN_LOAD_ERRORS = ("ImportError", "ModuleNotFoundError")
# CPython (3.13+, Python/import.c): "The global interpreter lock (GIL) has been enabled to load
# module 'NAME', which has not declared that it can run safely without the GIL. ..."
_GIL_ENABLED_BY = re.compile(r"enabled to load module '([^']+)'")
_MISSING_VERSION = re.compile(r"version `((?:GLIBC|GLIBCXX|CXXABI)_[\d.]+)' not found")


class StageResult(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One stage's outcome as a record keeps it (`stages[name]`)."""

    status: Status
    reason: str


@dataclass(frozen=True)
class Stage:
    name: str
    status: Status
    reason: str

    def to_json(self) -> StageResult:
        return StageResult(self.status, self.reason)


def through_bwrap(load: LoadObs, run: Interpreter) -> LoadObs:
    """A rootfs interpreter runs as bwrap's child: bwrap exits 128+N when it dies from signal N, so
    the observed `exit 139` of a rootfs load is a SIGSEGV (the observation keeps the exit status)."""
    code = load.returncode or 0
    if not run.root or load.outcome is not LoadOutcome.NO_REPORT or not 128 < code < 128 + 65:
        return load
    try:
        name = signal.Signals(code - 128).name
    except ValueError:
        return load
    return msgspec.structs.replace(load, outcome=LoadOutcome.CRASH, signal=f"{name} (bwrap exit {code})")


def import_stage(load: LoadObs) -> Stage:
    if load.outcome is LoadOutcome.LOADED:
        return Stage("import", Status.PASS, "imported")
    if load.outcome is LoadOutcome.EXCEPTION:
        return Stage("import", Status.FAIL, f"import failed: {load.exception}")
    return Stage("import", *died(load))


def died(load: LoadObs) -> tuple[Status, str]:
    if load.outcome is LoadOutcome.TIMEOUT:
        limit = f"within {load.timeout_s:.0f}s" if load.timeout_s else "in time"
        return Status.TIMEOUT, f"import/call did not finish {limit} (killed)"
    if load.outcome is LoadOutcome.CRASH:
        return Status.CRASH, f"import/call crashed with {load.signal}: {load.stderr_tail}"
    return Status.CRASH, f"interpreter exited {load.returncode} before reporting: {load.stderr_tail}"


def call_stage(load: LoadObs) -> Stage:
    calls = load.calls
    wrong = [c for c in calls if not c.ok]
    if wrong:
        shown = "; ".join(f"{c.call} gave {c.actual}, expected {c.expected}" for c in wrong)
        return Stage("call", Status.FAIL, f"imported, but {len(wrong)}/{len(calls)} calls wrong: {shown}")
    return Stage("call", Status.PASS, f"imported, {len(calls)}/{len(calls)} calls correct")


def threads_stage(interp: Interpreter, load: LoadObs) -> Stage:
    """Free-threaded builds only: importing keeps the GIL off, concurrent calls stay correct."""
    if not interp.free_threaded:
        return Stage("threads", Status.SKIP, "not a free-threaded interpreter")
    problems = []
    gil_warnings = [w for w in load.import_warnings if "GIL" in w]
    culprits = [m.group(1) for w in gil_warnings if (m := _GIL_ENABLED_BY.search(w))]
    if culprits:
        named = ", ".join(f"'{c}'" for c in dict.fromkeys(culprits))
        problems.append(f"import re-enabled the GIL: {named} did not declare it runs without it ({gil_warnings[0]})")
    elif gil_warnings:
        problems.append(f"import re-enabled the GIL ({gil_warnings[0]})")
    if load.gil_enabled_after_import:
        problems.append("sys._is_gil_enabled() is True after import")
    threads = load.threads
    if threads is not None and threads.errors:
        problems.append(f"{len(threads.errors)} wrong results under {threads.threads} threads: {threads.errors[0]}")
    if problems:
        return Stage("threads", Status.FAIL, "; ".join(problems))
    return Stage(
        "threads", Status.PASS, f"GIL stays disabled; {threads.calls if threads else 0} concurrent calls correct"
    )


def audit_stage(audit: Audit | None, interp: Interpreter, expectation: Expectation) -> Stage:
    if audit is None:
        return Stage("audit", Status.SKIP, "no audit recorded")
    if not audit.applicable:
        return Stage("audit", Status.SKIP, audit.tool)
    if audit.tool.startswith("abi3audit failed"):
        return Stage("audit", Status.ERROR, audit.tool)
    # A symbol newer than the wheel's baseline only breaks the older interpreters the wheel claims.
    here = [f for f in audit.findings if f.needs is None or interp.minor < f.needs]
    if here and expectation.accept:
        return Stage("audit", Status.FAIL, f"{audit.tool}: " + "; ".join(f"{f.file}: {f.message}" for f in here))
    if audit.findings:
        return Stage("audit", Status.PASS, f"{audit.tool}: {len(audit.findings)} findings, none for this interpreter")
    return Stage("audit", Status.PASS, f"{audit.tool}: no findings")


def resolve_stage(
    installers: Sequence[InstallerObs], expectation: Expectation, interp: Interpreter, tags: Sequence[str]
) -> Stage:
    """Installers against the tag rules, and against each other; packaging.tags' view is noted."""
    answers = {i.name: i.resolve for i in installers if i.resolve is not None}
    wrong = [name for name, a in answers.items() if a.ok != expectation.accept]
    view = oracle.packaging_accepts(tags, interp)
    notes = []
    if len({a.ok for a in answers.values()}) > 1:
        notes.append(
            "installers disagree: " + ", ".join(f"{n} {'accepts' if a.ok else 'refuses'}" for n, a in answers.items())
        )
    if view is not None and view != expectation.accept:
        notes.append(f"packaging.tags {'accepts' if view else 'refuses'} it")
    extra = f" [{'; '.join(notes)}]" if notes else ""
    if wrong:
        name = wrong[0]
        answer = answers[name]
        if answer.ok:
            return Stage(
                "resolve", Status.FAIL, f"{name} accepts a wheel the tag rules refuse ({expectation.rule}){extra}"
            )
        return Stage(
            "resolve",
            Status.FAIL,
            f"{name} refused a wheel the tag rules accept ({expectation.rule}): {answer.message}{extra}",
        )
    if expectation.accept:
        return Stage("resolve", Status.PASS, f"accepted by {', '.join(answers)} ({expectation.rule}){extra}")
    messages = "; ".join(f"{n}: {a.message}" for n, a in answers.items())
    return Stage("resolve", Status.PASS, f"refused as expected ({expectation.rule}); {messages}{extra}")


def platform_mismatch(interp: Interpreter, audit: Audit | None, load: LoadObs) -> Stage | None:
    """An import failing for a missing GLIBC_/GLIBCXX_/CXXABI_ version is the platform's, not the ABI's.

    A wheel built against newer system libraries (Debian unstable's rootfs) runs on an older host;
    its linux_x86_64 tag cannot say so, a manylinux tag would (PEP 600). Expected, so xfail.
    """
    match = _MISSING_VERSION.search(load.exception)
    if not match:
        return None
    needs = ", ".join(f"{lib} {version}" for lib, version in (audit.platform if audit else {}).items()) or "unknown"
    return Stage(
        "import",
        Status.XFAIL,
        f"platform mismatch, not an ABI bug: {match.group(1)} not found on this system (glibc "
        f"{interp.glibc or '?'}); the wheel needs {needs}, which its linux_x86_64 tag cannot say "
        "(a manylinux tag would: https://peps.python.org/pep-0600/)",
    )


def test_stage(load: LoadObs | None) -> Stage:
    if load is None:
        return Stage("test", Status.SKIP, "no smoke command (--test)")
    if load.outcome is LoadOutcome.LOADED:
        return Stage("test", Status.PASS, f"`{load.name}` exited 0")
    if load.outcome is LoadOutcome.EXCEPTION:
        return Stage("test", Status.FAIL, f"`{load.name}` failed: {load.exception}")
    status, how = died(load)
    return Stage("test", status, f"`{load.name}`: {how.replace('import/call', 'the command')}")
