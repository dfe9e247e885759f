"""Measure the harness, never assert on it: one run, side by side, on a fixed subset of the matrix.

    python benchmarks/run_bench.py [--full] [--case GLOB ...] [--target NAME ...] [--python ID ...]

1. `python -m harness run` three times on one throwaway cache: cold (nothing cached), warm (same
   cache, nothing changed: cells reused) and warm with `--rerun` (every cell executed again, no
   wheel built); then warm and `--rerun` on the first interpreter only, so the full default
   matrix can be estimated as a fixed part plus a per-cell part (`--full` measures it instead).
2. A bare `python -I -c "import m; m.add(1, 2)"` of the same installed module on the same
   interpreter, repeated, against each executed cell's own `duration_s` (accepted and refused
   cells apart, from the `--rerun` run).
3. The stable-abi-testing method (Quansight-Labs/stable-abi-testing, tests/test_wheel.py) on sample
   cells of the same runs: per interpreter a prepared environment holding `build`, pip and the
   backend (its tox environment, set up once and not charged to the cells); per cell, as its
   `test_install`, `build.ProjectBuilder(src).build("wheel", out)` in the build interpreter's
   environment, `python -m venv` (with pip), `pip --python VENV install WHEEL`, then the import
   and `add(1, 2) == 3` (and the `.abi3` suffix check for abi3 wheels), each step stopping the
   cell when it fails, as `check=True` does there; cells on parallel workers (`pytest -n auto`).

Prints a table, the targets of issue 14 with met / not met, and last one line `BENCH {json}`.
`--full` runs the harness part on the whole default matrix (no --case/--target/--python).
Long because it is one script, run as a file, measuring three methods side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config.casefiles import render
from harness.config.matrix import load_cases, load_matrix
from harness.infra import rootfs
from harness.infra.paths import cache_dir
from harness.interpreters import providers
from harness.interpreters.discover import discover, select
from harness.model import Case, Interpreter, Target, TargetKind
from harness.run.plan import plan

REPO = Path(__file__).resolve().parent.parent
MATRIX = REPO / "matrix.toml"
CASES = ("setuptools/c-api", "sysconfig/c-api")
TARGETS = ("version-specific", "abi3")
PYTHONS = ("cp39", "cp312", "cp313", "cp315")
SAT_CASE = "setuptools/c-api"  # the stable-abi-testing sample: its own kind of case, version-specific wheels
BARE_REPEAT = 30

# Issue 14's targets.
WARM_FULL_S = 60.0
RERUN_FULL_S = 180.0
ACCEPTED_X = 3.0
REFUSED_X = 2.0
SPEEDUP_X = 10.0

SAT_CALL = "import {m}\nvalue = {m}.add(1, 2)\nassert value == 3, f'add(1, 2) == {{value}} instead of 3'\n"
SAT_ABI3 = (
    "from pathlib import Path\nimport {m}\nassert '.abi3' in Path({m}.__file__).name, "
    "f'{{{m}.__file__}} is not abi3 extension'\n"
)
SAT_BUILD = (
    "import json, sys\nfrom build import ProjectBuilder\n"
    "print(ProjectBuilder(sys.argv[1]).build('wheel', sys.argv[2], config_settings=json.loads(sys.argv[3]) or None))\n"
)


@dataclass(frozen=True)
class HarnessRun:
    label: str
    wall_s: float | None  # None: not measured (note says why)
    records: tuple[dict[str, Any], ...]
    environment: dict[str, Any]
    note: str = ""

    @property
    def cells(self) -> int:
        return len(self.records)

    @property
    def reused(self) -> int:
        return sum(1 for r in self.records if r.get("reused_from"))

    @property
    def executed(self) -> list[dict[str, Any]]:
        """Cells that ran here: not a planned skip, not reused from an earlier run."""
        return [r for r in self.records if r["status"] != "skip" and r.get("wheel") and not r.get("reused_from")]


@dataclass(frozen=True)
class Timed:
    ok: bool
    seconds: float
    output: str


@dataclass(frozen=True)
class SatCell:
    cell: str
    accepted: bool  # what the harness's oracle expected
    build_s: float
    venv_s: float
    install_s: float
    import_s: float
    installed: bool
    works: bool
    venv_python: Path

    @property
    def total_s(self) -> float:
        return self.build_s + self.exec_s

    @property
    def exec_s(self) -> float:
        return self.venv_s + self.install_s + self.import_s


def accepted(record: Mapping[str, Any]) -> bool:
    return str(record["expected"]).startswith("install+work")


def refused(record: Mapping[str, Any]) -> bool:
    return str(record["expected"]).startswith("refuse")


def median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


# -- 1. the harness: cold, warm, --rerun ------------------------------------------------------------


def estimate_full(big: tuple[float, int], small: tuple[float, int], full_cells: int) -> float | None:
    """Wall time of *full_cells* from two (wall, cells) runs: a fixed part plus a per-cell part."""
    (big_s, big_n), (small_s, small_n) = big, small
    if big_n <= small_n or big_s <= small_s:
        return None  # no per-cell part to see: the noise is larger than the difference
    per_cell = (big_s - small_s) / (big_n - small_n)
    fixed = max(0.0, big_s - per_cell * big_n)
    return round(fixed + per_cell * full_cells, 1)


def rerun_supported() -> str:
    """ "" when `run --rerun` exists, else why not."""
    out = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--help"], cwd=REPO, capture_output=True, text=True, check=False
    )
    return "" if "--rerun" in out.stdout else "this harness has no `run --rerun` (merge main)"


def harness_run(label: str, work: Path, selection: Sequence[str], extra: Sequence[str] = ()) -> HarnessRun:
    results = work / "results"
    cmd = [sys.executable, "-m", "harness", "run", "--cache-dir", str(work / "cache"), "--results", str(results)]
    cmd += [*selection, *extra]
    print(f"+ {' '.join(cmd)}", file=sys.stderr, flush=True)
    start = time.monotonic()
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    (work / f"{label}.log").write_text(out.stdout + out.stderr)
    latest = results / "latest"
    if out.returncode not in (0, 1) or not (latest / "results.jsonl").is_file():
        tail = "\n".join((out.stderr or out.stdout).splitlines()[-15:])
        raise SystemExit(f"benchmark: `harness run` ({label}) exited {out.returncode}, no results:\n{tail}")
    lines = (latest / "results.jsonl").read_text().splitlines()
    environment = json.loads((latest / "environment.json").read_text())
    return HarnessRun(label, round(wall, 2), tuple(json.loads(line) for line in lines if line.strip()), environment)


def full_matrix_cells() -> int | None:
    """Cells of the whole default matrix on this machine (planning only, nothing runs)."""
    try:
        matrix = load_matrix(MATRIX, providers.names())
        found = discover(matrix, cache_dir())
        return plan(
            load_cases(matrix.cases_dir, providers.names()), matrix.targets, found.interpreters, select(found, [])
        ).total_cells
    except Exception as exc:  # an estimate only: say it is missing rather than stop the benchmark
        print(f"benchmark: cannot plan the full matrix ({exc}); no estimate", file=sys.stderr)
        return None


# -- 2. and 3. commands on one interpreter, on the host or in its rootfs -----------------------------


def launch(interp: Interpreter, argv: Sequence[str], work: Path) -> list[str]:
    return rootfs.command(interp.root, argv, [work]) if interp.root else list(argv)


def timed(
    interp: Interpreter, argv: Sequence[str], work: Path, env: Mapping[str, str] | None = None, timeout: float = 900
) -> Timed:
    full_env = None if env is None else {**os.environ, **env}
    start = time.monotonic()
    try:
        out = subprocess.run(
            launch(interp, argv, work), capture_output=True, text=True, env=full_env, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return Timed(False, time.monotonic() - start, f"timed out after {timeout:.0f}s")
    return Timed(out.returncode == 0, time.monotonic() - start, out.stdout + out.stderr)


def interpreters(run: HarnessRun) -> dict[str, Interpreter]:
    env = run.environment
    known = [*env.get("interpreters", []), *env.get("build_interpreter_facts", [])]
    return {data["id"]: Interpreter.from_json(data) for data in known}


def module_of(run: HarnessRun, case: str) -> str:
    return next(str(c["module"]) for c in run.environment["cases"] if c["id"] == case)


def sample(run: HarnessRun) -> list[dict[str, Any]]:
    """Per run interpreter: one accepted cell on its own wheel, one refused cell on another sampled wheel."""
    cells = [r for r in run.records if r["status"] != "skip" and r.get("wheel") and r["case"] == SAT_CASE]
    vs = [r for r in cells if r["target_kind"] == TargetKind.VERSION_SPECIFIC.value]
    cells = vs or cells
    runners = list(dict.fromkeys(r["run_python"] for r in cells))
    chosen: list[dict[str, Any]] = []
    for python in runners:
        mine = [r for r in cells if r["run_python"] == python]
        good = [r for r in mine if accepted(r) and r["build_python"] == python] or [r for r in mine if accepted(r)]
        chosen += good[:1]
    builders = {r["build_python"] for r in chosen}
    for python in runners:
        bad = [r for r in cells if r["run_python"] == python and refused(r)]
        chosen += ([r for r in bad if r["build_python"] in builders] or bad)[:1]
    return chosen


def sat_env(interp: Interpreter, pins: Mapping[str, str], work: Path) -> tuple[Path, float, str]:
    """The suite's tox environment for one interpreter: pip, build and the backend, made once."""
    env_dir = work / "sat" / f"env-{interp.id}"
    python = env_dir / "bin" / "python"
    steps = [
        [interp.path, "-m", "venv", str(env_dir)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "-U",
            "pip",
            "build",
            *(f"{k}=={v}" for k, v in sorted(pins.items())),
        ],
    ]
    total = 0.0
    for argv in steps:
        done = timed(interp, argv, work)
        total += done.seconds
        if not done.ok:
            return python, total, done.output.strip().splitlines()[-1] if done.output.strip() else "failed"
    return python, total, ""


def case_and_target(case_id: str, target_name: str) -> tuple[Case, Target]:
    matrix = load_matrix(MATRIX, providers.names())
    case = next(c for c in load_cases(matrix.cases_dir, providers.names()) if c.id == case_id)
    return case, next(t for t in matrix.targets if t.name == target_name)


def sat_build(
    record: Mapping[str, Any], interp: Interpreter, env_python: Path, work: Path
) -> tuple[Path | None, float]:
    """build.ProjectBuilder on the case (a copy: the method builds in its checkout, ours stays clean)."""
    case, target = case_and_target(record["case"], record["target"])
    recipe = case.recipe(target.kind)
    values = {
        "py_api": target.py_api,
        "limited_api_hex": target.limited_api_hex,
        "min_python": ".".join(map(str, target.min_python or ())),
        "module": case.module,
    }
    settings = {render(k, values): render(v, values) for k, v in (recipe.config_settings if recipe else ())}
    env = {k: render(v, values) for k, v in (recipe.env if recipe else ())}
    name = str(record["cell"]).replace("/", "_").replace(":", "_")
    src, out = work / "sat" / name / "src", work / "sat" / name / "dist"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(case.path, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    done = timed(interp, [str(env_python), "-c", SAT_BUILD, str(src), str(out), json.dumps(settings)], work, env)
    wheels = sorted(out.glob("*.whl")) if out.is_dir() else []
    if not done.ok or len(wheels) != 1:
        print(f"benchmark: ProjectBuilder failed for {name}: {done.output.strip()[-300:]}", file=sys.stderr)
        return None, done.seconds
    return wheels[0], done.seconds


def sat_cell(
    record: Mapping[str, Any],
    wheel: Path,
    build_s: float,
    run_interp: Interpreter,
    run_env_python: Path,
    module: str,
    work: Path,
) -> SatCell:
    cell_dir = work / "sat" / str(record["cell"]).replace("/", "_").replace(":", "_")
    venv_python = cell_dir / "venv" / "bin" / "python"
    venv = timed(run_interp, [run_interp.path, "-m", "venv", str(cell_dir / "venv")], work)
    install = Timed(False, 0.0, "no venv")
    checks = Timed(False, 0.0, "not installed")
    if venv.ok:
        argv = [str(run_env_python), "-m", "pip", "--python", str(venv_python), "install", str(wheel)]
        install = timed(run_interp, argv, work)
    if install.ok:
        call = timed(run_interp, [str(venv_python), "-c", SAT_CALL.format(m=module)], work)
        checks = call
        if call.ok and "abi3" in wheel.name:
            abi3 = timed(run_interp, [str(venv_python), "-c", SAT_ABI3.format(m=module)], work)
            checks = Timed(abi3.ok, call.seconds + abi3.seconds, abi3.output)
    return SatCell(
        str(record["cell"]),
        accepted(record),
        build_s,
        venv.seconds,
        install.seconds,
        checks.seconds,
        install.ok,
        checks.ok,
        venv_python,
    )


def bare_import(interp: Interpreter, venv_python: Path, module: str, work: Path, repeat: int) -> float | None:
    """Median wall time of `python -I -c "import m; m.add(1, 2)"` (one warm-up run first)."""
    argv = [str(venv_python), "-I", "-c", f"import {module}; {module}.add(1, 2)"]
    runs = [timed(interp, argv, work) for _ in range(repeat + 1)]
    if not all(r.ok for r in runs):
        return None
    return median([r.seconds for r in runs[1:]])


# -- the report ---------------------------------------------------------------------------------------


def verdict(value: float | None, limit: float, *, at_least: bool = False, estimated: bool = False) -> str:
    if value is None:
        return "unknown"
    met = value >= limit if at_least else value <= limit
    return ("est. " if estimated else "") + ("met" if met else "not met")


def fmt(value: float | None, unit: str = "s") -> str:
    return "n/a" if value is None else f"{value:.3f}{unit}" if unit == "s" else f"{value:.2f}{unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the whole default matrix (no subset)")
    parser.add_argument("--case", action="append", default=[], help=f"default: {' '.join(CASES)}")
    parser.add_argument("--target", action="append", default=[], help=f"default: {' '.join(TARGETS)}")
    parser.add_argument("--python", action="append", default=[], help=f"default: {' '.join(PYTHONS)} (those present)")
    parser.add_argument("--jobs", "-j", type=int, default=None, help="passed to harness run")
    parser.add_argument("--installer", default=None, help="passed to harness run")
    parser.add_argument("--repeat", type=int, default=BARE_REPEAT, help="bare imports per interpreter")
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep it (default: a temporary dir)")
    args = parser.parse_args()

    selection: list[str] = []
    small: list[str] = []  # a smaller selection, for the fixed and per-cell parts of the full-matrix estimate
    if not args.full:
        found = {i.id for i in discover(load_matrix(MATRIX, providers.names()), cache_dir()).interpreters}
        pythons = args.python or [p for p in PYTHONS if p in found]
        selection += [a for c in args.case or CASES for a in ("--case", c)]
        selection += [a for t in args.target or TARGETS for a in ("--target", t)]
        small = [*selection, "--python", pythons[0]] if len(pythons) > 1 else []
        selection += [a for p in pythons for a in ("--python", p)]
    extra = [
        *(["--jobs", str(args.jobs)] if args.jobs else []),
        *(["--installer", args.installer] if args.installer else []),
    ]

    with tempfile.TemporaryDirectory(prefix="abi-bench-") as tmp:
        work = (args.keep or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(work / "cache", ignore_errors=True)
        bench(args, work, selection, small, extra)


@dataclass(frozen=True)
class HarnessRuns:
    """The harness's own runs: cold, warm, --rerun, and the smaller selections the estimate needs."""

    cold: HarnessRun
    warm: HarnessRun
    rerun: HarnessRun
    warm_small: HarnessRun | None
    rerun_small: HarnessRun | None

    @property
    def reference(self) -> HarnessRun:
        """Executed cells on a warm wheel cache if possible."""
        return self.rerun if self.rerun.wall_s is not None else self.cold

    def all(self) -> list[HarnessRun]:
        return [r for r in (self.cold, self.warm, self.rerun, self.warm_small, self.rerun_small) if r is not None]


@dataclass(frozen=True)
class SatRun:
    """The stable-abi-testing method on sample cells: one test per cell, in parallel."""

    cells: list[SatCell]
    wall_s: float
    builds_s: list[float]
    setup_s: dict[str, float]
    workers: int


def bench(args: argparse.Namespace, work: Path, selection: list[str], small: list[str], extra: list[str]) -> None:
    runs = harness_runs(work, selection, small, extra)
    full_cells = runs.cold.cells if args.full else full_matrix_cells()
    interps = interpreters(runs.cold)
    sat = stable_abi_testing(args, work, runs.reference, interps)
    bare: dict[str, float] = {}
    for s in sorted(sat.cells, key=lambda s: interps[s.cell.split(":")[3]].version):
        python = s.cell.split(":")[3]
        if s.accepted and s.works and python not in bare:
            module = module_of(runs.reference, SAT_CASE)
            value = bare_import(interps[python], s.venv_python, module, work, args.repeat)
            if value is not None:
                bare[python] = value
    figures = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "full": args.full,
        "selection": " ".join(selection) or "whole default matrix",
        **run_figures(runs, full_cells, estimated=not args.full),
        **cell_figures(runs.reference, bare, args.repeat),
        **sat_figures(runs, sat, args.jobs),
    }
    print_table(figures, runs.all(), runs.cold, runs.rerun, sat.cells)
    print("BENCH " + json.dumps(figures, sort_keys=True))


def harness_runs(work: Path, selection: list[str], small: list[str], extra: list[str]) -> HarnessRuns:
    cold = harness_run("cold", work, selection, extra)
    warm = harness_run("warm", work, selection, extra)
    why_no_rerun = rerun_supported()
    if why_no_rerun:
        rerun = HarnessRun("rerun", None, (), {}, why_no_rerun)
    else:
        rerun = harness_run("rerun", work, selection, [*extra, "--rerun"])
    warm_small = harness_run("warm-small", work, small, extra) if small else None
    rerun_small = harness_run("rerun-small", work, small, [*extra, "--rerun"]) if small and not why_no_rerun else None
    return HarnessRuns(cold, warm, rerun, warm_small, rerun_small)


def stable_abi_testing(
    args: argparse.Namespace, work: Path, reference: HarnessRun, interps: dict[str, Interpreter]
) -> SatRun:
    """The stable-abi-testing method and its environments, on sample cells of the same run."""
    chosen = sample(reference)
    pins_by_python: dict[str, dict[str, str]] = {}
    for r in chosen:
        pins_by_python.setdefault(r["run_python"], {})
        pins_by_python.setdefault(r["build_python"], {}).update(r.get("build_tools") or {})
    envs: dict[str, Path] = {}
    setup_s: dict[str, float] = {}
    for python, pins in pins_by_python.items():
        env_python, seconds, problem = sat_env(interps[python], pins, work)
        setup_s[python] = round(seconds, 2)
        if problem:
            print(f"benchmark: stable-abi-testing environment for {python} failed: {problem}", file=sys.stderr)
        else:
            envs[python] = env_python
    # One test per cell, as the suite's test_install: its own build, venv, install and import; tests
    # in parallel on as many workers as the harness's jobs (the suite runs `pytest -n auto`).
    workers = args.jobs or os.cpu_count() or 2
    runnable = [r for r in chosen if r["build_python"] in envs and r["run_python"] in envs]
    builds_s: list[float] = []

    def test(r: dict[str, Any]) -> SatCell | None:
        b, p = r["build_python"], r["run_python"]
        wheel, build_s = sat_build(r, interps[b], envs[b], work)
        builds_s.append(build_s)
        if wheel is None:
            return None
        return sat_cell(r, wheel, build_s, interps[p], envs[p], module_of(reference, r["case"]), work)

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        sat = [s for s in pool.map(test, runnable) if s is not None]
    return SatRun(sat, time.monotonic() - start, builds_s, setup_s, workers)


def run_figures(runs: HarnessRuns, full_cells: int | None, *, estimated: bool) -> dict[str, Any]:
    """Wall times of the harness's runs, and the full matrix's (measured, or estimated from two selections)."""
    cold, warm, rerun = runs.cold, runs.warm, runs.rerun

    def scaled(run: HarnessRun, smaller: HarnessRun | None) -> float | None:
        if not estimated or run.wall_s is None:
            return run.wall_s
        if full_cells is None or smaller is None or smaller.wall_s is None:
            return None
        return estimate_full((run.wall_s, run.cells), (smaller.wall_s, smaller.cells), full_cells)

    cold_per_cell = cold.wall_s / cold.cells if cold.wall_s and cold.cells else None
    return {
        "cells": cold.cells,
        "cells_executed_rerun": len(rerun.executed) if rerun.wall_s is not None else None,
        "cold_s": cold.wall_s,
        "warm_s": warm.wall_s,
        "warm_reused": warm.reused,
        "rerun_s": rerun.wall_s,
        "rerun_note": rerun.note or None,
        "per_cell_wall_cold_s": round(cold_per_cell, 3) if cold_per_cell else None,
        "per_cell_wall_warm_s": round(warm.wall_s / warm.cells, 3) if warm.wall_s and warm.cells else None,
        "per_cell_wall_rerun_s": round(rerun.wall_s / rerun.cells, 3) if rerun.wall_s and rerun.cells else None,
        "per_cell_from": runs.reference.label,
        "full_matrix_cells": full_cells,
        "full_warm_s": scaled(warm, runs.warm_small),
        "full_rerun_s": scaled(rerun, runs.rerun_small),
        "warm_small_s": runs.warm_small.wall_s if runs.warm_small else None,
        "rerun_small_s": runs.rerun_small.wall_s if runs.rerun_small else None,
        "cells_small": runs.warm_small.cells if runs.warm_small else None,
        "full_estimated": estimated,
    }


def cell_figures(reference: HarnessRun, bare: dict[str, float], repeat: int) -> dict[str, Any]:
    """Per-cell durations the harness recorded, accepted and refused cells apart, against a bare import."""
    executed = reference.executed
    acc = [float(r["duration_s"]) for r in executed if accepted(r)]
    ref = [float(r["duration_s"]) for r in executed if refused(r)]
    # Ratios per cell against the bare import on the cell's own interpreter.
    acc_x = [
        float(r["duration_s"]) / bare[r["run_python"]] for r in executed if accepted(r) and r["run_python"] in bare
    ]
    ref_x = [float(r["duration_s"]) / bare[r["run_python"]] for r in executed if refused(r) and r["run_python"] in bare]
    by_python = {
        python: {
            "accepted_s": median(
                [float(r["duration_s"]) for r in executed if r["run_python"] == python and accepted(r)]
            ),
            "refused_s": median([float(r["duration_s"]) for r in executed if r["run_python"] == python and refused(r)]),
            "bare_import_s": seconds,
        }
        for python, seconds in bare.items()
    }
    return {
        "cells_accepted": len(acc),
        "cells_refused": len(ref),
        "per_cell_accepted_s": median(acc),
        "per_cell_refused_s": median(ref),
        "bare_import_s": median(list(bare.values())),
        "bare_import_by_python_s": bare,
        "per_cell_by_python": by_python,
        "bare_import_repeat": repeat,
        "ratio_accepted_vs_bare": median(acc_x),
        "ratio_refused_vs_bare": median(ref_x),
        "ratio_accepted_vs_bare_max": round(max(acc_x), 2) if acc_x else None,
        "ratio_refused_vs_bare_max": round(max(ref_x), 2) if ref_x else None,
    }


def sat_figures(runs: HarnessRuns, sat: SatRun, jobs: int | None) -> dict[str, Any]:
    """The stable-abi-testing method against the harness: per cell, per wall second, and the speedups."""
    by_cell = {r["cell"]: float(r["duration_s"]) for r in runs.reference.records}
    sat_wall_per_cell = sat.wall_s / len(sat.cells) if sat.cells else None
    sat_exec = median([s.exec_s for s in sat.cells])
    harness_same = median([by_cell[s.cell] for s in sat.cells if s.cell in by_cell])
    cold = runs.cold
    cold_per_cell = cold.wall_s / cold.cells if cold.wall_s and cold.cells else None
    speedup_scratch = ratio(sat_wall_per_cell, cold_per_cell)
    speedup_exec = ratio(sat_exec, harness_same)
    speedups = [x for x in (speedup_scratch, speedup_exec) if x is not None]
    return {
        "stable_abi_testing_cells": len(sat.cells),
        "stable_abi_testing_per_cell_s": median([s.total_s for s in sat.cells]),
        "stable_abi_testing_exec_per_cell_s": sat_exec,
        "stable_abi_testing_build_s": median(sat.builds_s),
        "stable_abi_testing_wall_s": round(sat.wall_s, 2),
        "stable_abi_testing_wall_per_cell_s": round(sat_wall_per_cell, 3) if sat_wall_per_cell else None,
        "stable_abi_testing_workers": sat.workers,
        "jobs": jobs or os.cpu_count(),
        "stable_abi_testing_setup_s": sat.setup_s,
        "harness_same_cells_per_cell_s": harness_same,
        "speedup_from_scratch_vs_stable_abi_testing": speedup_scratch,
        "speedup_exec_vs_stable_abi_testing": speedup_exec,
        "speedup_vs_stable_abi_testing": min(speedups) if speedups else None,
    }


def print_table(
    f: Mapping[str, Any], runs: Sequence[HarnessRun], cold: HarnessRun, rerun: HarnessRun, sat: Sequence[SatCell]
) -> None:
    print_runs(f, runs)
    print_cells(f)
    print_sat(f, cold, rerun, sat)
    print_targets(f)


def print_runs(f: Mapping[str, Any], runs: Sequence[HarnessRun]) -> None:
    print(f"selection: {f['selection']}")
    print(f"\n{'scenario':<34}{'wall':>10}{'cells':>7}{'reused':>8}{'executed':>10}{'s/cell':>9}")
    for run in runs:
        if run.wall_s is None:
            print(f"{run.label:<34}{'n/a':>10}  ({run.note})")
            continue
        per = run.wall_s / run.cells if run.cells else 0.0
        print(f"{run.label:<34}{run.wall_s:>9.1f}s{run.cells:>7}{run.reused:>8}{len(run.executed):>10}{per:>8.3f}s")


def print_cells(f: Mapping[str, Any]) -> None:

    print(f"\nper cell (duration_s of each executed cell, {f['per_cell_from']} run) against a bare import")
    print(f"{'':<34}{'median':>10}{'cells':>7}{'x bare':>9}{'max x':>9}")
    print(
        f"{'accepted cell':<34}{fmt(f['per_cell_accepted_s']):>10}{f['cells_accepted']:>7}"
        f"{fmt(f['ratio_accepted_vs_bare'], 'x'):>9}{fmt(f['ratio_accepted_vs_bare_max'], 'x'):>9}"
    )
    print(
        f"{'refused cell':<34}{fmt(f['per_cell_refused_s']):>10}{f['cells_refused']:>7}"
        f"{fmt(f['ratio_refused_vs_bare'], 'x'):>9}{fmt(f['ratio_refused_vs_bare_max'], 'x'):>9}"
    )
    print(f"\n{'on interpreter':<34}{'bare':>10}{'accepted':>10}{'x bare':>9}{'refused':>10}{'x bare':>9}")
    for python, row in f["per_cell_by_python"].items():
        bare_s, acc_s, ref_s = row["bare_import_s"], row["accepted_s"], row["refused_s"]
        print(
            f"{python:<34}{fmt(bare_s):>10}{fmt(acc_s):>10}{fmt(ratio(acc_s, bare_s), 'x'):>9}"
            f"{fmt(ref_s):>10}{fmt(ratio(ref_s, bare_s), 'x'):>9}"
        )
    print(f"(bare: median of {f['bare_import_repeat']} runs of python -I -c 'import m; m.add(1, 2)' after one warm-up)")


def print_sat(f: Mapping[str, Any], cold: HarnessRun, rerun: HarnessRun, sat: Sequence[SatCell]) -> None:

    print("\nstable-abi-testing method on sample cells (build + venv + pip install + import) against the harness")
    print(f"{'cell':<44}{'oracle':>8}{'build':>8}{'venv':>8}{'install':>9}{'import':>8}{'total':>8}{'harness':>9}")
    by_cell = {r["cell"]: float(r["duration_s"]) for r in (rerun.records or cold.records)}
    for s in sat:
        result = "works" if s.works else "refused" if not s.installed else "broken"
        print(
            f"{s.cell:<44}{'accept' if s.accepted else 'refuse':>8}{s.build_s:>7.2f}s{s.venv_s:>7.2f}s"
            f"{s.install_s:>8.2f}s{s.import_s:>7.2f}s{s.total_s:>7.2f}s{by_cell.get(s.cell, 0.0):>8.3f}s  {result}"
        )
    print(
        f"{'median per cell':<44}{'':>8}{fmt(f['stable_abi_testing_build_s']):>8}{'':>25}"
        f"{fmt(f['stable_abi_testing_per_cell_s']):>8}{fmt(f['harness_same_cells_per_cell_s']):>9}"
    )
    print(
        f"{'wall per cell':<44}{'':>8}{'':>33}{fmt(f['stable_abi_testing_wall_per_cell_s']):>8}"
        f"{fmt(f['per_cell_wall_cold_s']):>9}  ({f['stable_abi_testing_workers']} workers; harness: cold run)"
    )
    print(
        "environment setup per interpreter (the suite's tox env, not counted per cell):",
        f["stable_abi_testing_setup_s"],
    )


def print_targets(f: Mapping[str, Any]) -> None:

    est = (
        f" (full matrix, {f['full_matrix_cells']} cells, estimated: fixed + per-cell cost fitted on the subset's"
        f" {f['cells']} cells and {f['cells_small']} cells of its first interpreter; measure with --full)"
        if f["full_estimated"]
        else ""
    )
    print(f"\ntargets (issue 14){est}")
    rows = [
        (f"full matrix warm, nothing changed <= {WARM_FULL_S:.0f} s", f["full_warm_s"], "s", WARM_FULL_S, False),
        (f"full matrix --rerun, warm wheels <= {RERUN_FULL_S:.0f} s", f["full_rerun_s"], "s", RERUN_FULL_S, False),
        (f"accepted cell <= {ACCEPTED_X:.0f}x bare import", f["ratio_accepted_vs_bare"], "x", ACCEPTED_X, False),
        (f"refused cell <= {REFUSED_X:.0f}x bare import", f["ratio_refused_vs_bare"], "x", REFUSED_X, False),
        (
            f">= {SPEEDUP_X:.0f}x faster than stable-abi-testing",
            f["speedup_vs_stable_abi_testing"],
            "x",
            SPEEDUP_X,
            True,
        ),
    ]
    for i, (label, value, unit, limit, at_least) in enumerate(rows):
        shown = "n/a" if value is None else f"{value:.1f}{unit}"
        met = verdict(value, limit, at_least=at_least, estimated=i < 2 and f["full_estimated"])
        print(f"{label:<44}{shown:>10}  {met}")
    print(
        f"  (speedup, the smaller of: from scratch {fmt(f['speedup_from_scratch_vs_stable_abi_testing'], 'x')} ="
        " its tests' wall per cell / the harness's cold wall per cell, both on the same workers;"
        f" cell only {fmt(f['speedup_exec_vs_stable_abi_testing'], 'x')} = its venv+install+import / the same"
        " cells' duration_s)"
    )


if __name__ == "__main__":
    main()
