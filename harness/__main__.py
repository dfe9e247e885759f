"""Command line: run, interpreters, cases, report. HarnessError becomes an exit code, never a traceback.

Each subcommand is one small function calling its use case (workflows/ or the step's package).
Long because the parser spells out every flag with its help text.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import msgspec

from harness import __version__, surface
from harness.build.installers import parse_installers, toolchains
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
from harness.workflows.preference import PreferenceRequest
from harness.workflows.run import RunRequest, RunState, case_entry


def _paths(patterns: list[str]) -> list[str]:
    return [p for p in patterns if os.sep in p]


def _discover(args: argparse.Namespace) -> tuple[Discovery, Any]:
    matrix = load_matrix(args.matrix, providers.names())
    return discover(matrix, args.cache_dir, _paths(args.python)), matrix


def run_request(args: argparse.Namespace) -> RunRequest:
    return RunRequest(
        matrix=args.matrix,
        cache_dir=args.cache_dir or cache_dir(),
        results=args.results,
        jobs=args.jobs,
        python=tuple(args.python),
        case=tuple(args.case),
        target=tuple(args.target),
        installer=args.installer,
        timeout=args.timeout,
        rebuild=args.rebuild,
        shard=args.shard,
        weights=args.weights,
        provision=args.provision,
        surface=args.surface,
        rerun=args.rerun,
        resume=args.resume,
        verbose=args.verbose,
        argv=tuple(getattr(args, "argv", ())),
    )


def parse_run(argv: Sequence[str]) -> RunRequest:
    """A recorded `run` command line (environment.json's argv) as a request."""
    return run_request(parser().parse_args(list(argv)))


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


def preference_request(args: argparse.Namespace) -> PreferenceRequest:
    return PreferenceRequest(
        matrix=args.matrix,
        cache_dir=args.cache_dir or cache_dir(),
        case=args.case,
        installer=args.installer,
        seed=args.seed,
        jobs=args.jobs,
        python=tuple(args.python),
        source=tuple(args.source),
        json=args.json,
        output=args.output,
        keep_output=args.keep_output,
    )


def cmd_preference(args: argparse.Namespace) -> int:
    checks.check_preference(args)
    return preference_workflow.run(preference_request(args))


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


def writable_dir(flag: str, path: Path) -> None:
    """--results / --cache-dir: a directory we can write (or create), checked before any work starts; made
    only when the command writes into it."""
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("/"))
    if existing == path and not path.is_dir():
        raise ConfigError(f"{flag} {path}: is a file, not a directory; give a directory")
    if not existing.is_dir():
        raise ConfigError(f"{flag} {path}: cannot create it ({existing} is a file); give a directory you can write")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {path}: not writable; give a directory you can write")


def _add_check(sub: Subparsers) -> None:
    """`check`: the matrix's stages on your own wheels: files, a wheelhouse, a release."""
    chk = sub.add_parser("check", help="the matrix's stages on your own wheels: files, a wheelhouse, a release")
    _common(chk)
    chk.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="a wheel file, a directory of wheels (a cibuildwheel wheelhouse), or NAME / NAME==VERSION from the index",
    )
    chk.add_argument(
        "--corpus", type=checks.path, default=None, help="also check the [[package]] list of this corpus.toml"
    )
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
    chk.add_argument("--results", type=checks.path, default=Path("results"), help="default: %(default)s")
    chk.add_argument("--timeout", type=_positive(float), default=None, help="seconds per import (default: matrix.toml)")
    chk.add_argument("--shard", default=None, metavar="K/N", help="check shard K of N (each wheel in one shard)")
    chk.add_argument("--rerun", action="store_true", help="execute every cell (no reuse of recorded observations)")
    chk.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="as before the subcommand")
    chk.set_defaults(func=cmd_check)


# argparse's own name for what add_subparsers returns
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _add_gate(sub: Subparsers) -> None:
    """`gate`: does a new interpreter build keep every promise of the release before it?"""
    gat = sub.add_parser("gate", help="does a new interpreter build keep every promise of the release before it?")
    _common(gat)
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
    gat.add_argument("--results", type=checks.path, default=Path("results"), help="default: %(default)s")
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
    for add in (_add_run, _add_check, _add_listings, _add_gate, _add_cases, _add_reports, _add_nightly):
        add(sub)
    return top


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--matrix", type=checks.path, default=Path("matrix.toml"), help="matrix file (default: %(default)s)")
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


def _add_run(sub: Subparsers) -> None:
    """`run`: build the wheels and run every cell."""
    run = sub.add_parser("run", help="build the wheels and run every cell")
    _common(run)
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


def _add_listings(sub: Subparsers) -> None:
    """`interpreters` and `surface`: what the interpreters are."""
    interps = sub.add_parser("interpreters", help="list discovered interpreters")
    _common(interps)
    interps.add_argument("--json", action="store_true")
    interps.set_defaults(func=cmd_interpreters)

    surf = sub.add_parser("surface", help="stable-ABI symbols, layouts and constants of each interpreter build")
    _common(surf)
    surf.add_argument("--json", action="store_true")
    surf.add_argument("--diff", nargs=2, metavar=("A", "B"), help="what differs from interpreter A to B")
    surf.set_defaults(func=cmd_surface)


def _add_cases(sub: Subparsers) -> None:
    """`cases`, `provision`, `sync-cases`, `new-case`: the inputs of a run."""
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


def _add_reports(sub: Subparsers) -> None:
    """`preference`, `report`, `diff`, `merge`: experiments and what runs produced."""
    pref = sub.add_parser("preference", help="which wheel pip and uv pick when several fit, in three listing orders")
    _common(pref)
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
    his.add_argument("run_dir", type=checks.path, metavar="RUN_DIR")
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


def _add_nightly(sub: Subparsers) -> None:
    """`nightly`: the nightly workflow."""
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
    result: int = args.func(args)
    return result


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
