"""Command line: run, interpreters, cases, report. HarnessError becomes an exit code, never a traceback.

Each subcommand is one small function calling its use case (workflows/ or the step's package); the
parser, with every flag and its help text, is in cli.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from harness import surface
from harness.build.installers import parse_installers, toolchains
from harness.cli import parse_run, parser, preference_request, run_request, writable_dir
from harness.config import casegen
from harness.config.matrix import load_case, load_cases, load_matrix
from harness.errors import ConfigError, HarnessError
from harness.infra import escape
from harness.infra.paths import UnsafePath, cache_dir, provision_dir
from harness.interpreters import providers, provision
from harness.interpreters.discover import Discovery, discover, select
from harness.reports import diff as diffs
from harness.reports import history
from harness.reports import markdown as report
from harness.reports import write as report_files
from harness.run import merge as merging
from harness.run import records as results
from harness.run import rejudge
from harness.workflows import args as checks
from harness.workflows import check, nightly
from harness.workflows import preference as preference_workflow
from harness.workflows import run as workflow
from harness.workflows.run import RunRequest, RunState, case_entry


def _paths(patterns: list[str]) -> list[str]:
    return [p for p in patterns if os.sep in p]


def _discover(args: argparse.Namespace) -> tuple[Discovery, Any]:
    matrix = load_matrix(args.matrix, providers.names())
    return discover(matrix, args.cache_dir, _paths(args.python)), matrix


def cmd_run(args: argparse.Namespace) -> int:
    checks.check_run(args)
    return workflow.run(run_request(args), parse_run)


def cmd_check(args: argparse.Namespace) -> int:
    """The matrix's stages on given wheels: one case per distribution version, one row per wheel."""

    def say(line: str) -> None:
        print(escape.text(line), file=sys.stderr, flush=True)  # names a release and an index from the user

    checks.check_check(args)
    wheels = check.wheel_specs(args, say)  # bad targets stop here, before any interpreter is probed
    discovery, matrix = _discover(args)
    runners = select(discovery, args.python)
    chosen = toolchains(parse_installers(args.installer) if args.installer else matrix.installers, args.cache_dir)
    timeouts = (args.timeout or matrix.timeout_s, matrix.build_timeout_s)
    ready = check.prepare(args, wheels, discovery, runners, chosen, timeouts)
    request = RunRequest(
        matrix=args.matrix,
        cache_dir=args.cache_dir,
        results=args.results,
        jobs=args.jobs,
        surface=False,
        verbose=args.verbose,
        argv=tuple(args.argv),
    )
    state = RunState(request, parse_run, plan=ready.plan, settings=ready.settings, environment=ready.environment)
    workflow.open_prepared(state)
    say(
        f"check {state.run_id}: {len(ready.plan.builds)} wheels x {len(ready.plan.run_pythons)} interpreters "
        f"({', '.join(i.id for i in ready.plan.run_pythons)}), {ready.plan.total_cells} cells, {chosen[0].version()}"
    )
    return workflow.execute_steps(workflow.FINISH, state)


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

    checks.check_gate(args)
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
    result = gate.gate(request, lambda line: print(escape.text(line), file=sys.stderr, flush=True))
    print(json.dumps(result.to_json(), indent=2) if args.json else gate_report.text(result))
    return result.exit_code


def cmd_cases(args: argparse.Namespace) -> int:
    matrix = load_matrix(args.matrix, providers.names())
    cases = load_cases(matrix.cases_dir, providers.names())
    if args.json:
        print(json.dumps([msgspec.to_builtins(case_entry(c)) for c in cases], indent=2))
        return 0
    if args.markdown:
        print(report.case_table(cases))
        return 0
    for case in cases:
        kinds = ", ".join(k.value for k, _ in case.recipes)
        print(escape.text(f"{case.id:<28} {kinds:<28} {case.description}"))  # case.toml's text
    return 0


def cmd_sync_cases(args: argparse.Namespace) -> int:
    cases_dir = load_matrix(args.matrix, providers.names()).cases_dir
    if args.check:
        drifted = casegen.drift(cases_dir)
        for copy, what in drifted:
            print(escape.text(f"{copy}: {what}", newlines=True))  # a diff of case files: their text as it is
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
    cases_dir = load_matrix(args.matrix, providers.names()).cases_dir
    cases = load_cases(cases_dir, providers.names())
    backend, _, binding = args.case.partition("/")
    if not binding:
        raise ConfigError(f"new-case: {args.case!r}: expected BACKEND/BINDING, e.g. setuptools/c-api-heaptype")
    source = casegen.pick_source(cases, backend, binding, args.source)
    into: Path = args.new_cases_dir or cases_dir
    dest = casegen.new_case(
        source, cases_dir, backend, binding, into, lambda toml, root: load_case(toml, root, providers.names())
    )
    case = load_case(dest / "case.toml", into, providers.names())
    print(f"new case {case.id} from {source.id} in {dest} (import name {case.module})")
    print("now: edit its case.toml and sources, then `python -m harness cases --markdown` into README.md")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    checks.check_report(args)
    if args.rejudge:
        records, environment = results.load(args.run_dir)
        matrix = load_matrix(args.matrix, providers.names())
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
    diff = report_files.rewrite(args.run_dir, formats, args.baseline, say, report.run_sections(args.run_dir))
    records, environment = results.load(args.run_dir)
    print(report.terminal_summary(records, environment, str(args.run_dir)))
    if diff is not None:
        print(escape.text(diffs.text(diff), newlines=True))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    checks.check_history(args)
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
        return nightly.finish(args.merge, out, args.baseline).exit_code

    def run_shard(spec: str, results_dir: Path) -> int:
        # Each shard as `nox -s matrix -- --shard K/N` runs it: its own command line, checked and recorded.
        return command(["run", "--shard", spec, "--results", str(results_dir), *args.run_args])

    def preference(output: Path) -> int:
        return command(["preference", "--output", str(output)])

    chosen = preference if args.preference else None
    return nightly.rehearse(args.shards, args.results, args.baseline, run_shard, chosen).exit_code


def cmd_provision(args: argparse.Namespace) -> int:
    checks.check_provision(args)

    def say(line: str) -> None:
        print(escape.text(line), flush=True)  # quotes uv's and debootstrap's output

    provision.provision(args.providers, args.into, args, say)
    say("now: python -m harness interpreters")
    return 0


def cmd_preference(args: argparse.Namespace) -> int:
    checks.check_preference(args)
    return preference_workflow.run(preference_request(args))


# Each subcommand's function, by the name cli.parser() gives it (args.command).
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": cmd_check,
    "gate": cmd_gate,
    "run": cmd_run,
    "interpreters": cmd_interpreters,
    "surface": cmd_surface,
    "cases": cmd_cases,
    "provision": cmd_provision,
    "sync-cases": cmd_sync_cases,
    "new-case": cmd_new_case,
    "preference": cmd_preference,
    "report": cmd_report,
    "history": cmd_history,
    "diff": cmd_diff,
    "merge": cmd_merge,
    "nightly": cmd_nightly,
}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose >= 2 else logging.WARNING, format="%(message)s")
    return run_command(args, list(argv) if argv is not None else sys.argv[1:])


def command(argv: list[str]) -> int:
    """One subcommand from a command line the harness makes (the nightly rehearsal's shard runs)."""
    return run_command(parser().parse_args(argv), argv)


def run_command(args: argparse.Namespace, argv: list[str]) -> int:
    """The parsed subcommand with its defaults filled in, its exit code (never a traceback)."""
    if getattr(args, "cache_dir", "unset") is None:
        args.cache_dir = cache_dir()
    if getattr(args, "into", "unset") is None:
        args.into = provision_dir()
    args.argv = argv  # recorded in environment.json (run), for --resume
    return guarded(lambda: _checked(args))


def _checked(args: argparse.Namespace) -> int:
    """The subcommand, once the directories it writes are known to be writable."""
    if getattr(args, "cache_dir", None) is not None:
        writable_dir("--cache-dir", args.cache_dir)
    if getattr(args, "results", None) is not None and not getattr(args, "resume", None):
        writable_dir("--results", args.results)
    return COMMANDS[args.command](args)


def guarded(command: Callable[[], int]) -> int:
    """A command's exit code: a HarnessError becomes its message and exit code, never a traceback."""
    try:
        return command()
    except HarnessError as exc:
        # messages quote values from files and tools: their lines kept, control sequences shown as escapes
        print(escape.text(f"error: {exc}", newlines=True), file=sys.stderr)
        return exc.exit_code
    except UnsafePath as exc:  # a path from data leaving its root that no caller named more precisely
        print(escape.text(f"error: {exc}; nothing was written there", newlines=True), file=sys.stderr)
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
