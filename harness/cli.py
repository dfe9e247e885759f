"""The command line's parser: every subcommand with its flags and their help texts (`python -m harness -h`),
and the parsed arguments as the use cases' requests. __main__ dispatches the parsed subcommand
(args.command) to its function.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeAlias

from harness import __version__
from harness.errors import ConfigError
from harness.infra.paths import cache_dir
from harness.interpreters import provision
from harness.reports import history
from harness.workflows import args as checks
from harness.workflows.preference import PreferenceRequest
from harness.workflows.run import RunRequest

# `python -m harness -h`'s description
DESCRIPTION = """Command line: run, interpreters, cases, report. HarnessError becomes an exit code, never a traceback.

Each subcommand is one small function calling its use case (workflows/ or the step's package).
"""


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


def add_check_parser(sub: Subparsers) -> None:
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


# argparse's own name for what add_subparsers returns
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_gate_parser(sub: Subparsers) -> None:
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


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m harness", description=DESCRIPTION)
    top.add_argument("--version", action="version", version=__version__)
    top.add_argument(
        "-v", "--verbose", action="count", default=0, help="-v: every cell's line; -vv: also every command run"
    )
    sub = top.add_subparsers(dest="command", required=True)
    adders = (add_run_parser, add_check_parser, add_listing_parsers, add_gate_parser, add_case_parsers)
    for add in (*adders, add_report_parsers, add_nightly_parser):
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


def add_run_parser(sub: Subparsers) -> None:
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
        "--no-fork",
        dest="fork",
        action="store_false",
        help="start every load as a new interpreter process instead of forking it from one that waits "
        "(the same observations, slower: for comparing, and `nox -s benchmark` measures both)",
    )
    run.add_argument(
        "--resume",
        type=checks.path,
        default=None,
        metavar="RUN_DIR",
        help="continue an interrupted run: keep its complete records, run the other cells",
    )
    run.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="as before the subcommand")


def add_listing_parsers(sub: Subparsers) -> None:
    """`interpreters` and `surface`: what the interpreters are."""
    interps = sub.add_parser("interpreters", help="list discovered interpreters")
    _common(interps)
    interps.add_argument("--json", action="store_true")

    surf = sub.add_parser("surface", help="stable-ABI symbols, layouts and constants of each interpreter build")
    _common(surf)
    surf.add_argument("--json", action="store_true")
    surf.add_argument("--diff", nargs=2, metavar=("A", "B"), help="what differs from interpreter A to B")


def add_case_parsers(sub: Subparsers) -> None:
    """`cases`, `provision`, `sync-cases`, `new-case`: the inputs of a run."""
    cases = sub.add_parser("cases", help="list the extension cases")
    cases.add_argument("--matrix", type=checks.path, default=Path("matrix.toml"))
    cases.add_argument("--json", action="store_true")
    cases.add_argument("--markdown", action="store_true", help="the README's case table")

    prov = sub.add_parser("provision", help="install interpreters into the cache: a Debian rootfs, uv builds")
    prov.add_argument(
        "--into",
        type=checks.path,
        default=None,
        help="default: $ABI_HARNESS_PROVISION_DIR or the cache dir (~/.cache/abi-harness)",
    )
    provision.add_arguments(prov)

    sync_cases = sub.add_parser("sync-cases", help="render the shared files (extensions/_shared) into the cases")
    sync_cases.add_argument("--matrix", type=checks.path, default=Path("matrix.toml"))
    sync_cases.add_argument("--check", action="store_true", help="change nothing; exit 1 if a copy differs")

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


def add_report_parsers(sub: Subparsers) -> None:
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

    his = sub.add_parser("history", help="the nightly's history carried in a merged run (history.json)")
    his.add_argument("run_dir", type=checks.path, metavar="RUN_DIR")
    his.add_argument("--last", type=int, default=history.SHOWN, help="nights listed (%(default)s)")

    dif = sub.add_parser("diff", help="what changed between two runs (exit 1 on a regression)")
    dif.add_argument("baseline", type=checks.path, metavar="BASELINE_RUN")
    dif.add_argument("new", type=checks.path, metavar="NEW_RUN")
    dif.add_argument("--json", action="store_true")

    mer = sub.add_parser("merge", help="one run directory from the shard runs of `run --shard K/N`")
    mer.add_argument("run_dirs", type=checks.path, nargs="+", metavar="RUN_DIR")
    mer.add_argument("--out", type=checks.path, required=True)


def add_nightly_parser(sub: Subparsers) -> None:
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
        fork=args.fork,
        resume=args.resume,
        verbose=args.verbose,
        argv=tuple(getattr(args, "argv", ())),
    )


def parse_run(argv: Sequence[str]) -> RunRequest:
    """A recorded `run` command line (environment.json's argv) as a request."""
    return run_request(parser().parse_args(list(argv)))


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
