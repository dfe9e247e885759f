"""`check`: the matrix's stages on wheels built elsewhere, a package author's or distributor's own.

Targets -> wheels (files, a wheelhouse directory, or a release's wheels for this platform from the
index) -> one WheelSpec per wheel (its compressed tag set is the target; grouped by distribution and
version as the case) -> the run pipeline, unchanged -> a normal run directory.
Every target is checked (and downloaded) before anything is written.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from harness import __version__
from harness.build import index as index_files
from harness.build.installers import Toolchain
from harness.build.wheelfile import WheelInfo, read_wheel
from harness.config.corpus import Corpus, load_corpus
from harness.errors import ConfigError
from harness.interpreters.discover import Discovery
from harness.model import Case, Interpreter, KnownIssue, Target, TargetKind, WheelSpec
from harness.run import manifest, shard
from harness.run import records as results
from harness.run.manifest import CaseEntry, CheckEntry, CheckWheel, Host, RunManifest, ShardInfo, TargetEntry
from harness.run.pipeline import Settings
from harness.run.plan import Plan


@dataclass(frozen=True)
class Wanted:
    """One TARGET of the command line or the corpus, with what to import from its wheels."""

    target: str
    imports: tuple[str, ...] = ()  # empty: every top-level package and extension module in RECORD
    wheels: tuple[str, ...] = ()  # a requirement's wheels to check, as globs over their tag set; empty: all


@dataclass(frozen=True)
class Found:
    """A wheel to check, and where it came from."""

    info: WheelInfo
    source: str  # "file" or "index"
    origin: str
    imports: tuple[str, ...]


def looks_like_path(text: str) -> bool:
    return os.sep in text or text.endswith(".whl") or Path(text).exists()


def find(wanted: Wanted, index: str, cache: Path, say: Any) -> list[Found]:
    """The wheels one TARGET stands for; ConfigError naming it when it stands for none."""
    text = wanted.target
    if looks_like_path(text):
        path = Path(text)
        if path.is_dir():
            wheels = sorted(path.glob("*.whl"))
            if not wheels:
                raise ConfigError(f"target {text}: a directory without *.whl files; give a wheelhouse")
            return [Found(read_wheel(w), "file", str(w), wanted.imports) for w in wheels]
        if not path.is_file():
            raise ConfigError(f"target {text}: no such file or directory")
        return [Found(read_wheel(path), "file", str(path), wanted.imports)]
    req = index_files.parse_requirement(text)
    release = index_files.release_wheels(req, index, cache, wanted.wheels)
    say(
        f"{text}: {release.name} {release.version}, {len(release.wheels)} wheels for this platform from {index}"
        + (f" ({len(release.left_out)} for other platforms left out)" if release.left_out else "")
    )
    return [
        Found(read_wheel(path), "index", f"{file.url} sha256={file.sha256}", wanted.imports)
        for file, path in release.wheels
    ]


def target_of(info: WheelInfo) -> Target:
    """The wheel's claim as a Target: its compressed tag set names it, its ABI tags give the kind."""
    abis = {t.split("-")[1] for t in info.tags}
    kind = (
        TargetKind.ABI3_ABI3T
        if {"abi3", "abi3t"} <= abis
        else TargetKind.ABI3T
        if "abi3t" in abis
        else TargetKind.ABI3
        if "abi3" in abis
        else TargetKind.ABI_NONE
        if abis == {"none"}
        else TargetKind.VERSION_SPECIFIC
    )
    floor = None
    if kind not in (TargetKind.VERSION_SPECIFIC, TargetKind.ABI_NONE):
        versions = sorted(t.split("-")[0] for t in info.tags if t.startswith("cp3"))
        floor = (3, int(versions[0][3:])) if versions else None
    return Target(info.tag_name, kind, floor, ())


def spec_of(found: Found) -> WheelSpec:
    info = found.info
    imports = found.imports or info.imports
    if not imports:
        raise ConfigError(f"{info.path}: installs no importable package or module; give --import NAME")
    case = Case(
        backend=info.name,  # the case is NAME/VERSION: a distribution's version, its wheels the rows
        binding=info.version,
        path=info.path.parent,
        description=f"{info.name} {info.version}",
        notes="",
        recipes=(),
    )
    return WheelSpec(
        case=case,
        target=target_of(info),
        wheel=info.path,
        source=found.source,
        imports=imports,
        origin=found.origin,
        record_problems=info.record_problems,
    )


def specs(wanted: Sequence[Wanted], index: str, cache: Path, say: Any) -> tuple[WheelSpec, ...]:
    """Every wheel of every target once, sorted by id; two different files with one id are an error."""
    chosen: dict[str, WheelSpec] = {}
    for each in wanted:
        for found in find(each, index, cache, say):
            spec = spec_of(found)
            other = chosen.get(spec.id)
            if other is not None and other.wheel.resolve() != spec.wheel.resolve():
                raise ConfigError(
                    f"target {each.target}: {spec.wheel} and {other.wheel} are both {spec.id}; check one of them"
                )
            chosen[spec.id] = spec
    return tuple(chosen[k] for k in sorted(chosen))


def wanted_targets(targets: Sequence[str], imports: Sequence[str], corpus: Corpus | None) -> list[Wanted]:
    given = [Wanted(t, tuple(imports)) for t in targets]
    listed = [Wanted(p.requirement, p.imports or tuple(imports), p.wheels) for p in corpus.packages] if corpus else []
    if not given and not listed:
        raise ConfigError("check: give a TARGET (a wheel, a wheelhouse directory, NAME or NAME==VERSION) or --corpus")
    return listed + given


@dataclass(frozen=True)
class Prepared:
    """Everything a check run needs, with nothing yet written."""

    plan: Plan
    settings: Settings
    environment: RunManifest


def check_plan(wheels: tuple[WheelSpec, ...], runners: tuple[Interpreter, ...], shard_spec: str | None) -> Plan:
    if not runners:
        raise ConfigError("no interpreter to run on: discovery found none; add one with --python PATH")
    whole = Plan(wheels, (), runners)
    return shard.shard(whole, shard.ShardSpec.parse(shard_spec)) if shard_spec else whole


def environment(
    args: Any,
    the_plan: Plan,
    whole: Plan,
    discovery: Discovery,
    chosen: Sequence[Toolchain],
    corpus: Corpus | None,
    index: str,
) -> RunManifest:
    """environment.json of a check run: a run's keys (report, merge and --rejudge read them) and `check`."""
    wheels = [w for w in whole.builds if isinstance(w, WheelSpec)]
    cases = {w.case.id: w.case for w in wheels}.values()
    shard_info: ShardInfo | msgspec.UnsetType = msgspec.UNSET
    if args.shard:
        spec = shard.ShardSpec.parse(args.shard)
        builds = tuple(b.id for b in the_plan.builds)
        shard_info = ShardInfo(index=spec.index, count=spec.count, plan_digest=shard.plan_digest(whole), builds=builds)
    return RunManifest(
        schema_version=results.SCHEMA_VERSION,
        run_id=results.new_run_id(),
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        argv=tuple(args.argv),
        harness_version=__version__,
        host=Host(python=sys.version.split()[0], platform=platform.platform(), cpus=os.cpu_count()),
        installer=", ".join(t.version() for t in chosen),
        matrix=str(args.matrix),
        cache_dir=str(args.cache_dir),
        interpreters=manifest.entries(the_plan.run_pythons),
        excluded=tuple((str(path), str(why)) for path, why in discovery.excluded),
        cases=tuple(CaseEntry(id=c.id, backend=c.backend, binding=c.binding, description=c.description) for c in cases),
        targets=tuple(TargetEntry.of(t) for t in {w.target.name: w.target for w in wheels}.values()),
        shard=shard_info,
        check=CheckEntry(
            index=index,
            corpus=str(corpus.path) if corpus else None,
            test=args.test or None,
            wheels=tuple(CheckWheel(id=w.id, wheel=w.wheel.name, origin=w.origin, imports=w.imports) for w in wheels),
        ),
    )


def known_issues(environment: RunManifest) -> tuple[KnownIssue, ...]:
    """The known issues of a check run's corpus (for --rejudge), read again from its file."""
    corpus = environment.check.corpus if isinstance(environment.check, CheckEntry) else None
    return load_corpus(Path(corpus)).known_issues if corpus else ()


def wheel_specs(args: Any, say: Any) -> tuple[tuple[WheelSpec, ...], Corpus | None, str]:
    """Every target resolved (downloaded from the index if need be) into wheels: (wheels, corpus, index)."""
    corpus = load_corpus(args.corpus) if args.corpus else None
    index = index_files.index_url(args.index_url)
    return specs(wanted_targets(args.targets, args.imports, corpus), index, args.cache_dir, say), corpus, index


def prepare(
    args: Any,
    wheels: tuple[tuple[WheelSpec, ...], Corpus | None, str],
    discovery: Discovery,
    runners: tuple[Interpreter, ...],
    chosen: tuple[Toolchain, ...],
    timeouts: tuple[float, float],
) -> Prepared:
    """The plan (sharded if asked), settings and environment.json's content; nothing written."""
    specs_, corpus, index = wheels
    whole = check_plan(specs_, runners, None)
    the_plan = check_plan(specs_, runners, args.shard)
    settings = Settings(
        chosen,
        args.cache_dir,
        args.jobs,
        *timeouts,
        corpus.known_issues if corpus else (),
        rerun=args.rerun,
        test=args.test or "",
    )
    env = environment(args, the_plan, whole, discovery, chosen, corpus, index)
    return Prepared(the_plan, settings, env)
