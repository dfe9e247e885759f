"""The benchmark's pure parts: which cells it samples, what counts as executed, the full-matrix fit."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.run_bench import SAT_CASE, Goal, HarnessRun, per_cell_figures, sample


def rec(
    build: str, run: str, expected: str, *, case: str = SAT_CASE, kind: str = "version-specific", **extra: Any
) -> dict[str, Any]:
    target = "abi3" if kind == "abi3" else kind
    return {
        "cell": f"{case}:{target}:{build}:{run}",
        "case": case,
        "target": target,
        "target_kind": kind,
        "build_python": build,
        "run_python": run,
        "expected": expected,
        "status": "pass",
        "wheel": f"w-{build}.whl",
        "duration_s": 0.2,
        **extra,
    }


def matrix_run() -> HarnessRun:
    pythons = ("cp39", "cp312", "cp313")
    records = [
        rec(b, r, "install+work" if b == r else "refuse (PEP 425: cpXY-cpXY needs that CPython)")
        for b in pythons
        for r in pythons
    ]
    records += [rec("cp39", r, "install+work", kind="abi3") for r in pythons]
    records += [rec("cp39", "cp39", "install+work", case="sysconfig/c-api")]
    return HarnessRun("rerun", 1.0, tuple(records), {})


def test_sample_takes_per_interpreter_its_own_wheel_and_one_refused_wheel_already_built() -> None:
    chosen = sample(matrix_run())
    cells = [r["cell"].removeprefix(f"{SAT_CASE}:version-specific:") for r in chosen]
    assert cells == ["cp39:cp39", "cp312:cp312", "cp313:cp313", "cp312:cp39", "cp39:cp312", "cp39:cp313"]


def test_sample_is_empty_without_the_sampled_case() -> None:
    run = HarnessRun("rerun", 1.0, (rec("cp39", "cp39", "install+work", case="sysconfig/c-api"),), {})
    assert sample(run) == []


def test_executed_leaves_out_reused_and_skipped_cells() -> None:
    records = (
        rec("cp39", "cp39", "install+work"),
        rec("cp39", "cp312", "refuse", reused_from="20260101T000000Z-1"),
        rec("cp39", "cp313", "refuse", status="skip", wheel=None),
    )
    run = HarnessRun("warm", 1.0, records, {})
    assert [r["run_python"] for r in run.executed] == ["cp39"]
    assert (run.cells, run.reused) == (3, 1)


def test_a_whole_matrix_target_is_never_met_on_a_subset() -> None:
    warm = Goal("warm <= 30 s", 4.8, "s", 30.0, whole_matrix=True)
    assert warm.status(full=False).startswith("subset only")
    assert warm.status(full=True) == "met"
    assert Goal("warm <= 30 s", 101.0, "s", 30.0, whole_matrix=True).status(full=True) == "not met"
    assert Goal("warm <= 30 s", 101.0, "s", 30.0, whole_matrix=True).of_target == 3.37


@pytest.mark.parametrize(
    ("goal", "full", "status", "of_target"),
    [
        (Goal("accepted <= 5x", 9.0, "x", 5.0), False, "not met", 1.8),  # a per-cell ratio: measured on any subset
        (Goal("refused <= 3x", 2.4, "x", 3.0), False, "met", 0.8),
        (Goal("speedup >= 10x", 5.0, "x", 10.0, at_least=True), False, "not met", 2.0),
        (Goal("gate <= 120 s", None, "s", 120.0, whole_matrix=True), True, "not measured", None),
    ],
)
def test_goal_status_and_ratio_to_its_target(goal: Goal, full: bool, status: str, of_target: float | None) -> None:
    assert (goal.status(full), goal.of_target) == (status, of_target)


def test_per_cell_ratios_divide_by_the_bare_import_of_the_cells_interpreter() -> None:
    executed = [
        rec("cp39", "cp39", "install+work", duration_s=0.10),
        rec("cp312", "cp312", "install+work", duration_s=0.30),
        rec("cp312", "cp39", "refuse (PEP 425)", duration_s=0.05),
    ]
    figures = per_cell_figures(executed, {"cp39": 0.01, "cp312": 0.02})
    assert (figures["cells_accepted"], figures["cells_refused"]) == (2, 1)
    assert figures["ratio_accepted_vs_bare"] == 12.5  # median of 10x and 15x
    assert figures["ratio_refused_vs_bare"] == 5.0
    assert figures["per_cell_by_python"]["cp39"] == {"accepted_s": 0.1, "refused_s": 0.05, "bare_import_s": 0.01}
