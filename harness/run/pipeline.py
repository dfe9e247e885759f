"""Run a plan: builds in one pool, cells in another, each cell recorded the moment it finishes."""

from __future__ import annotations

import functools
import os
import queue
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.build.audit import audit_wheel
from harness.build.audit_result import Audit
from harness.build.installers import Toolchain
from harness.build.keys import BuildFailure
from harness.build.wheel import build
from harness.build.wheelfile import given
from harness.cell.execute import SharedEnvs, execute
from harness.cell.forks import ForkServers
from harness.cell.observe import BuildObs, Observed, WheelObs
from harness.cell.reuse import Reused, Store, cell_key, reusable
from harness.infra.paths import remove_tree, safe_name, under
from harness.model import AnySpec, Artifact, Case, Cell, Interpreter, KnownIssue, Status, Target, WheelSpec
from harness.run.plan import Plan, PlannedSkip
from harness.run.progress import Progress
from harness.run.records import SCHEMA_VERSION, Record, Writer
from harness.verdict.judge import CellFacts, judge
from harness.verdict.stages import StageResult


@dataclass(frozen=True)
class Settings:
    toolchains: tuple[Toolchain, ...]  # the first builds wheels and runs the calls
    cache: Path
    jobs: int
    timeout_s: float
    build_timeout_s: float
    known_issues: tuple[KnownIssue, ...]
    rebuild: bool = False
    rerun: bool = False  # execute every cell, even where recorded observations could be reused
    test: str = ""  # `check --test`: a smoke command run in each installed environment
    fork_loads: bool = True  # each load forked from a waiting interpreter (cell.forks); False: started anew

    @property
    def toolchain(self) -> Toolchain:
        return self.toolchains[0]


def _base_record(run_id: str, cell: Cell, case: Case, target: Target) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "cell": str(cell),
        "case": cell.case,
        "backend": case.backend,
        "binding": case.binding,
        "target": target.name,
        "target_kind": target.kind,
        "build_python": cell.build_python,
        "run_python": cell.run_python,
        "schema_version": SCHEMA_VERSION,
    }


def skip_record(run_id: str, skip: PlannedSkip) -> Record:
    return Record(
        **_base_record(run_id, skip.cell, skip.case, skip.target),
        status=Status.SKIP,
        reason=skip.reason,
        stage="plan",
        expected="-",
        stages={"plan": StageResult(Status.SKIP, skip.reason)},
    )


def record(run_id: str, facts: CellFacts, case: Case, known: Sequence[KnownIssue], **extra: Any) -> Record:
    """A record: the cell, its observations, and the judgement derived from them now."""
    return Record(
        **_base_record(run_id, facts.cell, case, facts.target),
        **judge(facts, known).record_fields(),
        observed=facts.observed,
        **extra,
    )


def failed_build_records(
    run_id: str,
    spec: AnySpec,
    failure: BuildFailure,
    runners: tuple[Interpreter, ...],
    run_dir: Path,
    known: tuple[KnownIssue, ...],
) -> list[Record]:
    """A build that fails is a failed cell for every column, with its log; the run goes on."""
    log = _keep_build_log(failure.build_log, spec, run_dir)
    observed = Observed(
        build=BuildObs(
            ok=False,
            infrastructure=failure.status is Status.ERROR,
            message=failure.reason,
            cached=failure.cached or None,  # None: compiled in this run, as before failures were kept
            tools=dict(failure.tools),
        )
    )
    return [
        record(
            run_id,
            CellFacts(
                cell=spec.cell(run),
                target=spec.target,
                build=spec.build_interpreter,
                run=run,
                observed=observed,
            ),
            spec.case,
            known,
            build_log=log,
            log=log,
            build_tools=dict(failure.tools),
            build_cached=failure.cached or None,
        )
        for run in runners
    ]


def check_inputs(spec: AnySpec, settings: Settings) -> tuple[str, ...]:
    """What a `check` cell imports, and its smoke command (part of its reuse key); () for the matrix."""
    return (
        (*spec.imports, *([f"--test {settings.test}"] if settings.test else ())) if isinstance(spec, WheelSpec) else ()
    )


def observe_cell(
    spec: AnySpec,
    artifact: Artifact,
    audit: Audit,
    run: Interpreter,
    settings: Settings,
    shared: SharedEnvs,
    log_path: Path,
) -> tuple[Observed, str]:
    check = isinstance(spec, WheelSpec)
    installers, loads, transcript = execute(
        *(artifact, spec.case.module, run, settings.toolchains, shared, settings.timeout_s, log_path),
        imports=spec.imports if check else (),
        test=settings.test if check else "",
    )
    observed = Observed(
        build=BuildObs(ok=True, cached=artifact.cached, tools=dict(artifact.tools)),
        wheel=WheelObs(
            name=artifact.wheel.name,
            tags=artifact.tags,
            ext_files=artifact.ext_files,
            requires_python=artifact.requires_python,
        ),
        audit=audit,
        installers=installers,
        loads=loads,
    )
    return observed, transcript


@dataclass(frozen=True)
class CellContext:
    """What every cell of one run shares."""

    run_id: str
    run_dir: Path
    settings: Settings
    shared: SharedEnvs
    store: Store


def reused_observations(
    ctx: CellContext, artifact: Artifact, run: Interpreter, log_path: Path, check: tuple[str, ...] = ()
) -> tuple[str, Observed | None, str]:
    """(reuse key, the observations recorded under it or None, the run they came from)."""
    versions = ctx.shared.installer_versions(run, ctx.settings.toolchains)
    timeout = ctx.settings.timeout_s
    key = cell_key(wheel=artifact.wheel, interp=run, installers=versions, timeout_s=timeout, check=check)
    entry = None if ctx.settings.rerun else ctx.store.get(key)
    if entry is None:
        return key, None, ""
    observed = entry.observed
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(f"# observations reused from run {entry.run_id} (nothing they depend on changed)\n{entry.log}")
    return key, observed, entry.run_id


def cell_record(
    ctx: CellContext, spec: AnySpec, artifact: Artifact, audit: Audit, run: Interpreter, build_log: str
) -> Record:
    """Observe the cell (or reuse what was observed), then judge it; a harness bug is an `error` record."""
    cell = spec.cell(run)
    log_rel = Path("logs") / "cells" / f"{safe_name(str(cell))}.log"
    start = time.monotonic()
    reused_from = ""
    try:
        check = check_inputs(spec, ctx.settings)
        key, observed, reused_from = reused_observations(ctx, artifact, run, ctx.run_dir / log_rel, check)
        if observed is None:
            observed, transcript = observe_cell(
                spec, artifact, audit, run, ctx.settings, ctx.shared, ctx.run_dir / log_rel
            )
            if reusable(observed):
                ctx.store.put(key, Reused(run_id=ctx.run_id, observed=observed, log=transcript))
    except Exception as exc:
        observed = Observed(
            build=BuildObs(ok=True, cached=artifact.cached, tools=dict(artifact.tools)),
            harness_error=f"{type(exc).__name__}: {exc}",
        )
    installers = [i.version for i in observed.installers]
    return record(
        ctx.run_id,
        CellFacts(cell=cell, target=spec.target, build=spec.build_interpreter, run=run, observed=observed),
        spec.case,
        ctx.settings.known_issues,
        wheel=artifact.wheel.name,
        wheel_tags=artifact.tags,
        ext_files=artifact.ext_files,
        installer=", ".join(installers) or None,
        build_cached=artifact.cached,
        build_tools=dict(artifact.tools),
        build_log=build_log,
        duration_s=round(time.monotonic() - start, 3),
        log=str(log_rel),
        reused_from=reused_from or None,
    )


def safe_build(spec: AnySpec, settings: Settings) -> tuple[Artifact, Audit] | BuildFailure:
    """Build (or fetch from the cache) and audit once per wheel; a harness bug is an error, not a crash.
    A wheel under `check` is not built: it is read as given."""
    try:
        if isinstance(spec, WheelSpec):
            result = given(spec, settings.cache)
        else:
            result = build(spec, settings.toolchain, settings.cache, settings.build_timeout_s, settings.rebuild)
        if isinstance(result, BuildFailure):
            return result
        audit_file = result.wheel.parent / "audit.json"
        if isinstance(spec, WheelSpec):  # beside the downloaded or given wheel: maybe not ours to write
            audit_file = settings.cache / "check" / "audit" / f"{result.cache_key}.json"
        return result, audit_wheel(result.wheel, result.tags, audit_file)
    except Exception as exc:
        note = settings.cache / "logs" / f"harness-error-{safe_name(spec.id)}.log"
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text(f"{type(exc).__name__}: {exc}\n")
        return BuildFailure(
            spec.id, f"harness error while building: {type(exc).__name__}: {exc}", note, status=Status.ERROR
        )


def spec_cells(spec: AnySpec, runners: tuple[Interpreter, ...]) -> list[str]:
    return [str(spec.cell(run)) for run in runners]


def planned_cells(plan: Plan) -> frozenset[str]:
    """Every cell id the plan records, built or skipped."""
    built = {c for spec in plan.builds for c in spec_cells(spec, plan.runners(spec))}
    return frozenset(built | {str(skip.cell) for skip in plan.skips})


def run_plan(
    plan: Plan, settings: Settings, run_id: str, writer: Writer, progress: Progress, done: frozenset[str] = frozenset()
) -> None:
    """Builds first come first served; each finished build fans out into its cells. Cells in *done* (a
    resumed run's complete records) are neither run nor recorded again; a wheel all of whose cells are
    done is not built."""
    cells_root = settings.cache / "cells"
    forks = ForkServers() if settings.fork_loads else None
    shared = SharedEnvs(under(cells_root, f"run-{run_id}"), forks)  # a hostile run id cannot name another directory
    ctx = CellContext(run_id, writer.run_dir, settings, shared, Store(settings.cache))
    for skip in plan.skips:
        _keep(skip_record(run_id, skip), done, writer, progress)
    # Two pools, so cells (short, mostly waiting on subprocesses) stream out while the CPU-bound
    # builds queue behind each other, instead of every cell waiting for the last build.
    with (
        ThreadPoolExecutor(max_workers=settings.jobs) as builds,
        ThreadPoolExecutor(max_workers=settings.jobs) as cells,
    ):
        fanout = _Fanout(plan, ctx, writer, progress, done, cells)
        for spec in plan.builds:
            if done.issuperset(spec_cells(spec, plan.runners(spec))):
                continue
            fanout.add(builds.submit(safe_build, spec, settings), functools.partial(fanout.built, spec))
        try:
            fanout.drain()
        finally:
            if forks is not None:
                forks.close()
            remove_tree(cells_root, shared.root)


def _keep(record: Record, done: frozenset[str], writer: Writer, progress: Progress) -> None:
    """Write a finished cell's record, unless a resumed run already has it."""
    if record.cell in done:
        return
    writer.write(record)
    progress.cell(record)


@dataclass
class _Fanout:
    """One run_plan's moving parts: each finished build becomes its cells' futures, each finished
    future is handled on this thread (records are written from one thread only)."""

    plan: Plan
    ctx: CellContext
    writer: Writer
    progress: Progress
    done: frozenset[str]
    cells: ThreadPoolExecutor
    pending: dict[Future[Any], Callable[[Any], None]] = field(default_factory=dict)
    finished: queue.SimpleQueue[Future[Any]] = field(default_factory=queue.SimpleQueue)

    def add(self, future: Future[Any], handler: Callable[[Any], None]) -> None:
        """*handler* gets the future's result on this thread once it finishes."""
        self.pending[future] = handler
        future.add_done_callback(self.finished.put)

    def record(self, record: Record) -> None:
        _keep(record, self.done, self.writer, self.progress)

    def built(self, spec: AnySpec, built: tuple[Artifact, Audit] | BuildFailure) -> None:
        ctx = self.ctx
        if isinstance(built, BuildFailure):
            again = " (failed the same way in an earlier run; --rebuild tries again)" if built.cached else ""
            self.progress.note(f"build FAILED {spec.id}: {built.reason}{again}")
            records = failed_build_records(
                ctx.run_id, spec, built, self.plan.runners(spec), ctx.run_dir, ctx.settings.known_issues
            )
            for record in records:
                self.record(record)
            return
        artifact, audit = built
        state = "cached" if artifact.cached else f"built in {artifact.duration_s:.1f}s"
        self.progress.note(f"{state}: {spec.id} -> {artifact.wheel.name}")
        log = _keep_build_log(artifact.build_log, spec, ctx.run_dir)
        for run in self.plan.runners(spec):
            if str(spec.cell(run)) in self.done:
                continue
            self.add(self.cells.submit(cell_record, ctx, spec, artifact, audit, run, log), self.record)

    def drain(self) -> None:
        """Handle futures as they finish until none is left (a build's handler adds its cells). Each
        future says when it is done, so this is one step per future: waiting on the whole pending set
        each time cost a warm run of 4000 cells seconds (py-spy)."""
        while self.pending:
            future = self.finished.get()
            handler = self.pending.pop(future)
            handler(future.result())


def _keep_build_log(source: Path, spec: AnySpec, run_dir: Path) -> str:
    """Copy a build's log into the run directory (the cache may be cleaned); its path relative to the run."""
    dest = run_dir / "logs" / "builds" / f"{safe_name(spec.id)}.log"
    dest.parent.mkdir(parents=True, exist_ok=True)
    if source.is_file():
        shutil.copyfile(source, dest)
    else:
        dest.write_text(f"(log {source} not found)\n")
    return os.path.relpath(dest, run_dir)
