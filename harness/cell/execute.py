"""One cell, observed step by step: environments -> resolve -> install -> load. No verdict here.

Which step runs next depends only on what the previous one saw (an installer accepted the wheel:
install and import it; every installer refused it: load its files anyway, two ways), never on the
expectation, so the same observations can be judged again under another matrix.toml (judge.py).
Everything that runs an interpreter is a subprocess with a timeout, in a fresh environment, so a
crash or a hang is one cell's observation and never the run's end.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import msgspec

from harness.build.installers import Toolchain
from harness.build.metadata import runtime_requirements
from harness.cell.observe import (
    Answer,
    Call,
    Compiled,
    Dependencies,
    FileLoad,
    InstallerObs,
    LoadObs,
    LoadOutcome,
    Route,
    Threads,
)
from harness.errors import HarnessError
from harness.infra import proc
from harness.infra.paths import safe_name
from harness.model import Artifact, Interpreter
from harness.schema.decode import decode_json

RESULT_MARKER = "ABI_HARNESS_RESULT "
REPORT_SOURCE = "resources/call.py's report"  # decoded through the observation types, like a record
LOADING_MARKER = "ABI_HARNESS_LOADING "
THREADS = 8


def call_script() -> str:
    return resources.files("harness.resources").joinpath("call.py").read_text()


def load_obs(route: Route, out: proc.Outcome, timeout: float | None = None) -> LoadObs:
    """The load subprocess's outcome as an observation (what it printed, how it ended)."""
    tail = proc.last_line(out.stderr)
    lines = out.stdout.splitlines()
    loading = [ln[len(LOADING_MARKER) :] for ln in lines if ln.startswith(LOADING_MARKER)]
    reports = [ln for ln in lines if ln.startswith(RESULT_MARKER)]
    if out.timed_out or out.signal_name or not reports:
        # Died before reporting: the files it had started to load are all we know of them.
        files = tuple(FileLoad(file=f, module="") for f in loading)
        if out.timed_out:
            return LoadObs(route=route, outcome=LoadOutcome.TIMEOUT, timeout_s=timeout, files=files, stderr_tail=tail)
        if out.signal_name:
            return LoadObs(
                route=route, outcome=LoadOutcome.CRASH, signal=out.signal_name, files=files, stderr_tail=tail
            )
        return LoadObs(
            route=route, outcome=LoadOutcome.NO_REPORT, returncode=out.returncode, files=files, stderr_tail=tail
        )
    report = decode_json(reports[-1][len(RESULT_MARKER) :], CallReport, source=REPORT_SOURCE, error=HarnessError)
    if report.import_error is not None:
        return LoadObs(
            route=route,
            outcome=LoadOutcome.EXCEPTION,
            exception_type=report.import_error_type,
            exception=report.import_error,
            files=report.files,
            returncode=out.returncode,
        )
    return LoadObs(
        route=route,
        outcome=LoadOutcome.LOADED,
        returncode=out.returncode,
        module_file=report.module_file,
        files=report.files,
        calls=report.calls,
        compiled=report.compiled,
        import_warnings=report.import_warnings,
        gil_enabled_after_import=report.gil_enabled_after_import,
        threads=report.threads,
    )


class CallReport(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What resources/call.py prints after RESULT_MARKER: a key is absent when the script stopped before
    it (an import that failed reports no calls). A report that does not fit is a HarnessError: the cell
    records it as a harness error (a module printing the marker itself ends there too)."""

    python: str  # sys.version's first word, kept in the log
    files: tuple[FileLoad, ...] = ()
    import_error: str | None = None  # "ImportError: ..." when an import failed
    import_error_type: str = ""
    import_warnings: tuple[str, ...] = ()
    module_file: str | None = None
    gil_enabled_after_import: bool | None = None
    compiled: Compiled | None = None
    calls: tuple[Call, ...] = ()
    threads: Threads | None = None
    gil_enabled_after_threads: bool | None = None


def _placeless(load: LoadObs, work: str) -> LoadObs:
    """The cell's temporary directory named `<cell>` in messages, so runs compare (and diff) cleanly."""
    return msgspec.structs.replace(
        load,
        exception=load.exception.replace(work, "<cell>"),
        stderr_tail=load.stderr_tail.replace(work, "<cell>"),
        module_file=load.module_file.replace(work, "<cell>") if load.module_file else load.module_file,
    )


@dataclass
class CellRun:
    """The environment and transcript of one cell while it runs."""

    interp: Interpreter
    work: Path
    timeout: float
    transcript: list[str] = field(default_factory=list)
    imports: tuple[str, ...] = ()  # `check`: every module to import, and no add() calls
    test: str = ""  # `check --test`: a shell command run in the installed environment

    def record(self, out: proc.Outcome) -> proc.Outcome:
        self.transcript.append(out.transcript())
        return out

    def load(self, route: Route, toolchain: Toolchain, python: Path, module: str, extra: Sequence[str]) -> LoadObs:
        # -I: no user site, no PYTHONPATH, no current directory on sys.path.
        argv = [str(python), "-I", "-c", call_script(), module, *extra]
        if self.imports:
            argv += ["--import-only"]
        elif self.interp.free_threaded:
            argv += ["--threads", str(THREADS)]
        self.transcript.append(f"# load route: {route.value}\n")
        out = self.record(toolchain.run(self.interp, argv, cwd=self.work, timeout=self.timeout))
        seen = _placeless(load_obs(route, out, self.timeout), str(self.work))
        return msgspec.structs.replace(seen, module=module) if self.imports else seen

    def installed(self, toolchain: Toolchain, python: Path, module: str) -> tuple[LoadObs, ...]:
        """The installed wheel imported: the case's module, or (`check`) each module in its own
        process, then the user's smoke command."""
        if not self.imports:
            return (self.load(Route.INSTALLED, toolchain, python, module, []),)
        loads = [self.load(Route.INSTALLED, toolchain, python, name, []) for name in self.imports]
        if self.test:
            loads.append(self.smoke(toolchain, python))
        return tuple(loads)

    def smoke(self, toolchain: Toolchain, python: Path) -> LoadObs:
        """`sh -c TEST` with the cell's environment first on PATH (as if activated), with the timeout; set
        inside the shell, as a rootfs's bwrap sets a PATH of its own."""
        script = f'export VIRTUAL_ENV="$0" PATH="$0/bin:$PATH"\n{self.test}'
        argv = ["sh", "-c", script, str(python.parent.parent)]
        self.transcript.append("# smoke test (--test)\n")
        out = self.record(toolchain.run(self.interp, argv, cwd=self.work, timeout=self.timeout))
        tail = proc.last_line(out.stderr + "\n" + out.stdout, prefer_errors=True)
        if out.timed_out:
            seen = LoadObs(route=Route.TEST, outcome=LoadOutcome.TIMEOUT, timeout_s=self.timeout, stderr_tail=tail)
        elif out.signal_name:
            seen = LoadObs(route=Route.TEST, outcome=LoadOutcome.CRASH, signal=out.signal_name, stderr_tail=tail)
        elif out.ok:
            seen = LoadObs(route=Route.TEST, outcome=LoadOutcome.LOADED, returncode=0, stderr_tail=tail)
        else:
            why = f"exit {out.returncode}: {tail}"
            seen = LoadObs(route=Route.TEST, outcome=LoadOutcome.EXCEPTION, returncode=out.returncode, exception=why)
        return msgspec.structs.replace(_placeless(seen, str(self.work)), module=self.test)


def _answer(toolchain: Toolchain, out: proc.Outcome) -> Answer:
    if out.ok:
        return Answer(ok=True)
    return Answer(ok=False, refused=toolchain.refused(out), message=toolchain.message(out))


class SharedEnvs:
    """One empty environment per (interpreter, installer) for a run: dry runs and forced loads change
    nothing in it, so cells share it, and only an installer that accepts the wheel gets a fresh one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: dict[tuple[str, str], tuple[Answer, Path, str]] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()

    def ensure(self, interp: Interpreter, toolchain: Toolchain) -> tuple[Answer, Path, str]:
        """The environment (made on first use): how its creation went, its python, the transcript."""
        key = (interp.id, toolchain.installer.value)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._made:
                dest = self.root / f"{safe_name(key[0])}-{key[1]}"
                out = toolchain.create_env(interp, dest)
                self._made[key] = (_answer(toolchain, out), dest / "bin" / "python", out.transcript())
        return self._made[key]

    def get(self, cell: CellRun, toolchain: Toolchain) -> tuple[Answer, Path]:
        answer, python, transcript = self.ensure(cell.interp, toolchain)
        cell.transcript.append(f"# shared environment {python.parent.parent} (made once):\n{transcript}")
        return answer, python

    def installer_versions(self, interp: Interpreter, toolchains: Sequence[Toolchain]) -> list[str]:
        """Each installer's version as used for *interp* (pip: the one seeded into its environments)."""
        versions = []
        for toolchain in toolchains:
            made, python, _ = self.ensure(interp, toolchain)
            versions.append(toolchain.env_version(interp, python) if made.ok else toolchain.version())
        return versions


def execute(
    artifact: Artifact,
    module: str,
    interp: Interpreter,
    toolchains: Sequence[Toolchain],
    shared: SharedEnvs,
    timeout: float,
    log_path: Path,
    *,
    imports: Sequence[str] = (),
    test: str = "",
) -> tuple[tuple[InstallerObs, ...], tuple[LoadObs, ...], str]:
    """Run one cell's steps: what each installer answered, every load's outcome, and the transcript.
    With *imports* (`check`), each of those modules is imported instead of *module*'s add() calls."""
    shared.root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="cell-", dir=shared.root))
    cell = CellRun(interp, work, timeout, imports=tuple(imports), test=test)
    module = ",".join(imports) or module
    cell.transcript.append(f"# wheel: {artifact.wheel}\n# python: {interp.describe()}\n")
    try:
        installers, loads = _steps(cell, artifact, module, toolchains, shared)
        return installers, loads, "".join(cell.transcript)
    finally:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text("".join(cell.transcript))
        shutil.rmtree(cell.work, ignore_errors=True)


def _steps(
    cell: CellRun, artifact: Artifact, module: str, toolchains: Sequence[Toolchain], shared: SharedEnvs
) -> tuple[tuple[InstallerObs, ...], tuple[LoadObs, ...]]:
    interp = cell.interp
    seen: list[InstallerObs] = []
    pythons: list[Path] = []
    # resolve: would each installer take this wheel here? (a dry run in the shared empty environment)
    for toolchain in toolchains:
        made, python = shared.get(cell, toolchain)
        version = toolchain.env_version(interp, python) if made.ok else toolchain.version()
        if not made.ok:
            seen.append(InstallerObs(name=toolchain.installer.value, version=version, env=made))
            return tuple(seen), ()
        answer = _answer(toolchain, cell.record(toolchain.dry_run(interp, python, artifact.wheel)))
        seen.append(InstallerObs(name=toolchain.installer.value, version=version, env=made, resolve=answer))
        pythons.append(python)
        if not answer.ok and not answer.refused:
            return tuple(seen), ()  # the installer failed for another reason: nothing more to observe
    accepted = [n for n, obs in enumerate(seen) if obs.resolve is not None and obs.resolve.ok]
    if not accepted:
        return tuple(seen), forced_loads(cell, artifact, module, toolchains[0], pythons[0])

    fresh: list[Path] = []
    for n in accepted:
        toolchain, env_dir = toolchains[n], cell.work / f"venv-{n}"
        created = cell.record(toolchain.create_env(interp, env_dir))
        if created.ok:
            installed = toolchain.install(interp, env_dir / "bin" / "python", artifact.wheel)
            answer = _answer(toolchain, cell.record(installed))
        else:
            answer = Answer(ok=False, message=f"could not create a fresh environment: {toolchain.message(created)}")
        seen[n] = msgspec.structs.replace(seen[n], install=answer)
        if not answer.ok:
            return tuple(seen), ()
        fresh.append(env_dir / "bin" / "python")
    return tuple(seen), cell.installed(toolchains[accepted[0]], fresh[0], module)


def dependency_env(
    toolchain: Toolchain, interp: Interpreter, requirements: Sequence[str], dest: Path
) -> tuple[Path, Dependencies, list[proc.Outcome]]:
    """A fresh environment of *interp* at *dest* holding *requirements*, resolved and installed for
    that interpreter by the installer (which evaluates their markers there): its python, what the
    installer answered, and the commands run (for the transcript)."""
    created = toolchain.create_env(interp, dest)
    if not created.ok:
        why = f"could not create an environment: {toolchain.message(created)}"
        return dest / "bin" / "python", Dependencies(requirements=tuple(requirements), ok=False, message=why), [created]
    python = dest / "bin" / "python"
    installed = toolchain.install_requirements(interp, python, requirements)
    message = "" if installed.ok else toolchain.message(installed)
    return (
        python,
        Dependencies(requirements=tuple(requirements), ok=installed.ok, message=message),
        [created, installed],
    )


def forced_loads(
    cell: CellRun, artifact: Artifact, module: str, toolchain: Toolchain, python: Path
) -> tuple[LoadObs, ...]:
    """A refused wheel's files, loaded anyway: by file name on sys.path, then each binary by path.

    Both loads run where the wheel's runtime requirements are installed (cffi's _cffi_backend), so a
    missing dependency is never taken for the binary's own error; without requirements the shared
    empty environment serves."""
    unpacked = cell.work / "unpacked"
    with zipfile.ZipFile(artifact.wheel) as zf:
        zf.extractall(unpacked)
    deps = None
    requirements = runtime_requirements(artifact.wheel)
    if requirements:
        cell.transcript.append(f"# forced loads: runtime requirements {', '.join(requirements)}\n")
        python, deps, outs = dependency_env(toolchain, cell.interp, requirements, cell.work / "forced-env")
        for out in outs:
            cell.record(out)
    loads = [cell.load(Route.SYS_PATH, toolchain, python, module, ["--path", str(unpacked)])]
    by_path = [a for f in artifact.ext_files for a in ("--by-path", f)]
    loads.append(cell.load(Route.BY_PATH, toolchain, python, module, ["--path", str(unpacked), *by_path]))
    if deps is None:
        return tuple(loads)
    return tuple(msgspec.structs.replace(load, dependencies=deps) for load in loads)
