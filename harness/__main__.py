"""Command line: run, interpreters, cases, report. HarnessError becomes an exit code, never a traceback."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__, nightly, provision, report, report_html, results, shard
from . import diff as diffs
from . import merge as merging
from .config import load_cases, load_matrix
from .errors import HarnessError
from .installers import Toolchain
from .interpreters import Discovery, discover, select
from .model import Case
from .paths import cache_dir, provision_dir
from .pipeline import Progress, Settings, run_plan
from .plan import plan


def _paths(patterns: list[str]) -> list[str]:
    return [p for p in patterns if os.sep in p]


def _discover(args: argparse.Namespace) -> tuple[Discovery, Any]:
    matrix = load_matrix(args.matrix)
    return discover(matrix, args.cache_dir, _paths(args.python)), matrix


def case_json(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "backend": case.backend,
        "binding": case.binding,
        "dist_name": case.dist_name,
        "module": case.module,
        "description": case.description,
        "notes": case.notes,
        "targets": [k.value for k, _ in case.recipes],
        "unsupported": {k.value: why for k, why in case.unsupported},
    }


def cmd_run(args: argparse.Namespace) -> int:
    if args.provision:
        missing = provision.if_missing(provision_dir(), lambda line: print(line, file=sys.stderr, flush=True))
        if missing:
            print(f"provision: could not get {'; '.join(missing)}", file=sys.stderr)
    discovery, matrix = _discover(args)
    cases = load_cases(matrix.cases_dir)
    runners = select(discovery, args.python)
    the_plan = plan(cases, matrix.targets, discovery.interpreters, runners, args.case, args.target)
    shard_info = None
    if args.shard:
        spec = shard.ShardSpec.parse(args.shard)
        weights = shard.weights_from(results.load(args.weights)[0]) if args.weights else None
        shard_info = {"index": spec.index, "count": spec.count, "plan_digest": shard.plan_digest(the_plan)}
        the_plan = shard.shard(the_plan, spec, weights)
        shard_info["builds"] = [b.id for b in the_plan.builds]
    toolchains = Toolchain.parse(args.installer or ",".join(matrix.installers), args.cache_dir)
    toolchain = toolchains[0]

    run_id = results.new_run_id()
    results_dir: Path = args.results
    run_dir = results_dir / run_id
    writer = results.Writer(run_dir)
    results.point_latest(results_dir, run_dir)
    environment: dict[str, Any] = {
        "schema_version": results.SCHEMA_VERSION,
        "run_id": run_id,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "harness_version": __version__,
        "host": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()},
        "installer": ", ".join(t.version() for t in toolchains),
        "matrix": str(matrix.path),
        "cache_dir": str(args.cache_dir),
        "interpreters": [i.to_json() for i in runners],
        "build_interpreters": sorted({b.python.id for b in the_plan.builds}),
        "excluded": [list(e) for e in discovery.excluded],
        "cases": [case_json(c) for c in cases],
        "targets": [
            {"name": t.name, "kind": t.kind.value, "py_api": t.py_api, "build_on": list(t.build_on)}
            for t in matrix.targets
        ],
    }
    if shard_info:
        environment["shard"] = shard_info
    results.write_json(run_dir / results.ENVIRONMENT_FILE, environment)
    print(
        f"run {run_id}: {len(the_plan.builds)} wheels x {len(runners)} interpreters "
        f"({', '.join(i.id for i in runners)}), {the_plan.total_cells} cells, {args.jobs} jobs, "
        f"{toolchain.version()}",
        file=sys.stderr,
    )
    settings = Settings(
        toolchains,
        args.cache_dir,
        args.jobs,
        args.timeout or matrix.timeout_s,
        matrix.build_timeout_s,
        matrix.known_issues,
        args.rebuild,
    )
    progress = Progress(the_plan.total_cells)
    interrupted = False
    try:
        run_plan(the_plan, settings, run_id, writer, progress)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        writer.close()
        environment["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        environment["interrupted"] = interrupted
        results.write_json(run_dir / results.ENVIRONMENT_FILE, environment)
        (run_dir / "report.md").write_text(report.markdown(writer.records, environment))
        (run_dir / "report.html").write_text(report_html.html_report(writer.records, environment))
    print(report.terminal_summary(writer.records, environment, str(run_dir)))
    if interrupted:
        print(f"interrupted: {len(writer.records)} finished cells are kept in {run_dir}", file=sys.stderr)
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
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if not any(i.free_threaded for i in chosen):
        print("\nno free-threaded interpreter found: abi3t rows untested on free-threading")
    for where, why in discovery.excluded:
        print(f"not used: {where}: {why}")
    return 0


def cmd_cases(args: argparse.Namespace) -> int:
    matrix = load_matrix(args.matrix)
    cases = load_cases(matrix.cases_dir)
    if args.json:
        print(json.dumps([case_json(c) for c in cases], indent=2))
        return 0
    if args.markdown:
        print(report.case_table(cases))
        return 0
    for case in cases:
        kinds = ", ".join(k.value for k, _ in case.recipes)
        print(f"{case.id:<28} {kinds:<28} {case.description}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    change = nightly.write_reports(args.run_dir, formats, args.baseline, lambda line: print(line, file=sys.stderr))
    records, environment = results.load(args.run_dir)
    print(report.terminal_summary(records, environment, str(args.run_dir)))
    if change is not None:
        print(diffs.text(change))
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    before, before_env = results.load(args.baseline)
    after, _ = results.load(args.new)
    change = diffs.diff(before, after)
    if args.json:
        print(json.dumps(change.to_json(), indent=2))
    else:
        print(f"baseline {before_env.get('run_id', args.baseline)} -> {args.new}")
        print(diffs.text(change))
    return 1 if change.regressions else 0


def cmd_merge(args: argparse.Namespace) -> int:
    records, environment = merging.merge(args.run_dirs, args.out)
    print(f"merged {len(environment['shards'])} shard runs into {args.out}: {report.totals(records)}")
    return 0


def cmd_nightly(args: argparse.Namespace) -> int:
    if args.merge:
        out = args.out or args.results / "nightly-merged"
        outcome = nightly.finish(args.merge, out, args.baseline)
    else:
        baseline = args.baseline
        outcome = nightly.rehearse(args.shards, args.results, baseline, args.run_args, main)
    return outcome.exit_code


def cmd_provision(args: argparse.Namespace) -> int:
    providers = args.providers or ["debian", "uv"]
    unknown = [p for p in providers if p not in ("debian", "uv")]
    if unknown:
        print(f"error: unknown provider {', '.join(unknown)}; choose from debian, uv", file=sys.stderr)
        return 2

    def say(line: str) -> None:
        print(line, flush=True)

    if "debian" in providers:
        debian = provision.DebianRootfs(args.into, args.suite, args.mirror)
        versions = args.debian_python or list(provision.DEBIAN_VERSIONS)
        debian.provision(provision.debian_packages(versions, args.package), say)
    if "uv" in providers:
        provision.provision_uv(args.into, args.uv_python or list(provision.UV_VERSIONS), say)
    say("now: python -m harness interpreters")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    top.add_argument("--version", action="version", version=__version__)
    top.add_argument("-v", "--verbose", action="store_true", help="log every command run")
    sub = top.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--matrix", type=Path, default=Path("matrix.toml"), help="matrix file (default: %(default)s)")
        p.add_argument(
            "--cache-dir", type=Path, default=None, help="default: $ABI_HARNESS_CACHE or ~/.cache/abi-harness"
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
    run.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 2)
    run.add_argument(
        "--installer",
        default=None,
        metavar="uv|pip|pip,uv",
        help="default: uv when available, else pip; several: each resolves and installs, the first builds",
    )
    run.add_argument("--results", type=Path, default=Path("results"), help="default: %(default)s")
    run.add_argument("--timeout", type=float, default=None, help="seconds per import/call (default: matrix.toml)")
    run.add_argument("--rebuild", action="store_true", help="ignore cached wheels")
    run.add_argument("--shard", default=None, metavar="K/N", help="run shard K of N (each wheel in one shard)")
    run.add_argument("--weights", type=Path, default=None, metavar="RUN_DIR", help="balance shards by its durations")
    run.add_argument(
        "--provision",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="first provision missing interpreters where possible (nox -s matrix does; --no-provision skips it)",
    )
    run.set_defaults(func=cmd_run)

    interps = sub.add_parser("interpreters", help="list discovered interpreters")
    common(interps)
    interps.add_argument("--json", action="store_true")
    interps.set_defaults(func=cmd_interpreters)

    cases = sub.add_parser("cases", help="list the extension cases")
    cases.add_argument("--matrix", type=Path, default=Path("matrix.toml"))
    cases.add_argument("--json", action="store_true")
    cases.add_argument("--markdown", action="store_true", help="the README's case table")
    cases.set_defaults(func=cmd_cases)

    prov = sub.add_parser("provision", help="install interpreters into the cache: a Debian rootfs, uv builds")
    prov.add_argument("providers", nargs="*", metavar="PROVIDER", help="debian, uv (default: both)")
    prov.add_argument(
        "--into",
        type=Path,
        default=None,
        help="default: $ABI_HARNESS_PROVISION_DIR or the cache dir (~/.cache/abi-harness)",
    )
    prov.add_argument("--suite", default=provision.DEFAULT_SUITE, help="Debian suite (default: %(default)s)")
    prov.add_argument("--mirror", default=provision.DEFAULT_MIRROR, help="Debian mirror (default: %(default)s)")
    prov.add_argument(
        "--debian-python",
        action="append",
        metavar="X.Y",
        help=f"Debian CPython versions (default: {' '.join(provision.DEBIAN_VERSIONS)})",
    )
    prov.add_argument("--package", action="append", default=[], help="another Debian package for the rootfs")
    prov.add_argument(
        "--uv-python",
        action="append",
        metavar="VERSION",
        help=f"uv python install requests (default: {' '.join(provision.UV_VERSIONS)})",
    )
    prov.set_defaults(func=cmd_provision)

    rep = sub.add_parser("report", help="rebuild the reports of a run directory")
    rep.add_argument("run_dir", type=Path)
    rep.add_argument("--format", default="md,html", help="comma-separated: md, html, junit, summary (%(default)s)")
    rep.add_argument("--baseline", type=Path, default=None, metavar="RUN", help="add the diff against this run")
    rep.set_defaults(func=cmd_report)

    dif = sub.add_parser("diff", help="what changed between two runs (exit 1 on a regression)")
    dif.add_argument("baseline", type=Path, metavar="BASELINE_RUN")
    dif.add_argument("new", type=Path, metavar="NEW_RUN")
    dif.add_argument("--json", action="store_true")
    dif.set_defaults(func=cmd_diff)

    mer = sub.add_parser("merge", help="one run directory from the shard runs of `run --shard K/N`")
    mer.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR")
    mer.add_argument("--out", type=Path, required=True)
    mer.set_defaults(func=cmd_merge)

    nig = sub.add_parser("nightly", help="the nightly workflow: shard runs (or --merge given ones), diff, reports")
    nig.add_argument("--shards", type=int, default=3, help="rehearsal: run this many shards here (%(default)s)")
    nig.add_argument("--merge", type=Path, nargs="+", default=None, metavar="RUN_DIR", help="merge these instead")
    nig.add_argument("--out", type=Path, default=None, help="merged run directory (with --merge)")
    nig.add_argument("--baseline", type=Path, default=None, help="default: results/nightly-latest, if any")
    nig.add_argument("--results", type=Path, default=Path("results"), help="default: %(default)s")
    nig.add_argument("run_args", nargs="*", help="after --: arguments for each shard's `run`")
    nig.set_defaults(func=cmd_nightly)
    return top


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... | head` ends quietly
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(message)s")
    if getattr(args, "cache_dir", "unset") is None:
        args.cache_dir = cache_dir()
    if getattr(args, "into", "unset") is None:
        args.into = provision_dir()
    if getattr(args, "jobs", 1) < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    try:
        result: int = args.func(args)
        return result
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
