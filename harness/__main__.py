"""Command line: run, interpreters, cases, report. HarnessError becomes an exit code, never a traceback."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from harness import __version__, surface
from harness.cell.installers import parse_installers, toolchains
from harness.config import casegen
from harness.config.matrix import SelectorCheck, check_selectors, load_case, load_cases, load_matrix
from harness.errors import ConfigError, HarnessError
from harness.infra.paths import UnsafePath, cache_dir, provision_dir
from harness.interpreters import provision
from harness.interpreters.discover import Discovery, discover, select
from harness.model import BuildSpec, Case, Interpreter
from harness.reports import diff as diffs
from harness.reports import escape, files, history
from harness.reports import html as report_html
from harness.reports import markdown as report
from harness.run import manifest, rejudge, shard
from harness.run import merge as merging
from harness.run import records as results
from harness.run.manifest import CaseEntry, Host, RunManifest, ShardInfo, TargetEntry
from harness.run.pipeline import Settings, planned_cells, run_plan
from harness.run.plan import Plan, plan
from harness.run.progress import Progress
from harness.workflows import args as checks
from harness.workflows import check, nightly


def _paths(patterns: list[str]) -> list[str]:
    return [p for p in patterns if os.sep in p]


def _discover(args: argparse.Namespace) -> tuple[Discovery, Any]:
    matrix = load_matrix(args.matrix)
    return discover(matrix, args.cache_dir, _paths(args.python)), matrix


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


def surface_section(runners: tuple[Interpreter, ...], cache: Path) -> list[str]:
    """The run interpreters' ABI surface (cached per interpreter identity); a failure is said, not raised."""
    try:
        return surface.report_section(runners, cache)
    except Exception as exc:  # the matrix's verdicts must not be lost to a surface probe's bug
        return ["## Surface", "", f"Not measured: {type(exc).__name__}: {exc}"]


def say_selectors(check: SelectorCheck) -> None:
    """Known issues matching nothing here: a warning each; those only for absent interpreters: one note."""
    for warning in check.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if check.absent:
        print(f"note: {check.absent}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    checks.check_run(args)
    resumed = _resume(args) if args.resume else None
    if args.provision:
        load_cases(load_matrix(args.matrix).cases_dir)  # the configuration is checked before provisioning writes
        missing = provision.if_missing(provision_dir(), lambda line: print(line, file=sys.stderr, flush=True))
        if missing:
            print(f"provision: could not get {'; '.join(missing)}", file=sys.stderr)
    discovery, matrix = _discover(args)
    cases = load_cases(matrix.cases_dir)
    say_selectors(check_selectors(matrix, discovery.interpreters, cases))
    runners = select(discovery, args.python)
    the_plan = plan(cases, matrix.targets, discovery.interpreters, runners, args.case, args.target)
    shard_info = None
    if args.shard:
        spec = shard.ShardSpec.parse(args.shard)
        weights = shard.weights_from(results.load(args.weights)[0]) if args.weights else None
        digest = shard.plan_digest(the_plan)
        the_plan = shard.shard(the_plan, spec, weights)
        builds = tuple(b.id for b in the_plan.builds)
        shard_info = ShardInfo(index=spec.index, count=spec.count, plan_digest=digest, builds=builds)
    chosen = toolchains(parse_installers(args.installer) if args.installer else matrix.installers, args.cache_dir)
    toolchain = chosen[0]

    settings = Settings(
        chosen,
        args.cache_dir,
        args.jobs,
        args.timeout or matrix.timeout_s,
        matrix.build_timeout_s,
        matrix.known_issues,
        args.rebuild,
        args.rerun,
    )
    if resumed is not None:
        return _run_resumed(args.resume, resumed, the_plan, settings, verbose=args.verbose >= 1)
    run_id = results.new_run_id()
    results_dir: Path = args.results
    run_dir = results_dir / run_id
    writer = results.Writer(run_dir)
    results.point_latest(results_dir, run_dir)
    specs = [b for b in the_plan.builds if isinstance(b, BuildSpec)]
    builders = {b.python.id: b.python for b in specs if b.python not in runners}
    environment = RunManifest(
        schema_version=results.SCHEMA_VERSION,
        run_id=run_id,
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        argv=tuple(args.argv),
        harness_version=__version__,
        host=Host(python=sys.version.split()[0], platform=platform.platform(), cpus=os.cpu_count()),
        installer=", ".join(t.version() for t in chosen),
        matrix=str(matrix.path),
        cache_dir=str(args.cache_dir),
        interpreters=manifest.entries(runners),
        build_interpreters=tuple(sorted({b.python.id for b in specs})),
        # Facts of build interpreters that are not run columns: the judge reads them (--rejudge).
        build_interpreter_facts=manifest.entries(builders.values()),
        excluded=tuple((str(path), str(why)) for path, why in discovery.excluded),
        cases=tuple(case_entry(c) for c in cases),
        targets=tuple(TargetEntry.of(t) for t in matrix.targets),
        shard=shard_info or msgspec.UNSET,
    )
    manifest.write(run_dir, environment)
    print(
        f"run {run_id}: {len(the_plan.builds)} wheels x {len(runners)} interpreters "
        f"({', '.join(i.id for i in runners)}), {the_plan.total_cells} cells, {args.jobs} jobs, "
        f"{toolchain.version()}",
        file=sys.stderr,
    )
    return _finish(
        run_dir,
        run_id,
        writer,
        environment,
        lambda progress: run_plan(the_plan, settings, run_id, writer, progress),
        the_plan.total_cells,
        (lambda: surface_section(runners, args.cache_dir)) if args.surface else None,
        verbose=args.verbose >= 1,
    )


def cmd_check(args: argparse.Namespace) -> int:
    """The matrix's stages on given wheels: one case per distribution version, one row per wheel."""

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    wheels = check.wheel_specs(args, say)  # bad targets stop here, before any interpreter is probed
    discovery, matrix = _discover(args)
    runners = select(discovery, args.python)
    chosen = toolchains(parse_installers(args.installer) if args.installer else matrix.installers, args.cache_dir)
    timeouts = (args.timeout or matrix.timeout_s, matrix.build_timeout_s)
    ready = check.prepare(args, wheels, discovery, runners, chosen, timeouts)
    run_id = ready.environment.run_id
    run_dir = args.results / run_id
    writer = results.Writer(run_dir)
    results.point_latest(args.results, run_dir)
    manifest.write(run_dir, ready.environment)
    say(
        f"check {run_id}: {len(ready.plan.builds)} wheels x {len(ready.plan.run_pythons)} interpreters "
        f"({', '.join(i.id for i in ready.plan.run_pythons)}), {ready.plan.total_cells} cells, {chosen[0].version()}"
    )
    return _finish(
        run_dir,
        run_id,
        writer,
        ready.environment,
        lambda progress: run_plan(ready.plan, ready.settings, run_id, writer, progress),
        ready.plan.total_cells,
        verbose=args.verbose >= 1,
    )


# The flags that choose what a run covers: a resumed run must keep them (recorded in environment.json).
_SELECTION = ("matrix", "case", "target", "python", "installer", "timeout", "shard", "weights")


def _resume(args: argparse.Namespace) -> results.Loaded:
    """Read the run to continue, and take its selection flags from its recorded argv."""
    run_dir: Path = args.resume
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
    recorded = parser().parse_args(argv)
    defaults = parser().parse_args(["run"])
    for name in _SELECTION:
        given, then = getattr(args, name), getattr(recorded, name)
        if given != getattr(defaults, name) and given != then:
            flag = "--" + name
            raise ConfigError(
                f"--resume {run_dir}: {flag} {_shown(given)} differs from the run's {_shown(then)}; "
                f"a resumed run keeps its selection (drop {flag}, or start a new run)"
            )
        setattr(args, name, then)
    return loaded


def _shown(value: object) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _run_resumed(
    run_dir: Path, resumed: results.Loaded, the_plan: Plan, settings: Settings, verbose: bool = False
) -> int:
    """Run the cells without a complete record; keep the others as they are."""
    environment = resumed.environment
    run_id = environment.run_id or run_dir.name
    done = frozenset(r.cell for r in resumed.records)
    planned = planned_cells(the_plan)
    stray = sorted(done - planned)
    if stray:
        raise ConfigError(
            f"--resume {run_dir}: {len(stray)} recorded cells are not in today's plan (first: {stray[0]}); "
            "matrix.toml, the cases or the interpreters changed since; start a new run"
        )
    writer = results.Writer(run_dir, keep=resumed.records)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    environment = environment.with_changes(resumed=(*(environment.resumed or ()), now))
    print(
        f"resuming run {run_id}: {len(done)} of {len(planned)} cells kept, {len(planned - done)} to run",
        file=sys.stderr,
    )
    return _finish(
        run_dir,
        run_id,
        writer,
        environment,
        lambda p: run_plan(the_plan, settings, run_id, writer, p, done=done),
        len(planned - done),
        verbose=verbose,
    )


def _finish(
    run_dir: Path,
    run_id: str,
    writer: results.Writer,
    environment: RunManifest,
    work: Callable[[Progress], None],
    total: int,
    surface: Callable[[], list[str]] | None = None,
    verbose: bool = False,
) -> int:
    progress = Progress(total, verbose=verbose)
    interrupted = False
    try:
        work(progress)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
        writer.close()
        finished = datetime.now(UTC).isoformat(timespec="seconds")
        environment = environment.with_changes(finished=finished, interrupted=interrupted)
        try:
            manifest.write(run_dir, environment)
            if surface is not None and not interrupted:
                files.write(run_dir, report.SURFACE_FILE, "\n".join(surface()) + "\n")
            files.write(
                run_dir, "report.md", report.markdown(writer.records, environment, report.run_sections(run_dir))
            )
            files.write(run_dir, "report.html", report_html.html_report(writer.records, environment))
        except OSError as exc:
            if writer.failed is None:  # else the write error already being raised says it
                raise HarnessError(f"{run_dir}: cannot write the run's report: {exc.strerror}") from None
    print(report.terminal_summary(writer.records, environment, str(run_dir)))
    if interrupted:
        print(
            f"interrupted: {len(writer.records)} finished cells are kept in {run_dir}; continue with "
            f"`python -m harness run --resume {run_dir}`",
            file=sys.stderr,
        )
        return 130
    return 1 if report.problems(writer.records) else 0


def cmd_interpreters(args: argparse.Namespace) -> int:
    discovery, _ = _discover(args)
    chosen = select(discovery, args.python)
    if args.json:
        print(
            json.dumps(
                {"interpreters": [i.to_json() for i in chosen], "excluded": [list(e) for e in discovery.excluded]},
                indent=2,
            )
        )
        return 0
    rows = [("id", "version", "impl", "build", "debug", "provider", "path")]
    for i in chosen:
        rows.append(
            (
                i.id,
                i.version_str,
                i.implementation,
                "free-threaded" if i.free_threaded else "GIL",
                "yes" if i.debug else "no",
                i.provider.value,
                i.path,
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for row in rows:
        print(escape.text("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()))
    if not any(i.free_threaded for i in chosen):
        print("\nno free-threaded interpreter found: abi3t rows untested on free-threading")
    for where, why in discovery.excluded:
        print(escape.text(f"not used: {where}: {why}"))
    return 0


def cmd_surface(args: argparse.Namespace) -> int:
    discovery, _ = _discover(args)
    if args.diff:
        chosen = []
        for name in args.diff:
            hits = select(discovery, [name])
            if len(hits) != 1:
                found = ", ".join(i.id for i in hits)
                raise ConfigError(f"--diff {name!r} matched {len(hits)} interpreters ({found}); give one id")
            chosen.append(hits[0])
    else:
        chosen = list(select(discovery, args.python))
    surfaces = [surface.collect(i, args.cache_dir) for i in chosen]
    if args.diff:
        a, b = surfaces
        changes = surface.diff(a, b)
        if args.json:
            print(json.dumps({"a": a.id, "b": b.id, "changes": [c.to_json() for c in changes]}, indent=2))
        else:
            print(surface.diff_text(a, b, changes))
        return 0
    if args.json:
        milestones, notes = surface.milestones(surfaces, discovery.interpreters)
        payload = {
            "surfaces": [s.to_json() for s in surfaces],
            "milestones": [m.to_json() for m in milestones],
            "flavour_layouts": [f.to_json() for f in surface.flavour_layouts(surfaces)],
            "notes": list(notes),
        }
        print(json.dumps(payload, indent=1))
        return 0
    print(surface.text(surfaces, discovery.interpreters))
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    from harness.reports import gate as gate_report  # noqa: PLC0415  (only this command needs them)
    from harness.workflows import gate  # noqa: PLC0415

    if len(args.python) != 1:
        raise ConfigError("gate: give the new build once: --python ID or --python PATH (e.g. ~/cpython/python)")
    request = gate.Request(
        args.python[0],
        args.baseline,
        args.matrix,
        args.cache_dir,
        args.results,
        args.jobs,
        tuple(args.case),
        tuple(args.target),
        args.installer,
        args.timeout,
        tuple(args.argv),
        verbose=args.verbose >= 1,
        rerun=args.rerun,
    )
    result = gate.gate(request, lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps(result.to_json(), indent=2) if args.json else gate_report.text(result))
    return result.exit_code


def cmd_cases(args: argparse.Namespace) -> int:
    matrix = load_matrix(args.matrix)
    cases = load_cases(matrix.cases_dir)
    if args.json:
        print(json.dumps([msgspec.to_builtins(case_entry(c)) for c in cases], indent=2))
        return 0
    if args.markdown:
        print(report.case_table(cases))
        return 0
    for case in cases:
        kinds = ", ".join(k.value for k, _ in case.recipes)
        print(f"{case.id:<28} {kinds:<28} {case.description}")
    return 0


def cmd_sync_cases(args: argparse.Namespace) -> int:
    cases_dir = load_matrix(args.matrix).cases_dir
    if args.check:
        drifted = casegen.drift(cases_dir)
        for copy, what in drifted:
            print(f"{copy}: {what}")
        if drifted:
            print(f"{len(drifted)} case files differ from {casegen.SHARED_DIR}/: run `python -m harness sync-cases`")
            return 1
        print(f"every shared file is in sync ({casegen.manifest_path(cases_dir)})")
        return 0
    for copy in casegen.sync(cases_dir):
        print(f"updated {copy}")
    return 0


def cmd_new_case(args: argparse.Namespace) -> int:
    checks.check_new_case(args)
    cases_dir = load_matrix(args.matrix).cases_dir
    cases = load_cases(cases_dir)
    backend, _, binding = args.case.partition("/")
    if not binding:
        raise ConfigError(f"new-case: {args.case!r}: expected BACKEND/BINDING, e.g. setuptools/c-api-heaptype")
    source = casegen.pick_source(cases, backend, binding, args.source)
    into: Path = args.new_cases_dir or cases_dir
    dest = casegen.new_case(source, cases_dir, backend, binding, into)
    case = load_case(dest / "case.toml", into)  # the renamed project must be a valid case
    print(f"new case {case.id} from {source.id} in {dest} (import name {case.module})")
    print("now: edit its case.toml and sources, then `python -m harness cases --markdown` into README.md")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    checks.check_report(args)
    if args.rejudge:
        records, environment = results.load(args.run_dir)
        matrix = load_matrix(args.matrix)
        known = matrix.known_issues + check.known_issues(environment)  # a check run's corpus has its own
        records, changes = rejudge.rejudge(records, environment, matrix.targets, known)
        try:
            results.write_sorted(args.run_dir / results.RESULTS_FILE, records)
        except OSError as exc:  # a read-only run directory (a mounted artifact): results.jsonl stays as it was
            raise HarnessError(
                f"{args.run_dir}: cannot rewrite {results.RESULTS_FILE}: {exc.strerror or exc}"
            ) from None
        print(f"re-judged {len(records)} records with {matrix.path}: {len(changes)} changed status")
        for change in changes:
            print(escape.text(f"  {change.cell}: {change.old} -> {change.new}: {change.reason[:160]}"))
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    say = lambda line: print(line, file=sys.stderr)  # noqa: E731
    diff = nightly.write_reports(args.run_dir, formats, args.baseline, say, report.run_sections(args.run_dir))
    records, environment = results.load(args.run_dir)
    print(report.terminal_summary(records, environment, str(args.run_dir)))
    if diff is not None:
        print(escape.text(diffs.text(diff), newlines=True))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    if args.last < 1:
        raise ConfigError(f"--last {args.last}: at least 1")
    print(history.text(history.required(args.run_dir), args.last))
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    checks.check_diff(args)
    before, before_env = results.load(args.baseline)
    after, _ = results.load(args.new)
    change = diffs.diff(before, after)
    if args.json:
        print(json.dumps(change.to_json(), indent=2))
    else:
        print(escape.text(f"baseline {before_env.run_id or args.baseline} -> {args.new}"))
        print(escape.text(diffs.text(change), newlines=True))
    return 1 if change.regressions else 0


def cmd_merge(args: argparse.Namespace) -> int:
    checks.check_merge(args)
    records, environment = merging.merge(args.run_dirs, args.out)
    print(f"merged {len(environment.shards or ())} shard runs into {args.out}: {report.totals(records)}")
    return 0


def cmd_nightly(args: argparse.Namespace) -> int:
    checks.check_nightly(args)
    if args.merge:
        out = args.out or args.results / "nightly-merged"
        outcome = nightly.finish(args.merge, out, args.baseline)
    else:
        baseline = args.baseline
        outcome = nightly.rehearse(args.shards, args.results, baseline, args.run_args, main, preference=args.preference)
    return outcome.exit_code


def cmd_provision(args: argparse.Namespace) -> int:
    checks.check_provision(args)

    def say(line: str) -> None:
        print(line, flush=True)

    provision.provision(args.providers, args.into, args, say)
    say("now: python -m harness interpreters")
    return 0


def cmd_preference(args: argparse.Namespace) -> int:
    checks.check_preference(args)
    from harness.preference import judge as preference  # noqa: PLC0415  (only this command needs them)
    from harness.preference import run as preference_run  # noqa: PLC0415

    discovery, matrix = _discover(args)
    cases = {c.id: c for c in load_cases(matrix.cases_dir)}
    if args.case not in cases:
        raise ConfigError(f"--case {args.case}: no such case; choose from {', '.join(sorted(cases))}")
    pythons = select(discovery, args.python) if args.python else preference_run.default_pythons(discovery.interpreters)
    installers = parse_installers(args.installer)
    choices = [s.value for s in preference.Source]
    unknown = [s for s in args.source if s not in choices]
    if unknown:
        raise ConfigError(f"--source {', '.join(unknown)}: choose from {', '.join(choices)}")
    sources = tuple(s for s in preference.Source if s.value in args.source) or tuple(preference.Source)
    settings = preference_run.Settings(
        cases[args.case],
        matrix.targets,
        discovery.interpreters,
        pythons,
        installers,
        args.cache_dir,
        seed=args.seed,
        jobs=args.jobs,
        sources=sources,
        keep=args.keep_output,
    )
    result = preference_run.run(settings, lambda line: print(line, file=sys.stderr, flush=True))
    data = result.to_json()
    if args.output:
        results.write_json(args.output, data)
    print(json.dumps(data, indent=2) if args.json else "\n".join(preference.markdown(result)))
    return 0


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    """An argparse type: a number above zero (argparse then exits 2 naming the flag)."""

    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value

    convert.__name__ = kind.__name__  # argparse names the type in its messages
    return convert


def _writable_dir(flag: str, path: Path) -> None:
    """--results / --cache-dir: a directory we can write (or create), checked before any work starts; made
    only when the command writes into it."""
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("/"))
    if existing == path and not path.is_dir():
        raise ConfigError(f"{flag} {path}: is a file, not a directory; give a directory")
    if not existing.is_dir():
        raise ConfigError(f"{flag} {path}: cannot create it ({existing} is a file); give a directory you can write")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {path}: not writable; give a directory you can write")


def _check_parser(chk: argparse.ArgumentParser, common: Callable[[argparse.ArgumentParser], None]) -> None:
    common(chk)
    chk.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="a wheel file, a directory of wheels (a cibuildwheel wheelhouse), or NAME / NAME==VERSION from the index",
    )
    chk.add_argument("--corpus", type=Path, default=None, help="also check the [[package]] list of this corpus.toml")
    chk.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="NAME",
        help="import these instead of every top-level package and extension module the RECORD lists",
    )
    chk.add_argument("--test", default=None, metavar="CMD", help="a smoke command run in each installed environment")
    chk.add_argument("--index-url", default=None, help="default: $PIP_INDEX_URL, $UV_INDEX_URL, else PyPI")
    chk.add_argument("--installer", default=None, metavar="uv|pip|pip,uv", help="default: matrix.toml's")
    chk.add_argument("--jobs", "-j", type=_positive(int), default=os.cpu_count() or 2)
    chk.add_argument("--results", type=Path, default=Path("results"), help="default: %(default)s")
    chk.add_argument("--timeout", type=_positive(float), default=None, help="seconds per import (default: matrix.toml)")
    chk.add_argument("--shard", default=None, metavar="K/N", help="check shard K of N (each wheel in one shard)")
    chk.add_argument("--rerun", action="store_true", help="execute every cell (no reuse of recorded observations)")
    chk.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="as before the subcommand")
    chk.set_defaults(func=cmd_check)


def add_gate_parser(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    gat = sub.add_parser("gate", help="does a new interpreter build keep every promise of the release before it?")
    common(gat)
    gat.add_argument(
        "--baseline",
        default=None,
        metavar="ID|PATH",
        help="default: the newest other build of the same minor, else the newest of the previous minor",
    )
    gat.add_argument("--case", action="append", default=[], metavar="GLOB", help="only these cases")
    gat.add_argument("--target", action="append", default=[], metavar="NAME", help="only these [targets]")
    gat.add_argument("--jobs", "-j", type=_positive(int), default=os.cpu_count() or 2)
    gat.add_argument("--installer", default=None, metavar="uv|pip|pip,uv", help="default: matrix.toml's")
    gat.add_argument("--timeout", type=_positive(float), default=None, help="seconds per import/call")
    gat.add_argument("--results", type=Path, default=Path("results"), help="default: %(default)s")
    gat.add_argument("--json", action="store_true", help="print the verdict as JSON")
    gat.add_argument(
        "--rerun", action="store_true", help="execute every cell (a rebuilt interpreter does anyway: its bytes changed)"
    )
    gat.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="as before the subcommand")
    gat.set_defaults(func=cmd_gate)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    top.add_argument("--version", action="version", version=__version__)
    top.add_argument(
        "-v", "--verbose", action="count", default=0, help="-v: every cell's line; -vv: also every command run"
    )
    sub = top.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--matrix", type=checks.path, default=Path("matrix.toml"), help="matrix file (default: %(default)s)"
        )
        p.add_argument(
            "--cache-dir", type=checks.path, default=None, help="default: $ABI_HARNESS_CACHE or ~/.cache/abi-harness"
        )
        p.add_argument(
            "--python",
            action="append",
            default=[],
            metavar="ID|PATH",
            help="run on these interpreters only: an id or glob (cp312, cp31*) or an executable path",
        )

    run = sub.add_parser("run", help="build the wheels and run every cell")
    common(run)
    run.add_argument("--case", action="append", default=[], metavar="GLOB", help="e.g. 'setuptools/*'")
    run.add_argument("--target", action="append", default=[], metavar="NAME", help="a [targets] name")
    run.add_argument("--jobs", "-j", type=_positive(int), default=os.cpu_count() or 2)
    run.add_argument(
        "--installer",
        default=None,
        metavar="uv|pip|pip,uv",
        help="default: uv when available, else pip; several: each resolves and installs, the first builds",
    )
    run.add_argument("--results", type=checks.path, default=Path("results"), help="default: %(default)s")
    run.add_argument(
        "--timeout", type=_positive(float), default=None, help="seconds per import/call (default: matrix.toml)"
    )
    run.add_argument("--rebuild", action="store_true", help="ignore cached wheels")
    run.add_argument("--shard", default=None, metavar="K/N", help="run shard K of N (each wheel in one shard)")
    run.add_argument(
        "--weights", type=checks.path, default=None, metavar="RUN_DIR", help="balance shards by its durations"
    )
    run.add_argument(
        "--provision",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="first provision missing interpreters where possible (nox -s matrix does; --no-provision skips it)",
    )
    run.add_argument(
        "--no-surface",
        dest="surface",
        action="store_false",
        help="skip the report's Surface section (each interpreter's ABI surface, cached per interpreter)",
    )
    run.add_argument(
        "--rerun",
        action="store_true",
        help="execute every cell; by default a cell whose wheel, interpreter, installers and execution code "
        "are unchanged reuses its recorded observations (judged again with today's matrix.toml)",
    )
    run.add_argument(
        "--resume",
        type=checks.path,
        default=None,
        metavar="RUN_DIR",
        help="continue an interrupted run: keep its complete records, run the other cells",
    )
    run.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="as before the subcommand")
    run.set_defaults(func=cmd_run)

    _check_parser(
        sub.add_parser("check", help="the matrix's stages on your own wheels: files, a wheelhouse, a release"), common
    )

    interps = sub.add_parser("interpreters", help="list discovered interpreters")
    common(interps)
    interps.add_argument("--json", action="store_true")
    interps.set_defaults(func=cmd_interpreters)

    surf = sub.add_parser("surface", help="stable-ABI symbols, layouts and constants of each interpreter build")
    common(surf)
    surf.add_argument("--json", action="store_true")
    surf.add_argument("--diff", nargs=2, metavar=("A", "B"), help="what differs from interpreter A to B")
    surf.set_defaults(func=cmd_surface)

    add_gate_parser(sub, common)

    cases = sub.add_parser("cases", help="list the extension cases")
    cases.add_argument("--matrix", type=checks.path, default=Path("matrix.toml"))
    cases.add_argument("--json", action="store_true")
    cases.add_argument("--markdown", action="store_true", help="the README's case table")
    cases.set_defaults(func=cmd_cases)

    prov = sub.add_parser("provision", help="install interpreters into the cache: a Debian rootfs, uv builds")
    prov.add_argument(
        "--into",
        type=checks.path,
        default=None,
        help="default: $ABI_HARNESS_PROVISION_DIR or the cache dir (~/.cache/abi-harness)",
    )
    provision.add_arguments(prov)
    prov.set_defaults(func=cmd_provision)

    sync_cases = sub.add_parser("sync-cases", help="render the shared files (extensions/_shared) into the cases")
    sync_cases.add_argument("--matrix", type=checks.path, default=Path("matrix.toml"))
    sync_cases.add_argument("--check", action="store_true", help="change nothing; exit 1 if a copy differs")
    sync_cases.set_defaults(func=cmd_sync_cases)

    new = sub.add_parser("new-case", help="write a new case directory, renamed from an existing case")
    new.add_argument("case", metavar="BACKEND/BINDING")
    new.add_argument("--matrix", type=checks.path, default=Path("matrix.toml"))
    new.add_argument(
        "--from", dest="source", metavar="CASE", help="case to start from (default: the closest of the same backend)"
    )
    new.add_argument(
        "--cases-dir",
        dest="new_cases_dir",
        metavar="DIR",
        type=checks.path,
        default=None,
        help="write there (default: matrix.toml's)",
    )
    new.set_defaults(func=cmd_new_case)

    pref = sub.add_parser("preference", help="which wheel pip and uv pick when several fit, in three listing orders")
    common(pref)
    pref.add_argument(
        "--case", default="sysconfig/c-api", help="the case whose wheels are offered (default: %(default)s)"
    )
    pref.add_argument("--installer", default="pip,uv", metavar="pip,uv", help="default: %(default)s")
    pref.add_argument(
        "--source", action="append", default=[], help="index, find-links-page, find-links-dir (default: all three)"
    )
    pref.add_argument("--seed", type=int, default=803, help="the shuffled order's seed (default: %(default)s)")
    pref.add_argument("--jobs", "-j", type=int, default=2)
    pref.add_argument("--json", action="store_true", help="print the result as JSON instead of the Markdown table")
    pref.add_argument("--output", type=checks.path, default=None, help="also write the JSON result here")
    pref.add_argument(
        "--keep-output", type=checks.path, default=None, help="save each installer's raw output in this dir"
    )
    pref.set_defaults(func=cmd_preference)

    rep = sub.add_parser("report", help="rebuild the reports of a run directory")
    rep.add_argument("run_dir", type=checks.path)
    rep.add_argument("--format", default="md,html", help="comma-separated: md, html, junit, summary (%(default)s)")
    rep.add_argument("--baseline", type=checks.path, default=None, metavar="RUN", help="add the diff against this run")
    rep.add_argument(
        "--rejudge",
        action="store_true",
        help="derive every verdict again from the recorded observations with the current matrix.toml "
        "(rewrites results.jsonl; starts no interpreter) and list the cells whose status changed",
    )
    rep.add_argument(
        "--matrix", type=checks.path, default=Path("matrix.toml"), help="for --rejudge (default: %(default)s)"
    )
    rep.set_defaults(func=cmd_report)

    his = sub.add_parser("history", help="the nightly's history carried in a merged run (history.json)")
    his.add_argument("run_dir", type=Path)
    his.add_argument("--last", type=int, default=history.SHOWN, help="nights listed (%(default)s)")
    his.set_defaults(func=cmd_history)

    dif = sub.add_parser("diff", help="what changed between two runs (exit 1 on a regression)")
    dif.add_argument("baseline", type=checks.path, metavar="BASELINE_RUN")
    dif.add_argument("new", type=checks.path, metavar="NEW_RUN")
    dif.add_argument("--json", action="store_true")
    dif.set_defaults(func=cmd_diff)

    mer = sub.add_parser("merge", help="one run directory from the shard runs of `run --shard K/N`")
    mer.add_argument("run_dirs", type=checks.path, nargs="+", metavar="RUN_DIR")
    mer.add_argument("--out", type=checks.path, required=True)
    mer.set_defaults(func=cmd_merge)

    nig = sub.add_parser("nightly", help="the nightly workflow: shard runs (or --merge given ones), diff, reports")
    nig.add_argument("--shards", type=int, default=3, help="rehearsal: run this many shards here (%(default)s)")
    nig.add_argument(
        "--merge", type=checks.path, nargs="+", default=None, metavar="RUN_DIR", help="merge these instead"
    )
    nig.add_argument("--out", type=checks.path, default=None, help="merged run directory (with --merge)")
    nig.add_argument("--baseline", type=checks.path, default=None, help="default: results/nightly-latest, if any")
    nig.add_argument("--results", type=checks.path, default=Path("results"), help="default: %(default)s")
    nig.add_argument(
        "--preference",
        action="store_true",
        help="rehearsal: also run the installer preference experiment into shard 1 (as the workflow's shard 1 does)",
    )
    nig.add_argument("run_args", nargs="*", help="after --: arguments for each shard's `run`")
    nig.set_defaults(func=cmd_nightly)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose >= 2 else logging.WARNING, format="%(message)s")
    if getattr(args, "cache_dir", "unset") is None:
        args.cache_dir = cache_dir()
    if getattr(args, "into", "unset") is None:
        args.into = provision_dir()
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    try:
        if getattr(args, "cache_dir", None) is not None:
            _writable_dir("--cache-dir", args.cache_dir)
        if getattr(args, "results", None) is not None and not getattr(args, "resume", None):
            _writable_dir("--results", args.results)
        result: int = args.func(args)
        return result
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except UnsafePath as exc:  # a path from data leaving its root that no caller named more precisely
        print(f"error: {exc}; nothing was written there", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before or after the cells (a run's cells handle it themselves)
        print("interrupted", file=sys.stderr)
        return 130


def cli() -> None:
    """The command's entry point: `... | head` ends quietly. Not in main(), which tests call in-process."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())


if __name__ == "__main__":
    cli()
