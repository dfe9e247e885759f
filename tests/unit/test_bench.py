"""The benchmark's pure parts: which cells it samples, what counts as executed, the full-matrix fit."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.run_bench import SAT_CASE, HarnessRun, estimate_full, sample


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


@pytest.mark.parametrize(
    ("big", "small", "full", "expected"),
    [
        ((10.0, 48), (4.0, 6), 4116, 591.1),  # 3.14 s fixed + 0.143 s per cell
        ((5.0, 48), (6.0, 6), 4116, None),  # noise made the bigger run faster: nothing to fit
        ((5.0, 6), (5.0, 6), 4116, None),  # one point fits nothing
    ],
)
def test_estimate_full_fits_a_fixed_and_a_per_cell_part(
    big: tuple[float, int], small: tuple[float, int], full: int, expected: float | None
) -> None:
    assert estimate_full(big, small, full) == expected
