"""Split a plan into N shards: each wheel with all its cells in exactly one shard, balanced by expected cost."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from harness.errors import ConfigError
from harness.model import Case
from harness.run.plan import Plan, PlannedSkip
from harness.run.records import Record

# Static estimate in seconds when no previous run gives durations: a C build takes ~10 s, C++ and
# Rust take several times that (pybind11, nanobind, maturin), each cell (install + import + call) ~2 s.
BUILD_COST = {"nanobind": 60.0, "pybind11": 40.0, "pyo3": 60.0, "cython": 25.0}
BACKEND_COST = {"maturin": 60.0, "scikit-build-core": 15.0, "meson-python": 15.0}
DEFAULT_BUILD_COST = 10.0
CELL_COST = 2.0
SKIP_COST = 0.01


MAX_SHARDS = 10_000  # as environment.json allows; a huge N was a MemoryError


@dataclass(frozen=True)
class ShardSpec:
    """`--shard K/N`, 1-based."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> ShardSpec:
        match = re.fullmatch(r"(\d{1,9})/(\d{1,9})", text.strip())
        if not match or not 1 <= int(match[1]) <= int(match[2]) <= MAX_SHARDS:
            raise ConfigError(f"--shard {text!r}: expected K/N with 1 <= K <= N <= {MAX_SHARDS}, e.g. --shard 2/3")
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class Unit:
    """What goes to one shard whole: a wheel with its cells, or the planned skips of one case/target."""

    id: str
    cost: float


def static_build_cost(case: Case) -> float:
    return BUILD_COST.get(case.binding) or BACKEND_COST.get(case.backend) or DEFAULT_BUILD_COST


def weights_from(records: Iterable[Record]) -> dict[str, float]:
    """Seconds each wheel cost in a previous run: its cells' durations plus its build's, by BuildSpec.id."""
    cost: dict[str, float] = defaultdict(float)
    for r in records:
        if r.build_python == "-" or r.stage == "plan":
            continue
        key = f"{r.case}:{r.target}:{r.build_python}"
        cost[key] += r.duration_s
    return dict(cost)


def _skip_key(skip: PlannedSkip) -> str:
    return f"skips:{skip.cell.case}:{skip.cell.target}"


def units(plan: Plan, weights: Mapping[str, float] | None = None) -> list[Unit]:
    """Every unit of the plan with its expected cost; a previous run's weight wins over the estimate."""
    found = []
    for spec in plan.builds:
        estimate = static_build_cost(spec.case) + CELL_COST * len(plan.run_pythons)
        found.append(Unit(spec.id, (weights or {}).get(spec.id, estimate)))
    skip_counts: dict[str, int] = defaultdict(int)
    for skip in plan.skips:
        skip_counts[_skip_key(skip)] += 1
    found += [Unit(key, SKIP_COST * n) for key, n in skip_counts.items()]
    return found


def assign(all_units: Sequence[Unit], count: int) -> list[list[Unit]]:
    """Greedy longest-processing-time: costliest first onto the least loaded shard; ties by id and index."""
    shards: list[list[Unit]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for unit in sorted(all_units, key=lambda u: (-u.cost, u.id)):
        k = min(range(count), key=lambda n: (loads[n], n))
        shards[k].append(unit)
        loads[k] += unit.cost
    return shards


def plan_digest(plan: Plan) -> str:
    """Identifies the unsharded plan, so a merge can tell shards planned from different inputs apart."""
    ids = sorted([s.id for s in plan.builds] + [str(s.cell) for s in plan.skips] + [i.id for i in plan.run_pythons])
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]


def shard(plan: Plan, spec: ShardSpec, weights: Mapping[str, float] | None = None) -> Plan:
    """The part of *plan* that shard K of N runs."""
    mine = {u.id for u in assign(units(plan, weights), spec.count)[spec.index - 1]}
    builds = [b for b in plan.builds if b.id in mine]
    skips = [s for s in plan.skips if _skip_key(s) in mine]
    return Plan(tuple(builds), tuple(skips), plan.run_pythons)
