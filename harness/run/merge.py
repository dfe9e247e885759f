"""One run directory from the shard runs of one nightly, made on one or several machines."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, HarnessError
from harness.run import records as results
from harness.run.records import Record


def _schema_versions(run_dir: Path) -> set[Any]:
    path = run_dir / results.RESULTS_FILE
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            found.add(json.loads(line).get("schema_version"))
        except json.JSONDecodeError:
            continue  # a killed run's last line; results.load skips it too
    return found


def _shard_of(run_dir: Path, environment: dict[str, Any]) -> tuple[int, int, str]:
    shard = environment.get("shard")
    if not isinstance(shard, dict) or not {"index", "count"} <= shard.keys():
        raise ConfigError(
            f"{run_dir / results.ENVIRONMENT_FILE}: no `shard` entry; merge takes the runs of "
            "`python -m harness run --shard K/N`"
        )
    return int(shard["index"]), int(shard["count"]), str(shard.get("plan_digest", ""))


def check(run_dirs: Sequence[Path]) -> list[tuple[Path, list[Record], dict[str, Any]]]:
    """Load every shard run, or raise one ConfigError listing every problem found (each naming its file)."""
    problems: list[str] = []
    loaded = []
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
    for run_dir in run_dirs:
        try:
            records, environment = results.load(run_dir)
        except (HarnessError, ValueError) as exc:  # a broken environment.json too: name the directory
            raise ConfigError(f"{run_dir}: {exc}") from None
        loaded.append((run_dir, records, environment))

    shards: dict[int, Path] = {}
    counts, digests = set(), set()
    for run_dir, _, environment in loaded:
        try:
            index, count, digest = _shard_of(run_dir, environment)
        except ConfigError as exc:
            problems += exc.problems
            continue
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
            "--case/--target): " + ", ".join(f"{d}: {e.get('shard', {}).get('plan_digest')}" for d, _, e in loaded)
        )
    owner: dict[str, Path] = {}
    for run_dir, records, _ in loaded:
        for r in records:
            if r.cell in owner:
                problems.append(f"{run_dir / results.RESULTS_FILE}: cell {r.cell} also in {owner[r.cell]}")
            owner.setdefault(r.cell, run_dir / results.RESULTS_FILE)
    if problems:
        raise ConfigError(problems)
    return sorted(loaded, key=lambda item: _shard_of(item[0], item[2])[0])


def _union(items: Sequence[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    seen: dict[Any, dict[str, Any]] = {}
    for item in items:
        seen.setdefault(item.get(key), item)
    return list(seen.values())


def merge(run_dirs: Sequence[Path], out: Path) -> tuple[list[Record], dict[str, Any]]:
    """Write *out* (records, environment with a `shards` list, logs) and return what it holds."""
    loaded = check(run_dirs)
    if (out / results.RESULTS_FILE).exists():
        raise ConfigError(f"{out / results.RESULTS_FILE}: exists; merge into a new directory")
    out.mkdir(parents=True, exist_ok=True)
    records = [r for _, recs, _ in loaded for r in recs]
    envs = [env for _, _, env in loaded]
    first = envs[0]
    environment: dict[str, Any] = {
        **{k: v for k, v in first.items() if k not in ("shard", "argv", "host", "started", "finished")},
        "run_id": "merged-" + "+".join(str(e.get("run_id", "?")) for e in envs),
        "started": min(str(e.get("started", "")) for e in envs),
        "finished": max(str(e.get("finished", "")) for e in envs),
        "interrupted": any(e.get("interrupted") for e in envs),
        "interpreters": _union([i for e in envs for i in e.get("interpreters", [])], "id"),
        "build_interpreters": sorted({b for e in envs for b in e.get("build_interpreters", [])}),
        # The judge reads build interpreters' facts too (report --rejudge on the merged run).
        "build_interpreter_facts": _union([i for e in envs for i in e.get("build_interpreter_facts", [])], "id"),
        "excluded": sorted({tuple(x) for e in envs for x in e.get("excluded", [])}),
        "shards": [
            {
                "shard": env.get("shard"),
                "run_id": env.get("run_id"),
                "dir": str(run_dir),
                "host": env.get("host"),
                "argv": env.get("argv"),
                "installer": env.get("installer"),
                "started": env.get("started"),
                "finished": env.get("finished"),
                "interpreters": env.get("interpreters", []),
                "cells": len(recs),
            }
            for run_dir, recs, env in loaded
        ],
    }
    environment["excluded"] = [list(x) for x in environment["excluded"]]
    for run_dir, _, _ in loaded:
        if (run_dir / "logs").is_dir():
            shutil.copytree(run_dir / "logs", out / "logs", dirs_exist_ok=True)
        # Run-level sections (every shard runs every interpreter; the nightly asks one shard for
        # the preference experiment): the first shard that has each one gives it.
        for name in (results.SURFACE_FILE, results.PREFERENCE_FILE):
            if (run_dir / name).is_file() and not (out / name).exists():
                shutil.copyfile(run_dir / name, out / name)
    results.write_sorted(out / results.RESULTS_FILE, records)
    results.write_json(out / results.ENVIRONMENT_FILE, environment)
    return sorted(records, key=lambda r: r.cell), environment
