"""One run directory from the shard runs of one nightly, made on one or several machines."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from harness.errors import ConfigError, DamagedResults, HarnessError
from harness.run import manifest
from harness.run import records as results
from harness.run.manifest import InterpreterEntry, RunManifest, ShardEntry, ShardInfo
from harness.run.records import Record


class _Versioned(msgspec.Struct):
    schema_version: Any = None


def _schema_versions(run_dir: Path) -> set[Any]:
    """The schema_version of every line (only that key read: damage beyond it is results.load's to name)."""
    path = run_dir / results.RESULTS_FILE
    found = set()
    for line in path.read_bytes().splitlines():
        try:
            found.add(msgspec.json.decode(line, type=_Versioned).schema_version)
        except (msgspec.DecodeError, UnicodeError):
            continue  # not an object, or a killed run's last line: results.load names or skips it
    return {v if isinstance(v, int | str | float | None) else repr(v) for v in found}


def _shard_of(run_dir: Path, environment: RunManifest) -> ShardInfo:
    if not isinstance(environment.shard, ShardInfo):
        raise ConfigError(
            f"{run_dir / results.ENVIRONMENT_FILE}: no `shard` entry; merge takes the runs of "
            "`python -m harness run --shard K/N`"
        )
    return environment.shard


def check(run_dirs: Sequence[Path]) -> list[tuple[Path, list[Record], RunManifest]]:
    """Load every shard run, or raise one ConfigError listing every problem found (each naming its file)."""
    loaded = _load_all(run_dirs)
    problems = _shard_problems(loaded)
    owner: dict[str, Path] = {}
    for run_dir, records, _ in loaded:
        for r in records:
            if r.cell in owner:
                problems.append(f"{run_dir / results.RESULTS_FILE}: cell {r.cell} also in {owner[r.cell]}")
            owner.setdefault(r.cell, run_dir / results.RESULTS_FILE)
    if problems:
        raise ConfigError(problems)
    return sorted(loaded, key=lambda item: _shard_of(item[0], item[2]).index)


def _load_all(run_dirs: Sequence[Path]) -> list[tuple[Path, list[Record], RunManifest]]:
    """Every shard run read, once all are there and of one schema version."""
    problems: list[str] = []
    versions: dict[Path, set[Any]] = {}
    for run_dir in run_dirs:
        if not (run_dir / results.RESULTS_FILE).is_file():
            problems.append(f"{run_dir / results.RESULTS_FILE}: missing; give the shard runs' directories")
            continue
        versions[run_dir] = _schema_versions(run_dir)
    if len(set().union(*versions.values()) if versions else set()) > 1:
        problems += [
            f"{d / results.RESULTS_FILE}: schema_version {', '.join(map(str, sorted(v, key=str)))}"
            for d, v in versions.items()
        ]
        problems.append("mixed schema versions: rerun the older shards with this harness")
    if problems:
        raise ConfigError(problems)
    loaded = []
    for run_dir in run_dirs:
        try:
            records, environment = results.load(run_dir)
        except DamagedResults:
            raise  # exit 3: a damaged shard (records or environment.json) is named line by line, field by field
        except HarnessError as exc:
            raise ConfigError(f"{run_dir}: {exc}") from None
        loaded.append((run_dir, records, environment))
    return loaded


def _shard_problems(loaded: Sequence[tuple[Path, list[Record], RunManifest]]) -> list[str]:
    """Each shard once, all of one count and of one plan."""
    problems: list[str] = []
    shards: dict[int, Path] = {}
    counts, digests = set(), set()
    for run_dir, _, environment in loaded:
        try:
            info = _shard_of(run_dir, environment)
        except ConfigError as exc:
            problems += exc.problems
            continue
        index, count, digest = info.index, info.count, info.plan_digest
        counts.add(count)
        digests.add(digest)
        if index in shards:
            problems.append(f"{run_dir / results.ENVIRONMENT_FILE}: shard {index}/{count} also in {shards[index]}")
        shards[index] = run_dir
    if len(counts) > 1:
        problems.append(f"shard runs disagree on N: {sorted(counts)} (one nightly uses one --shard K/N count)")
    elif counts:
        (count,) = counts
        missing = [str(k) for k in range(1, count + 1) if k not in shards]
        if missing:
            problems.append(f"missing shard {', '.join(f'{k}/{count}' for k in missing)}: have {sorted(shards)}")
    if len(digests) > 1:
        problems.append(
            "shards were planned from different inputs (plan_digest differs: other interpreters, cases or "
            "--case/--target): " + ", ".join(f"{d}: {_shard_of(d, e).plan_digest}" for d, _, e in loaded)
        )
    return problems


def _union(entries: Iterable[InterpreterEntry]) -> tuple[InterpreterEntry, ...]:
    seen: dict[str, InterpreterEntry] = {}
    for entry in entries:
        seen.setdefault(entry.id, entry)
    return tuple(seen.values())


def _symlinks(directory: str, names: list[str]) -> list[str]:
    """A shard artifact's symlinks are not followed: a link to /etc/shadow must not be copied into the run."""
    return [n for n in names if (Path(directory) / n).is_symlink()]


def _shard_entry(run_dir: Path, records: Sequence[Record], env: RunManifest) -> ShardEntry:
    return ShardEntry(
        shard=_shard_of(run_dir, env),
        run_id=env.run_id,
        dir=str(run_dir),
        host=env.host or None,
        argv=env.argv or None,
        installer=env.installer,
        started=env.started,
        finished=env.finished or None,
        interpreters=env.interpreters,
        cells=len(records),
    )


def merged_manifest(loaded: Sequence[tuple[Path, list[Record], RunManifest]]) -> RunManifest:
    """The merged run's environment.json: the first shard's, with what every shard contributes."""
    envs = [env for _, _, env in loaded]
    return msgspec.structs.replace(
        envs[0],
        shard=msgspec.UNSET,
        argv=msgspec.UNSET,
        host=msgspec.UNSET,
        run_id="merged-" + "+".join(e.run_id or "?" for e in envs),
        started=min(e.started for e in envs),
        finished=max(e.finished or "" for e in envs),
        interrupted=any(e.interrupted is True for e in envs),
        interpreters=_union(i for e in envs for i in e.interpreters),
        build_interpreters=tuple(sorted({b for e in envs for b in e.build_interpreters})),
        # The judge reads build interpreters' facts too (report --rejudge on the merged run).
        build_interpreter_facts=_union(i for e in envs for i in e.build_interpreter_facts),
        excluded=tuple(sorted({x for e in envs for x in e.excluded})),
        shards=tuple(_shard_entry(d, recs, env) for d, recs, env in loaded),
    )


def merge(run_dirs: Sequence[Path], out: Path) -> tuple[list[Record], RunManifest]:
    """Write *out* (records, environment with a `shards` list, logs) and return what it holds."""
    loaded = check(run_dirs)
    if (out / results.RESULTS_FILE).exists():
        raise ConfigError(f"{out / results.RESULTS_FILE}: exists; merge into a new directory")
    out.mkdir(parents=True, exist_ok=True)
    records = [r for _, recs, _ in loaded for r in recs]
    environment = merged_manifest(loaded)
    for run_dir, _, _ in loaded:
        logs = run_dir / "logs"
        if logs.is_dir() and not logs.is_symlink():
            shutil.copytree(logs, out / "logs", dirs_exist_ok=True, ignore=_symlinks)
        # Run-level sections (every shard runs every interpreter; the nightly asks one shard for
        # the preference experiment): the first shard that has each one gives it.
        for name in (results.SURFACE_FILE, results.PREFERENCE_FILE):
            if (run_dir / name).is_file() and not (run_dir / name).is_symlink() and not (out / name).exists():
                shutil.copyfile(run_dir / name, out / name)
    results.write_sorted(out / results.RESULTS_FILE, records)
    manifest.write(out, environment)
    return sorted(records, key=lambda r: r.cell), environment
