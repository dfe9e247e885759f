"""Sharding over a plan of the real cases and targets on recorded interpreters."""

from __future__ import annotations

from collections import Counter

import pytest

from harness.config.matrix import load_cases, load_matrix
from harness.errors import ConfigError
from harness.interpreters import providers
from harness.model import Interpreter
from harness.run import records as results
from harness.run.plan import Plan, plan
from harness.run.shard import ShardSpec, Unit, assign, plan_digest, shard, units, weights_from
from tests.conftest import FIXTURES, REPO


@pytest.fixture(scope="module")
def full_plan(
    cp38: Interpreter,
    cp39: Interpreter,
    cp312: Interpreter,
    cp313: Interpreter,
    cp315: Interpreter,
    cp315t: Interpreter,
) -> Plan:
    matrix = load_matrix(REPO / "matrix.toml", providers.names())
    everyone = [cp38, cp39, cp312, cp313, cp315, cp315t]
    return plan(load_cases(matrix.cases_dir, providers.names()), matrix.targets, everyone, everyone)


def cells(p: Plan) -> list[str]:
    return [f"{b.id}:{r.id}" for b in p.builds for r in p.run_pythons] + [str(s.cell) for s in p.skips]


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8])
def test_union_is_the_plan_and_no_wheel_twice(full_plan: Plan, count: int) -> None:
    assert full_plan.skips, "the real matrix on these interpreters plans some skips: they must be sharded too"
    shards = [shard(full_plan, ShardSpec(k, count)) for k in range(1, count + 1)]
    built = Counter(b.id for s in shards for b in s.builds)
    assert set(built.values()) == {1}
    assert sorted(built) == sorted(b.id for b in full_plan.builds)
    union = [c for s in shards for c in cells(s)]
    assert len(union) == len(set(union))
    assert sorted(union) == sorted(cells(full_plan))
    assert sum(s.total_cells for s in shards) == full_plan.total_cells


def test_deterministic_and_every_shard_gets_work(full_plan: Plan) -> None:
    first = [shard(full_plan, ShardSpec(k, 3)) for k in (1, 2, 3)]
    again = [shard(full_plan, ShardSpec(k, 3)) for k in (1, 2, 3)]
    assert first == again
    assert all(s.builds for s in first)


def test_lpt_balances_and_breaks_ties_by_id() -> None:
    work = [Unit("a", 5), Unit("b", 4), Unit("c", 3), Unit("d", 3), Unit("e", 1), Unit("f", 1)]
    shards = assign(work, 2)
    assert [[u.id for u in s] for s in shards] == [["a", "d", "f"], ["b", "c", "e"]]
    assert [sum(u.cost for u in s) for s in shards] == [9, 8]


def test_static_estimate_makes_cxx_and_rust_builds_costlier(full_plan: Plan) -> None:
    cost = {u.id: u.cost for u in units(full_plan)}
    assert cost["scikit-build-core/nanobind:version-specific:cp313"] > cost["setuptools/c-api:version-specific:cp313"]
    maturin = [c for key, c in cost.items() if key.startswith("maturin/cffi:")]
    assert maturin  # (maturin/pyo3 builds in the Debian rootfs only: not in this plan)
    assert min(maturin) > cost["sysconfig/c-api:version-specific:cp313"]


def test_weights_from_a_recorded_run_override_the_estimate(full_plan: Plan) -> None:
    records, _ = results.load(FIXTURES / "runs" / "base")
    weights = weights_from(records)
    key = "setuptools/c-api:abi3:cp315"
    assert weights[key] == pytest.approx(sum(r.duration_s for r in records if r.cell.startswith(key + ":")))
    assert not any(k.endswith(":-") for k in weights)  # planned skips cost nothing
    heavy = {"setuptools/c-api:version-specific:cp313": 10_000.0}
    # The one heavy wheel fills a shard alone; everything else goes to the others.
    alone = [s for s in (shard(full_plan, ShardSpec(k, 3), heavy) for k in (1, 2, 3)) if len(s.builds) == 1]
    assert [b.id for s in alone for b in s.builds] == list(heavy)


def test_digest_tells_plans_apart(full_plan: Plan, cp312: Interpreter, cp313: Interpreter) -> None:
    matrix = load_matrix(REPO / "matrix.toml", providers.names())
    smaller = plan(load_cases(matrix.cases_dir, providers.names()), matrix.targets, [cp312, cp313], [cp312, cp313])
    assert plan_digest(full_plan) == plan_digest(full_plan)
    assert plan_digest(full_plan) != plan_digest(smaller)


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "1/0"])
def test_bad_shard_spec(text: str) -> None:
    with pytest.raises(ConfigError, match="K/N"):
        ShardSpec.parse(text)


def test_shard_spec_round_trips() -> None:
    assert str(ShardSpec.parse("2/3")) == "2/3"
    assert ShardSpec.parse(" 3/3 ") == ShardSpec(3, 3)
