"""The `run` use case as a tuple of small steps, in the manner of nox's workflow: each step takes the
run's state, does one thing, and returns None to go on or an exit code to stop.

resume -> provision -> load -> discover -> plan -> open -> execute (cells built, run and judged as they
finish, see run/pipeline.py) -> write -> report.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import msgspec

from harness import __version__, surface
from harness.build.installers import parse_installers, toolchains
from harness.config.matrix import check_selectors, load_cases, load_matrix
from harness.errors import ConfigError, HarnessError
from harness.infra import escape
from harness.infra.paths import provision_dir
from harness.interpreters import providers, provision
from harness.interpreters.discover import Discovery, discover, select
from harness.model import BuildSpec, Case, Interpreter, Matrix
from harness.reports import files
from harness.reports import markdown as report
from harness.reports import write as report_files
from harness.run import manifest, shard
from harness.run import records as results
from harness.run.manifest import CaseEntry, Host, RunManifest, ShardInfo, TargetEntry
from harness.run.pipeline import Settings, planned_cells, run_plan
from harness.run.plan import Plan, plan
from harness.run.progress import Progress


@dataclass(frozen=True)
class RunRequest:
    """The `run` command's options, typed (the CLI fills it; the nightly rehearsal too)."""

    matrix: Path
    cache_dir: Path
    results: Path
    jobs: int
    python: tuple[str, ...] = ()
    case: tuple[str, ...] = ()
    target: tuple[str, ...] = ()
    installer: str | None = None
    timeout: float | None = None
    rebuild: bool = False
    shard: str | None = None
    weights: Path | None = None
    provision: bool = False
    surface: bool = True
    rerun: bool = False
    fork: bool = True
    resume: Path | None = None
    verbose: int = 0
    argv: tuple[str, ...] = ()  # the command line, recorded in environment.json for --resume


# The flags that choose what a run covers: a resumed run must keep them (recorded in environment.json).
SELECTION = ("matrix", "case", "target", "python", "installer", "timeout", "shard", "weights")
Say = Callable[[str], None]


@dataclass
class RunState:
    """What the steps hand on to each other."""

    request: RunRequest
    parse: Callable[[Sequence[str]], RunRequest]  # a recorded `run` command line (for --resume)
    say: Say = field(default=lambda line: print(escape.text(line), file=sys.stderr, flush=True))  # tools' output
    resumed: results.Loaded | None = None
    matrix: Matrix | None = None
    discovery: Discovery | None = None
    cases: tuple[Case, ...] = ()
    runners: tuple[Interpreter, ...] = ()
    plan: Plan | None = None
    shard_info: ShardInfo | None = None
    settings: Settings | None = None
    run_id: str = ""
    run_dir: Path = Path()
    writer: results.Writer | None = None
    environment: RunManifest = field(default_factory=RunManifest)
    done: frozenset[str] = frozenset()  # a resumed run's complete cells
    total: int = 0
    interrupted: bool = False


Step = Callable[[RunState], int | None]
T = TypeVar("T")


def got(value: T | None) -> T:
    """A step's input, which an earlier step of STEPS sets."""
    if value is None:
        raise RuntimeError("a run step ran before the step that gives it its input")
    return value


def execute_steps(steps: Sequence[Step], state: RunState) -> int:
    """Run the steps in order; the first that returns an exit code ends the workflow."""
    for step in steps:
        code = step(state)
        if code is not None:
            return code
    return 0


def run(request: RunRequest, parse: Callable[[Sequence[str]], RunRequest]) -> int:
    return execute_steps(STEPS, RunState(request, parse))


def provision_missing(state: RunState) -> None:
    if state.request.provision:
        # The configuration is checked before provisioning writes anything.
        load_cases(load_matrix(state.request.matrix, providers.names()).cases_dir, providers.names())
        missing = provision.if_missing(provision_dir(), state.say)
        if missing:
            print(f"provision: could not get {'; '.join(missing)}", file=sys.stderr)


def resume(state: RunState) -> None:
    """Read the run to continue, and take its selection flags from its recorded command line."""
    request = state.request
    run_dir = request.resume
    if run_dir is None:
        return
    if not (run_dir / results.RESULTS_FILE).is_file():
        raise ConfigError(
            f"--resume {run_dir}: no {results.RESULTS_FILE} there; give a run directory such as results/X"
        )
    loaded = results.completed(run_dir)
    argv = list(loaded.environment.argv or ())
    if argv[:1] != ["run"]:
        raise ConfigError(
            f"--resume {run_dir}: {results.ENVIRONMENT_FILE} has no recorded `run` command line; start a new run"
        )
    recorded, defaults = state.parse(argv), state.parse(["run"])
    kept = {}
    for name in SELECTION:
        given, then = getattr(request, name), getattr(recorded, name)
        if given != getattr(defaults, name) and given != then:
            flag = "--" + name
            raise ConfigError(
                f"--resume {run_dir}: {flag} {_shown(given)} differs from the run's {_shown(then)}; "
                f"a resumed run keeps its selection (drop {flag}, or start a new run)"
            )
        kept[name] = then
    state.request = replace(request, **kept)
    state.resumed = loaded


def _shown(value: object) -> str:
    return " ".join(map(str, value)) if isinstance(value, tuple | list) else str(value)


def load(state: RunState) -> None:
    state.matrix = load_matrix(state.request.matrix, providers.names())


def find_interpreters(state: RunState) -> None:
    paths = [p for p in state.request.python if os.sep in p]
    state.discovery = discover(got(state.matrix), state.request.cache_dir, paths)


def make_plan(state: RunState) -> None:
    """The cases, the run interpreters, and the cells: built or skipped, this shard's only."""
    request, matrix, discovery = state.request, got(state.matrix), got(state.discovery)
    state.cases = load_cases(matrix.cases_dir, providers.names())
    selectors = check_selectors(matrix, discovery.interpreters, state.cases)
    for warning in selectors.warnings:
        print(escape.text(f"warning: {warning}"), file=sys.stderr)  # names matrix.toml's and case.toml's ids
    if selectors.absent:
        print(escape.text(f"note: {selectors.absent}"), file=sys.stderr)
    state.runners = select(discovery, list(request.python))
    the_plan = plan(
        state.cases, matrix.targets, discovery.interpreters, state.runners, list(request.case), list(request.target)
    )
    if request.shard:
        spec = shard.ShardSpec.parse(request.shard)
        weights = shard.weights_from(results.load(request.weights)[0]) if request.weights else None
        digest = shard.plan_digest(the_plan)
        the_plan = shard.shard(the_plan, spec, weights)
        builds = tuple(b.id for b in the_plan.builds)
        state.shard_info = ShardInfo(index=spec.index, count=spec.count, plan_digest=digest, builds=builds)
    state.plan = the_plan
    chosen = toolchains(
        parse_installers(request.installer) if request.installer else matrix.installers, request.cache_dir
    )
    state.settings = Settings(
        chosen,
        request.cache_dir,
        request.jobs,
        request.timeout or matrix.timeout_s,
        matrix.build_timeout_s,
        matrix.known_issues,
        request.rebuild,
        request.rerun,
        fork_loads=request.fork,
    )


def open_run(state: RunState) -> None:
    """A new run directory with its environment.json, or the resumed run's, ready for records."""
    if state.resumed is not None:
        _reopen(state)
        return
    request, the_plan = state.request, got(state.plan)
    state.run_id = results.new_run_id()
    state.run_dir = request.results / state.run_id
    state.writer = results.Writer(state.run_dir)
    results.point_latest(request.results, state.run_dir)
    state.environment = environment(state)
    manifest.write(state.run_dir, state.environment)
    state.total = the_plan.total_cells
    print(
        f"run {state.run_id}: {len(the_plan.builds)} wheels x {len(state.runners)} interpreters "
        f"({', '.join(i.id for i in state.runners)}), {the_plan.total_cells} cells, {request.jobs} jobs, "
        f"{got(state.settings).toolchain.version()}",
        file=sys.stderr,
    )


def open_prepared(state: RunState) -> None:
    """A run whose plan, settings and manifest were made elsewhere (`check`): its directory and
    environment.json, ready for records."""
    state.run_id = state.environment.run_id
    state.run_dir = state.request.results / state.run_id
    state.writer = results.Writer(state.run_dir)
    results.point_latest(state.request.results, state.run_dir)
    manifest.write(state.run_dir, state.environment)
    state.total = got(state.plan).total_cells


def environment(state: RunState) -> RunManifest:
    """environment.json of a new run: what ran where, with which tools, to rebuild and re-judge it."""
    request, the_plan, settings = state.request, got(state.plan), got(state.settings)
    matrix, discovery, runners = got(state.matrix), got(state.discovery), state.runners
    specs = [b for b in the_plan.builds if isinstance(b, BuildSpec)]
    builders = {b.python.id: b.python for b in specs if b.python not in runners}
    return RunManifest(
        schema_version=results.SCHEMA_VERSION,
        run_id=state.run_id,
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        argv=request.argv,
        harness_version=__version__,
        host=Host(python=sys.version.split()[0], platform=platform.platform(), cpus=os.cpu_count()),
        installer=", ".join(t.version() for t in settings.toolchains),
        matrix=str(matrix.path),
        cache_dir=str(request.cache_dir),
        interpreters=manifest.entries(runners),
        build_interpreters=tuple(sorted({b.python.id for b in specs})),
        # Facts of build interpreters that are not run columns: the judge reads them (--rejudge).
        build_interpreter_facts=manifest.entries(builders.values()),
        excluded=tuple((str(path), str(why)) for path, why in discovery.excluded),
        cases=tuple(case_entry(c) for c in state.cases),
        targets=tuple(TargetEntry.of(t) for t in matrix.targets),
        shard=state.shard_info or msgspec.UNSET,
    )


def _reopen(state: RunState) -> None:
    """Continue a run: the cells without a complete record run, the others stay as they are."""
    resumed, the_plan, run_dir = got(state.resumed), got(state.plan), got(state.request.resume)
    state.environment = resumed.environment
    state.run_id = state.environment.run_id or run_dir.name
    state.run_dir = run_dir
    state.done = frozenset(r.cell for r in resumed.records)
    planned = planned_cells(the_plan)
    stray = sorted(state.done - planned)
    if stray:
        raise ConfigError(
            f"--resume {run_dir}: {len(stray)} recorded cells are not in today's plan (first: {stray[0]}); "
            "matrix.toml, the cases or the interpreters changed since; start a new run"
        )
    state.writer = results.Writer(run_dir, keep=resumed.records)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    state.environment = state.environment.with_changes(resumed=(*(state.environment.resumed or ()), now))
    state.total = len(planned - state.done)
    print(
        f"resuming run {state.run_id}: {len(state.done)} of {len(planned)} cells kept, {state.total} to run",
        file=sys.stderr,
    )


def execute(state: RunState) -> None:
    """Build and run every cell; each is judged and recorded the moment it finishes. Ctrl-C keeps what is done."""
    writer = got(state.writer)
    progress = Progress(state.total, verbose=state.request.verbose >= 1)
    completed = False
    try:
        run_plan(got(state.plan), got(state.settings), state.run_id, writer, progress, done=state.done)
        completed = True
    except KeyboardInterrupt:
        state.interrupted = completed = True
    finally:
        progress.close()
        writer.close()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        state.environment = state.environment.with_changes(finished=now, interrupted=state.interrupted)
        if not completed:  # an error on the way out: the records so far still get their environment and report
            write(state)


def write(state: RunState) -> None:
    """environment.json, the Surface section and the reports of the run directory."""
    writer, run_dir = got(state.writer), state.run_dir
    try:
        manifest.write(run_dir, state.environment)
        if state.request.surface and state.resumed is None and not state.interrupted:
            files.write(run_dir, results.SURFACE_FILE, "\n".join(surface_section(state.runners, state)) + "\n")
        sections = report.run_sections(run_dir)
        report_files.write(run_dir, writer.records, state.environment, ("md", "html"), sections)
    except OSError as exc:
        if writer.failed is None:  # else the write error already being raised says it
            raise HarnessError(f"{run_dir}: cannot write the run's report: {exc.strerror}") from None


def surface_section(runners: tuple[Interpreter, ...], state: RunState) -> list[str]:
    """The run interpreters' ABI surface (cached per interpreter identity); a failure is said, not raised."""
    try:
        return surface.report_section(runners, state.request.cache_dir)
    except Exception as exc:  # the matrix's verdicts must not be lost to a surface probe's bug
        return ["## Surface", "", f"Not measured: {type(exc).__name__}: {exc}"]


def summarize(state: RunState) -> int:
    """The terminal summary; the exit code: 130 interrupted, 1 a problem cell, else 0."""
    records = got(state.writer).records
    print(report.terminal_summary(records, state.environment, str(state.run_dir)))
    if state.interrupted:
        print(
            f"interrupted: {len(records)} finished cells are kept in {state.run_dir}; continue with "
            f"`python -m harness run --resume {state.run_dir}`",
            file=sys.stderr,
        )
        return 130
    return 1 if report.problems(records) else 0


# The end of every run, whoever planned it (`run`, `check`).
FINISH: tuple[Step, ...] = (execute, write, summarize)
STEPS: tuple[Step, ...] = (
    resume,
    provision_missing,
    load,
    find_interpreters,
    make_plan,
    open_run,
    execute,
    write,
    summarize,
)


def case_entry(case: Case) -> CaseEntry:
    return CaseEntry(
        id=case.id,
        backend=case.backend,
        binding=case.binding,
        dist_name=case.dist_name,
        module=case.module,
        description=case.description,
        notes=case.notes,
        targets=tuple(k for k, _ in case.recipes),
        unsupported=dict(case.unsupported),
    )
