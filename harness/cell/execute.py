"""One cell, observed step by step: environments -> resolve -> install -> load. No verdict here.

Which step runs next depends only on what the previous one saw (an installer accepted the wheel:
install and import it; every installer refused it: load its files anyway, two ways), never on the
expectation, so the same observations can be judged again under another matrix.toml (judge.py).
Everything that runs an interpreter is a subprocess with a timeout, in a fresh environment, so a
crash or a hang is one cell's observation and never the run's end.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from harness.build.installers import Toolchain
from harness.build.metadata import runtime_requirements
from harness.cell.forks import ForkServers
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
T = TypeVar("T")


@functools.cache
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
        files=tuple(
            msgspec.structs.replace(f, abi_info_note=f.abi_info_note.replace(work, "<cell>")) for f in load.files
        ),
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
    forks: ForkServers | None = None  # loads forked from a waiting interpreter (None: each started anew)

    def record(self, out: proc.Outcome) -> proc.Outcome:
        self.transcript.append(out.transcript())
        return out

    def load(self, route: Route, toolchain: Toolchain, python: Path, module: str, extra: Sequence[str]) -> LoadObs:
        call = [module, *extra]
        if self.imports:
            call += ["--import-only"]
        elif self.interp.free_threaded:
            call += ["--threads", str(THREADS)]
        self.transcript.append(f"# load route: {route.value}\n")
        out = self.record(self.start(toolchain, python, call))
        seen = _placeless(load_obs(route, out, self.timeout), str(self.work))
        return msgspec.structs.replace(seen, module=module) if self.imports else seen

    def start(self, toolchain: Toolchain, python: Path, call: Sequence[str]) -> proc.Outcome:
        """`python -I -c call.py *call*` in the cell's directory: forked from a waiting interpreter when
        there is one, else started on its own (also when the server could not answer)."""
        if self.forks is not None:
            launch = functools.partial(toolchain.launch, self.interp)
            forked = self.forks.run(launch, python, call, code=call_script(), cwd=self.work, timeout=self.timeout)
            if forked is not None:
                return forked
            self.transcript.append("# the fork server did not answer: this load started on its own\n")
        argv = [str(python), "-I", "-c", call_script(), *call]  # -I: no user site, PYTHONPATH nor cwd on sys.path
        return toolchain.run(self.interp, argv, cwd=self.work, timeout=self.timeout)

    def installed(self, toolchain: Toolchain, python: Path, module: str, site: Path | None) -> tuple[LoadObs, ...]:
        """The installed wheel imported (from *site*, the directory it was installed into, when it is
        not *python*'s own environment): the case's module, or (`check`) each module in its own
        process, then the user's smoke command."""
        extra = ["--site", str(site)] if site is not None else []
        if not self.imports:
            return (self.load(Route.INSTALLED, toolchain, python, module, extra),)
        loads = [self.load(Route.INSTALLED, toolchain, python, name, extra) for name in self.imports]
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
    """One empty environment per (interpreter, installer) for a run: dry runs, installs into a fresh
    target directory and forced loads change nothing in it, so cells share it (and its waiting
    interpreters, `forks`). A forced load's runtime requirements are installed once per (interpreter,
    installer, requirements) and only read by the loads."""

    def __init__(self, root: Path, forks: ForkServers | None = None) -> None:
        self.root = root
        self.forks = forks
        self._made: dict[tuple[str, ...], Any] = {}
        self._locks: dict[tuple[str, ...], threading.Lock] = {}
        self._lock = threading.Lock()

    def _once(self, key: tuple[str, ...], make: Callable[[], T]) -> T:
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._made:
                self._made[key] = make()
        made: T = self._made[key]
        return made

    def ensure(self, interp: Interpreter, toolchain: Toolchain) -> tuple[Answer, Path, str]:
        """The environment (made on first use): how its creation went, its python, the transcript."""
        dest = self.root / f"{safe_name(interp.id)}-{toolchain.installer.value}"

        def make() -> tuple[Answer, Path, str]:
            out = toolchain.create_env(interp, dest)
            return _answer(toolchain, out), dest / "bin" / "python", out.transcript()

        return self._once((interp.id, toolchain.installer.value), make)

    def get(self, cell: CellRun, toolchain: Toolchain) -> tuple[Answer, Path]:
        answer, python, transcript = self.ensure(cell.interp, toolchain)
        cell.transcript.append(f"# shared environment {python.parent.parent} (made once):\n{transcript}")
        return answer, python

    def dependencies(
        self, cell: CellRun, toolchain: Toolchain, python: Path, requirements: Sequence[str]
    ) -> tuple[Path, Dependencies]:
        """A directory holding *requirements* as the installer resolved them for the cell's interpreter
        (made on first use, then shared: the loads only read it), and what the installer answered."""
        key = (cell.interp.id, toolchain.installer.value, *requirements)
        dest = self.root / f"deps-{hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]}"

        def make() -> tuple[Path, Dependencies, str]:
            out = toolchain.install_target(cell.interp, python, requirements, dest)
            message = "" if out.ok else toolchain.message(out)
            return dest, Dependencies(requirements=tuple(requirements), ok=out.ok, message=message), out.transcript()

        site, deps, transcript = self._once(key, make)
        cell.transcript.append(f"# runtime requirements in {site} (installed once):\n{transcript}")
        return site, deps

    def installer_versions(self, interp: Interpreter, toolchains: Sequence[Toolchain]) -> list[str]:
        """Each installer's version as used for *interp* (pip: the one seeded into its environments;
        uv's needs no environment, so a warm run whose cells are all reused makes none)."""
        versions = []
        for toolchain in toolchains:
            if not toolchain.version_in_env:
                versions.append(toolchain.version())
                continue
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
    cell = CellRun(interp, work, timeout, imports=tuple(imports), test=test, forks=shared.forks)
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
        return tuple(seen), forced_loads(cell, artifact, module, toolchains[0], pythons[0], shared)
    places: list[tuple[Path, Path | None]] = []
    for n in accepted:
        answer, place = _install(cell, toolchains[n], pythons[n], artifact.wheel, n)
        seen[n] = msgspec.structs.replace(seen[n], install=answer)
        if not answer.ok:
            return tuple(seen), ()
        places.append(place)
    python, site = places[0]
    return tuple(seen), cell.installed(toolchains[accepted[0]], python, module, site)


def _install(
    cell: CellRun, toolchain: Toolchain, shared_python: Path, wheel: Path, n: int
) -> tuple[Answer, tuple[Path, Path | None]]:
    """Install the wheel as a user would, with its runtime dependencies from the index, into a fresh
    directory of its own (the installer's --target, for the shared environment's interpreter): what
    the installer answered, and (python, site directory) to import it with. `check --test` makes a
    fresh environment instead, so the user's command finds the wheel's scripts and `python` there."""
    if not cell.test:
        target = cell.work / f"target-{n}"
        out = cell.record(toolchain.install_target(cell.interp, shared_python, [str(wheel)], target))
        return _answer(toolchain, out), (shared_python, target)
    env_dir = cell.work / f"venv-{n}"
    created = cell.record(toolchain.create_env(cell.interp, env_dir))
    if not created.ok:
        return Answer(ok=False, message=f"could not create a fresh environment: {toolchain.message(created)}"), (
            shared_python,
            None,
        )
    installed = toolchain.install(cell.interp, env_dir / "bin" / "python", wheel)
    return _answer(toolchain, cell.record(installed)), (env_dir / "bin" / "python", None)


def forced_loads(
    cell: CellRun, artifact: Artifact, module: str, toolchain: Toolchain, python: Path, shared: SharedEnvs
) -> tuple[LoadObs, ...]:
    """A refused wheel's files, loaded anyway: by file name on sys.path, then each binary by path.

    Both loads run where the wheel's runtime requirements are installed (cffi's _cffi_backend), so a
    missing dependency is never taken for the binary's own error; without requirements the shared
    empty environment serves."""
    unpacked = cell.work / "unpacked"
    with zipfile.ZipFile(artifact.wheel) as zf:
        zf.extractall(unpacked)
    deps = None
    site: list[str] = []
    requirements = runtime_requirements(artifact.wheel)
    if requirements:
        cell.transcript.append(f"# forced loads: runtime requirements {', '.join(requirements)}\n")
        deps_dir, deps = shared.dependencies(cell, toolchain, python, requirements)
        site = ["--site", str(deps_dir)]
    loads = [cell.load(Route.SYS_PATH, toolchain, python, module, [*site, "--path", str(unpacked)])]
    by_path = [a for f in artifact.ext_files for a in ("--by-path", f)]
    loads.append(cell.load(Route.BY_PATH, toolchain, python, module, [*site, "--path", str(unpacked), *by_path]))
    if deps is None:
        return tuple(loads)
    return tuple(msgspec.structs.replace(load, dependencies=deps) for load in loads)
