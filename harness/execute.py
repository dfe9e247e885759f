"""One cell, in stages: audit -> resolve -> install -> import -> call -> threads.

Each stage gets its own status and reason; the cell's status is the first stage that differs from
what the oracle expects. Everything that runs an interpreter is a subprocess with a timeout, in a
fresh environment, so a crash or a hang is one cell's verdict and never the run's end.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from . import proc
from .audit import Audit
from .installers import Toolchain
from .model import Artifact, Expectation, Interpreter, Status, Verdict
from .oracle import packaging_accepts

RESULT_MARKER = "ABI_HARNESS_RESULT "
STAGES = ("audit", "resolve", "install", "import", "call", "threads")
THREADS = 8
# Clean refusals to load: the interpreter's safety nets working (anything else is reported as found).
CLEAN_LOAD_ERRORS = ("ImportError", "ModuleNotFoundError", "SystemError")
_MISSING_VERSION = re.compile(r"version `((?:GLIBC|GLIBCXX|CXXABI)_[\d.]+)' not found")


@dataclass(frozen=True)
class Stage:
    name: str
    status: Status
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"status": self.status.value, "reason": self.reason}


def call_script() -> str:
    return resources.files("harness").joinpath("_call.py").read_text()


def decide(stages: Sequence[Stage], details: dict[str, Any]) -> Verdict:
    """The first stage that is neither pass nor skip decides; otherwise the cell passes."""
    details = {**details, "stages": {s.name: s.to_json() for s in stages}}
    for stage in stages:
        if stage.status not in (Status.PASS, Status.SKIP):
            return Verdict(stage.status, stage.reason, stage.name, details)
    deciding = [s for s in stages if s.status is Status.PASS]
    last = deciding[-1] if deciding else Stage("plan", Status.SKIP, "no stage ran")
    return Verdict(Status.PASS, last.reason, last.name, details)


def interpret_call(out: proc.Outcome, timeout: float) -> tuple[Status, str, dict[str, Any]]:
    """The import/call subprocess's outcome as (status, reason, details); status concerns the import."""
    if out.timed_out:
        return Status.TIMEOUT, f"import/call did not finish within {timeout:.0f}s (killed)", {}
    if out.signal_name:
        return Status.CRASH, f"import/call crashed with {out.signal_name}: {proc.last_line(out.stderr)}", {}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith(RESULT_MARKER)]
    if not lines:
        return Status.CRASH, f"interpreter exited {out.returncode} before reporting: {proc.last_line(out.stderr)}", {}
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT_MARKER) :])
    if "import_error" in result:
        return Status.FAIL, f"import failed: {result['import_error']}", result
    return Status.PASS, "imported", result


def call_stage(result: dict[str, Any]) -> Stage:
    calls = result.get("calls", [])
    wrong = [c for c in calls if not c["ok"]]
    if wrong:
        shown = "; ".join(f"{c['call']} gave {c['actual']}, expected {c['expected']}" for c in wrong)
        return Stage("call", Status.FAIL, f"imported, but {len(wrong)}/{len(calls)} calls wrong: {shown}")
    return Stage("call", Status.PASS, f"imported, {len(calls)}/{len(calls)} calls correct")


def threads_stage(interp: Interpreter, result: dict[str, Any]) -> Stage:
    """Free-threaded builds only: importing keeps the GIL off, concurrent calls stay correct."""
    if not interp.free_threaded:
        return Stage("threads", Status.SKIP, "not a free-threaded interpreter")
    problems = []
    gil_warnings = [w for w in result.get("import_warnings", []) if "GIL" in w]
    if gil_warnings:
        problems.append(f"import re-enabled the GIL ({gil_warnings[0]})")
    if result.get("gil_enabled_after_import"):
        problems.append("sys._is_gil_enabled() is True after import")
    threads = result.get("threads") or {}
    if threads.get("errors"):
        problems.append(
            f"{len(threads['errors'])} wrong results under {threads['threads']} threads: {threads['errors'][0]}"
        )
    if problems:
        return Stage("threads", Status.FAIL, "; ".join(problems))
    return Stage("threads", Status.PASS, f"GIL stays disabled; {threads.get('calls', 0)} concurrent calls correct")


def audit_stage(audit: Audit, interp: Interpreter, expectation: Expectation) -> Stage:
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


class CellRun:
    """The environment and transcript of one cell while it runs."""

    def __init__(self, interp: Interpreter, work: Path, timeout: float) -> None:
        self.interp = interp
        self.work = work
        self.timeout = timeout
        self.transcript: list[str] = []

    def record(self, out: proc.Outcome) -> proc.Outcome:
        self.transcript.append(out.transcript())
        return out

    def run_call(self, toolchain: Toolchain, python: Path, module: str, extra: Sequence[str]) -> proc.Outcome:
        # -I: no user site, no PYTHONPATH, no current directory on sys.path.
        argv = [str(python), "-I", "-c", call_script(), module, *extra]
        if self.interp.free_threaded:
            argv += ["--threads", str(THREADS)]
        return self.record(toolchain.run(self.interp, argv, cwd=self.work, timeout=self.timeout))


def execute(
    artifact: Artifact,
    module: str,
    interp: Interpreter,
    expectation: Expectation,
    toolchains: Sequence[Toolchain],
    audit: Audit,
    work_root: Path,
    timeout: float,
    log_path: Path,
) -> tuple[Verdict, str]:
    """Run one cell; returns the verdict (before known issues) and the installers used."""
    work = Path(tempfile.mkdtemp(prefix="cell-", dir=work_root))
    cell = CellRun(interp, work, timeout)
    cell.transcript.append(
        f"# wheel: {artifact.wheel}\n# python: {interp.describe()}\n"
        f"# expected: {expectation.label}: {expectation.rule}\n"
    )
    stages = [audit_stage(audit, interp, expectation)]
    details: dict[str, Any] = {}
    installers = "+".join(t.installer.value for t in toolchains)
    try:
        envs: list[tuple[Toolchain, Path]] = []
        for n, toolchain in enumerate(toolchains):
            env_dir = work / f"venv-{n}"
            made = cell.record(toolchain.create_env(interp, env_dir))
            if not made.ok:
                stages.append(
                    Stage("resolve", Status.ERROR, f"could not create an environment: {proc.last_line(made.stderr)}")
                )
                return decide(stages, details), installers
            envs.append((toolchain, env_dir / "bin" / "python"))
        installers = ", ".join(t.describe_in(interp, py) for t, py in envs)

        # resolve: would each installer take this wheel here? Compared with the tag rules and packaging.
        verdicts: dict[str, tuple[bool, str]] = {}
        for toolchain, python in envs:
            out = cell.record(toolchain.dry_run(interp, python, artifact.wheel))
            if not out.ok and not toolchain.refused(out):
                stages.append(
                    Stage("resolve", Status.ERROR, f"{toolchain.installer.value} failed: {toolchain.message(out)}")
                )
                return decide(stages, details), installers
            verdicts[toolchain.installer.value] = (out.ok, toolchain.message(out) if not out.ok else "accepts")
        details["resolve"] = {name: {"accepts": ok, "message": msg} for name, (ok, msg) in verdicts.items()}
        stages.append(resolve_stage(verdicts, expectation, interp, artifact.tags))
        if not expectation.accept and not any(ok for ok, _ in verdicts.values()):
            details["refused"] = "; ".join(f"{name}: {msg}" for name, (_, msg) in verdicts.items())

        accepted = [(t, py) for t, py in envs if verdicts[t.installer.value][0]]
        if not expectation.accept:
            # must-refuse: then load the files anyway; only a clean exception (or a working module) is safe
            stages.append(Stage("install", Status.SKIP, "not installed: the wheel is refused here"))
            unpacked = work / "unpacked"
            with zipfile.ZipFile(artifact.wheel) as zf:
                zf.extractall(unpacked)
            out = cell.run_call(envs[0][0], envs[0][1], module, ["--path", str(unpacked)])
            stages += forced_load_stages(out, timeout, details)
            return decide(stages, details), installers
        if not accepted:
            stages.append(Stage("install", Status.SKIP, "not installed: refused"))
            return decide(stages, details), installers

        for toolchain, python in accepted:
            out = cell.record(toolchain.install(interp, python, artifact.wheel))
            if not out.ok:
                stages.append(
                    Stage(
                        "install",
                        Status.FAIL if toolchain.refused(out) else Status.ERROR,
                        f"{toolchain.installer.value} failed to install: {toolchain.message(out)}",
                    )
                )
                return decide(stages, details), installers
        stages.append(
            Stage("install", Status.PASS, f"installed with {', '.join(t.installer.value for t, _ in accepted)}")
        )

        out = cell.run_call(accepted[0][0], accepted[0][1], module, [])
        status, reason, result = interpret_call(out, timeout)
        details.update(result)
        stages.append(platform_mismatch(interp, audit, result) or Stage("import", status, reason))
        if status is Status.PASS:
            stages.append(call_stage(result))
            stages.append(threads_stage(interp, result))
        return decide(stages, details), installers
    finally:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text("".join(cell.transcript))
        shutil.rmtree(work, ignore_errors=True)


def resolve_stage(
    verdicts: dict[str, tuple[bool, str]], expectation: Expectation, interp: Interpreter, tags: Sequence[str]
) -> Stage:
    """Installers against the tag rules, and against each other; packaging.tags' view is noted."""
    wrong = [name for name, (ok, _) in verdicts.items() if ok != expectation.accept]
    view = packaging_accepts(tags, interp)
    notes = []
    if len({ok for ok, _ in verdicts.values()}) > 1:
        notes.append(
            "installers disagree: "
            + ", ".join(f"{n} {'accepts' if ok else 'refuses'}" for n, (ok, _) in verdicts.items())
        )
    if view is not None and view != expectation.accept:
        notes.append(f"packaging.tags {'accepts' if view else 'refuses'} it")
    extra = f" [{'; '.join(notes)}]" if notes else ""
    if wrong:
        name = wrong[0]
        ok, message = verdicts[name]
        if ok:
            return Stage(
                "resolve", Status.FAIL, f"{name} accepts a wheel the tag rules refuse ({expectation.rule}){extra}"
            )
        return Stage(
            "resolve",
            Status.FAIL,
            f"{name} refused a wheel the tag rules accept ({expectation.rule}): {message}{extra}",
        )
    if expectation.accept:
        return Stage("resolve", Status.PASS, f"accepted by {', '.join(verdicts)} ({expectation.rule}){extra}")
    messages = "; ".join(f"{n}: {m}" for n, (_, m) in verdicts.items())
    return Stage("resolve", Status.PASS, f"refused as expected ({expectation.rule}); {messages}{extra}")


def platform_mismatch(interp: Interpreter, audit: Audit, result: dict[str, Any]) -> Stage | None:
    """An import failing for a missing GLIBC_/GLIBCXX_/CXXABI_ version is the platform's, not the ABI's.

    A wheel built against newer system libraries (Debian unstable's rootfs) runs on an older host;
    its linux_x86_64 tag cannot say so, a manylinux tag would (PEP 600). Expected, so xfail.
    """
    match = _MISSING_VERSION.search(result.get("import_error", ""))
    if not match:
        return None
    needs = ", ".join(f"{lib} {version}" for lib, version in audit.platform) or "unknown"
    return Stage(
        "import",
        Status.XFAIL,
        f"platform mismatch, not an ABI bug: {match.group(1)} not found on this system (glibc "
        f"{interp.glibc or '?'}); the wheel needs {needs}, which its linux_x86_64 tag cannot say "
        "(a manylinux tag would: https://peps.python.org/pep-0600/)",
    )


def forced_load_stages(out: proc.Outcome, timeout: float, details: dict[str, Any]) -> list[Stage]:
    """A refused wheel's files put on sys.path and imported anyway."""
    status, reason, result = interpret_call(out, timeout)
    details["forced_load"] = {k: result.get(k) for k in ("import_error", "import_error_type", "calls") if k in result}
    if status in (Status.CRASH, Status.TIMEOUT):
        return [
            Stage(
                "import",
                status,
                f"loaded anyway, {reason}: the interpreter's safety nets did not catch an incompatible extension",
            )
        ]
    if status is Status.FAIL:
        kind = result.get("import_error_type", "")
        if kind in CLEAN_LOAD_ERRORS:
            return [Stage("import", Status.PASS, f"loaded anyway: clean {result['import_error']}")]
        return [
            Stage(
                "import",
                Status.FAIL,
                f"loaded anyway: {result['import_error']} (expected ImportError, ModuleNotFoundError or SystemError)",
            )
        ]
    calls = call_stage(result)
    return [Stage("import", Status.PASS, f"loaded anyway and {calls.reason} (the refusal is by tag only)")]
