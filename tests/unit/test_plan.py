from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.model import BuildSpec, Case, Interpreter, Provider, Target, TargetKind, TargetRecipe
from harness.run.plan import builders, can_build, plan

ABI3 = Target("abi3", TargetKind.ABI3, (3, 9), ("oldest", "newest"))
VS = Target("version-specific", TargetKind.VERSION_SPECIFIC, None, ("each",))
ABI3T = Target("abi3t", TargetKind.ABI3T, (3, 15), ("each",))
CASE = Case(
    backend="setuptools",
    binding="c-api",
    path=Path("/x"),
    description="d",
    notes="",
    recipes=((TargetKind.VERSION_SPECIFIC, TargetRecipe()), (TargetKind.ABI3, TargetRecipe())),
)


@pytest.fixture
def everyone(cp38: Interpreter, cp39: Interpreter, cp312: Interpreter, cp313: Interpreter) -> list[Interpreter]:
    return [cp38, cp39, cp312, cp313]


def test_abi3_oldest_and_newest(everyone: list[Interpreter]) -> None:
    assert [i.id for i in builders(ABI3, everyone, everyone)] == ["cp39", "cp313"]


def test_each_means_each_run_column(everyone: list[Interpreter], cp312: Interpreter) -> None:
    assert [i.id for i in builders(VS, everyone, [cp312])] == ["cp312"]


def test_glob_selector(everyone: list[Interpreter]) -> None:
    target = replace(ABI3, build_on=("cp31*",))
    assert [i.id for i in builders(target, everyone, everyone)] == ["cp312", "cp313"]


def test_newest_prefers_release_over_debug(cp313: Interpreter, cp315: Interpreter) -> None:
    debug = replace(cp315, id="cp315d", debug=True)
    assert [i.id for i in builders(replace(ABI3, build_on=("newest",)), [cp313, debug, cp315], [])] == ["cp315"]


def test_can_build_rules(cp39: Interpreter, cp313: Interpreter, cp315: Interpreter, cp315t: Interpreter) -> None:
    assert not can_build(TargetKind.ABI3, ABI3, replace(cp39, version=(3, 8, 0)))
    assert not can_build(TargetKind.ABI3, ABI3, cp315t)  # abi3 cannot be built free-threaded
    assert not can_build(TargetKind.ABI3T, ABI3T, cp313)  # PEP 803: 3.15+
    assert can_build(TargetKind.ABI3T, ABI3T, cp315)
    assert can_build(TargetKind.ABI3T, ABI3T, cp315t)
    assert not can_build(TargetKind.VERSION_SPECIFIC, VS, replace(cp313, implementation="pypy"))


def test_plan_counts_and_skips(everyone: list[Interpreter]) -> None:
    result = plan([CASE], [VS, ABI3, ABI3T], everyone, everyone)
    assert len(result.builds) == 4 + 2
    # abi3t: the case declares no recipe -> one skip per run column, with the reason
    assert len(result.skips) == 4
    assert all("does not support abi3t" in s.reason for s in result.skips)
    assert result.total_cells == 6 * 4 + 4


def test_plan_skip_when_nobody_can_build(cp38: Interpreter) -> None:
    result = plan([CASE], [ABI3], [cp38], [cp38])
    assert not result.builds
    (skip,) = result.skips
    assert "needs a GIL CPython >= 3.9" in skip.reason
    assert str(skip.cell) == "setuptools/c-api:abi3:-:cp38"


def test_plan_filters_errors(everyone: list[Interpreter]) -> None:
    with pytest.raises(ConfigError, match="no case matched"):
        plan([CASE], [VS], everyone, everyone, case_globs=["meson*"])
    with pytest.raises(ConfigError, match="targets: version-specific"):
        plan([CASE], [VS], everyone, everyone, target_names=["abi4"])


def test_provider_restriction_applies_before_oldest_newest(everyone: list[Interpreter], cp315: Interpreter) -> None:
    debian_314 = replace(cp315, id="cp314", version=(3, 14, 0), provider=Provider("debian"))
    debian_315 = replace(cp315, provider=Provider("debian"))
    rust = replace(CASE, build_providers=(Provider("debian"),), build_reason="crates from Debian")
    result = plan([rust], [ABI3, VS], [*everyone, debian_314, debian_315], everyone)
    # oldest and newest among the Debian interpreters; "each" only where a run column is Debian's
    assert [b.python.id for b in result.builds if isinstance(b, BuildSpec) and b.target is ABI3] == ["cp314", "cp315"]
    assert [b.python.id for b in result.builds if isinstance(b, BuildSpec) and b.target is VS] == []
    assert all("no debian interpreter to build version-specific" in s.reason for s in result.skips)


def test_requires_python_excludes_build_interpreters(everyone: list[Interpreter]) -> None:
    case = replace(CASE, requires_python=">=3.9")
    result = plan([case], [VS], everyone, everyone)
    assert [b.python.id for b in result.builds if isinstance(b, BuildSpec)] == ["cp39", "cp312", "cp313"]
    assert {str(s.cell) for s in result.skips} == {f"setuptools/c-api:version-specific:cp38:{r.id}" for r in everyone}
    assert all(s.reason == "case requires-python >=3.9 excludes build interpreter cp38" for s in result.skips)
