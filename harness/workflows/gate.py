"""`gate`: does a new interpreter build keep every promise the release before it made?

The matrix's own plan, restricted to the cells that concern the new build (run/gate.py), run by the
run pipeline (cached wheels, reused observations, the judge); meanwhile the surface of the new build
and of its baseline are measured and compared (surface/breaks.py). One verdict, one short report.
"""

from __future__ import annotations

import os
import platform
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.build.installers import parse_installers, toolchains
from harness.config.matrix import load_cases, load_matrix
from harness.errors import ConfigError
from harness.interpreters import providers
from harness.interpreters.discover import Discovery, discover, select
from harness.model import BuildSpec, Interpreter
from harness.reports import gate as report
from harness.run import manifest
from harness.run import records as results
from harness.run.gate import default_baseline, flavour_note, gate_plan
from harness.run.manifest import CaseEntry, GateEntry, Host, InterpreterEntry, RunManifest, TargetEntry
from harness.run.pipeline import Settings, run_plan
from harness.run.plan import Plan, plan
from harness.run.progress import Progress
from harness.surface import breaks, collect

# Not junit.xml: `report RUN_DIR --format junit` writes that one, one testcase per cell of the run.
GATE_FILE, JUNIT_FILE, JSON_FILE = "gate.md", "gate-junit.xml", "gate.json"


@dataclass(frozen=True)
class Request:
    new: str  # an id, a glob matching one interpreter, or the path of a python executable
    baseline: str | None
    matrix: Path
    cache: Path
    results: Path
    jobs: int
    cases: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    installer: str | None = None
    timeout_s: float | None = None
    argv: tuple[str, ...] = ()
    verbose: bool = False
    rerun: bool = False  # execute every cell even where recorded observations could be reused


def one(discovery: Discovery, flag: str, pattern: str) -> Interpreter:
    """The single interpreter *pattern* names (an id, a glob or a path)."""
    hits = select(discovery, [pattern])
    if len(hits) != 1:
        raise ConfigError(
            f"{flag} {pattern!r} matched {len(hits)} interpreters ({', '.join(i.id for i in hits)}); give one id"
        )
    return hits[0]


def choose(request: Request) -> tuple[Any, Discovery, Interpreter, Interpreter]:
    """(matrix, discovery, new build, baseline); a path given for either is probed as an explicit interpreter."""
    matrix = load_matrix(request.matrix, providers.names())
    paths = [p for p in (request.new, request.baseline) if p and os.sep in p]
    discovery = discover(matrix, request.cache, paths)
    new = one(discovery, "--python", request.new)
    if not new.is_cpython:
        raise ConfigError(f"--python {request.new}: {new.describe()} is not CPython; a gate checks CPython's promises")
    everyone = discovery.interpreters
    baseline = one(discovery, "--baseline", request.baseline) if request.baseline else default_baseline(new, everyone)
    if baseline.id == new.id:
        raise ConfigError(f"--baseline {request.baseline}: is the new build itself; give an earlier release")
    return matrix, discovery, new, baseline


def environment(request: Request, run_id: str, the_plan: Plan, new: Interpreter, baseline: Interpreter) -> RunManifest:
    """environment.json as a run writes it (so `report` and `--rejudge` read a gate's run), plus the gate."""
    runners = {i.id: i for spec in the_plan.builds for i in the_plan.runners(spec)}
    specs = [spec for spec in the_plan.builds if isinstance(spec, BuildSpec)]
    builders = {spec.python.id: spec.python for spec in specs if spec.python.id not in runners}
    return RunManifest(
        schema_version=results.SCHEMA_VERSION,
        run_id=run_id,
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        argv=tuple(request.argv),
        harness_version=__version__,
        host=Host(python=sys.version.split()[0], platform=platform.platform(), cpus=os.cpu_count()),
        matrix=str(request.matrix),
        cache_dir=str(request.cache),
        interpreters=manifest.entries(i for i in the_plan.run_pythons if i.id in runners),
        build_interpreters=tuple(sorted({b.python.id for b in specs})),
        build_interpreter_facts=manifest.entries(builders.values()),
        gate=GateEntry(new=InterpreterEntry.of(new), baseline=InterpreterEntry.of(baseline)),
    )


Compared = tuple[tuple[breaks.Broken, ...], tuple[str, ...], str]


def measure_surfaces(new: Interpreter, baseline: Interpreter, cache: Path) -> Callable[[], Compared]:
    """Start measuring both surfaces in a thread (a C probe per level, cached); the returned call waits."""
    outcome: list[Compared] = []

    def work() -> None:
        try:
            a, b = collect(baseline, cache), collect(new, cache)
            outcome.append((breaks.broken(a, b), breaks.unverified(a, b), breaks.compared(a, b)))
        except Exception as exc:  # a probe's bug must not hide the cells' verdicts: said as not verified
            outcome.append(((), (f"surface not measured: {type(exc).__name__}: {exc}",), ""))

    thread = threading.Thread(target=work, name="gate-surface", daemon=True)
    thread.start()

    def wait() -> Compared:
        thread.join()
        return outcome[0]

    return wait


def gate(request: Request, say: Callable[[str], None]) -> report.GateResult:
    """Run the gate's cells and compare the surfaces; write the run directory and its reports."""
    matrix, discovery, new, baseline = choose(request)
    cases = load_cases(matrix.cases_dir, providers.names())
    everyone = discovery.interpreters
    full = plan(cases, matrix.targets, everyone, everyone, list(request.cases), list(request.targets))
    the_plan = gate_plan(full, new, everyone)
    chosen = toolchains(parse_installers(request.installer) if request.installer else matrix.installers, request.cache)
    settings = Settings(
        chosen,
        request.cache,
        request.jobs,
        request.timeout_s or matrix.timeout_s,
        matrix.build_timeout_s,
        matrix.known_issues,
        rerun=request.rerun,
    )
    run_id = results.new_run_id()
    run_dir = request.results / f"gate-{new.id}-{run_id}"
    writer = results.Writer(run_dir)
    env = environment(request, run_id, the_plan, new, baseline)
    cases_on_file = tuple(
        CaseEntry(id=c.id, backend=c.backend, binding=c.binding, module=c.module, description=c.description)
        for c in cases
    )
    env = env.with_changes(cases=cases_on_file, targets=tuple(TargetEntry.of(t) for t in matrix.targets))
    manifest.write(run_dir, env)
    say(
        f"gate {new.id} against {baseline.id}: {len(the_plan.builds)} wheels, {the_plan.total_cells} cells, "
        f"{request.jobs} jobs"
    )
    if note := flavour_note(new, baseline, everyone):
        say(f"note: {note}")
    surfaces = measure_surfaces(new, baseline, request.cache)
    progress = Progress(the_plan.total_cells, verbose=request.verbose)
    try:
        run_plan(the_plan, settings, run_id, writer, progress)
    finally:
        progress.close()
        writer.close()
    broken, unverified, compared = surfaces()
    result = report.GateResult(
        new.id,
        new.describe(),
        baseline.id,
        baseline.describe(),
        tuple(writer.records),
        broken,
        unverified,
        str(run_dir),
        compared,
        flavour_note(new, baseline, everyone),
    )
    write(run_dir, result)
    return result


def write(run_dir: Path, result: report.GateResult) -> None:
    (run_dir / GATE_FILE).write_text(report.markdown(result))
    (run_dir / JUNIT_FILE).write_text(report.junit(result))
    results.write_json(run_dir / JSON_FILE, result.to_json())


__all__: Sequence[str] = ("Request", "gate")
