"""Measure the harness, never assert on it: one run, side by side, on a subset of the matrix or (--full) all of it.

    python benchmarks/run_bench.py [--full] [--case GLOB ...] [--target NAME ...] [--python ID ...] [--gate-python ID]

1. On one throwaway cache: `python -m harness run` cold (nothing cached), warm (same cache, nothing changed:
   cells reused) and warm with `--rerun` (every cell executed again, no wheel built); then `python -m harness
   gate --python NEW --rerun` (NEW: the newest GIL release CPython by default): wheels warm, every cell that
   concerns NEW executed, as for a rebuilt interpreter whose bytes changed. Without `--full` these run on a
   subset and are labelled so: a whole-matrix target is never judged from a subset (nothing is extrapolated).
2. A bare `python -I -c "import m; m.add(1, 2)"` of the same installed module on the same
   interpreter, repeated, against each executed cell's own `duration_s` (accepted and refused
   cells apart, from the `--rerun` run), and the same from a `--rerun --no-fork` run beside it (every
   load started as a new interpreter instead of forked from a waiting one: what forking saves), and from a
   `--rerun --jobs 1` run (one cell at a time, as the bare import is measured: what is left when the
   cells do not share the machine's cores with each other).
3. The stable-abi-testing method (Quansight-Labs/stable-abi-testing, tests/test_wheel.py) on sample
   cells of the same runs: per interpreter a prepared environment holding `build`, pip and the
   backend (its tox environment, set up once and not charged to the cells); per cell, as its
   `test_install`, `build.ProjectBuilder(src).build("wheel", out)` in the build interpreter's
   environment, `python -m venv` (with pip), `pip --python VENV install WHEEL`, then the import
   and `add(1, 2) == 3` (and the `.abi3` suffix check for abi3 wheels), each step stopping the
   cell when it fails, as `check=True` does there; cells on parallel workers (`pytest -n auto`).

Prints a table, each target of issue 21 as the measured figure, its ratio to the target and met / not met
(or "subset only"), and last one line `BENCH {json}` with every figure.
Long because it is one script, run as a file, measuring the harness and the methods it is compared with.
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
from harness.interpreters.discover import discover
from harness.model import Case, Interpreter, Target, TargetKind

REPO = Path(__file__).resolve().parent.parent
MATRIX = REPO / "matrix.toml"
CASES = ("setuptools/c-api", "sysconfig/c-api")
TARGETS = ("version-specific", "abi3")
PYTHONS = ("cp39", "cp312", "cp313", "cp315")
SAT_CASE = "setuptools/c-api"  # the stable-abi-testing sample: its own kind of case, version-specific wheels
BARE_REPEAT = 30

# Issue 21's targets (the speedup is issue 14's).
WARM_FULL_S = 30.0
GATE_S = 120.0
ACCEPTED_X = 5.0
REFUSED_X = 3.0
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


# -- 1. the harness: cold, warm, --rerun, and a gate -------------------------------------------------


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


def gate_run(label: str, work: Path, selection: Sequence[str], new: str, extra: Sequence[str] = ()) -> HarnessRun:
    """`python -m harness gate --python NEW --rerun` on the same cache: wheels warm, every cell of NEW executed
    (what a rebuilt interpreter costs: its bytes changed, so nothing of it is reused)."""
    results = work / "results"
    cmd = [sys.executable, "-m", "harness", "gate", "--python", new, "--rerun", "--json"]
    cmd += ["--cache-dir", str(work / "cache"), "--results", str(results), *selection, *extra]
    print(f"+ {' '.join(cmd)}", file=sys.stderr, flush=True)
    start = time.monotonic()
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    (work / f"{label}.log").write_text(out.stdout + out.stderr)
    try:
        verdict = json.loads(out.stdout)
        run_dir = Path(verdict["run_dir"])
        lines = (run_dir / "results.jsonl").read_text().splitlines()
        environment = json.loads((run_dir / "environment.json").read_text())
    except (ValueError, KeyError, OSError):
        tail = "\n".join((out.stderr or out.stdout).splitlines()[-15:])
        raise SystemExit(f"benchmark: `harness gate` ({label}) exited {out.returncode}, no verdict:\n{tail}") from None
    records = tuple(json.loads(line) for line in lines if line.strip())
    note = f"{new} against {verdict['baseline']}: {verdict['verdict']}"
    return HarnessRun(label, round(wall, 2), records, environment, note)


def newest_release(interps: Sequence[Interpreter]) -> str:
    """The gate's new build by default: the newest GIL release CPython (the one a core developer rebuilds)."""
    pool = [i for i in interps if i.is_cpython and not i.debug and not i.free_threaded]
    return max(pool, key=lambda i: i.version).id


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


@dataclass(frozen=True)
class Goal:
    """One target of issue 21 (and issue 14's speedup), with the figure measured for it."""

    label: str
    value: float | None
    unit: str  # "s" or "x"
    limit: float
    at_least: bool = False
    whole_matrix: bool = False  # the target is about the whole default matrix: only --full measures it

    def status(self, full: bool) -> str:
        """met / not met; a whole-matrix target measured on a subset is never met, only labelled."""
        if self.value is None:
            return "not measured"
        if self.whole_matrix and not full:
            return "subset only: not the target's measure (`--full` measures it)"
        met = self.value >= self.limit if self.at_least else self.value <= self.limit
        return "met" if met else "not met"

    @property
    def of_target(self) -> float | None:
        """The figure as a ratio of its target (above 1: that many times too slow)."""
        if self.value is None:
            return None
        return round(self.limit / self.value if self.at_least else self.value / self.limit, 2)


def goals(f: Mapping[str, Any]) -> list[Goal]:
    scope = "full matrix" if f["full"] else "subset"
    return [
        Goal(f"{scope} warm, nothing changed <= {WARM_FULL_S:.0f} s", f["warm_s"], "s", WARM_FULL_S, whole_matrix=True),
        Goal(
            f"{scope} gate of {f['gate_python']}, warm wheels <= {GATE_S:.0f} s",
            f["gate_s"],
            "s",
            GATE_S,
            whole_matrix=True,
        ),
        Goal(f"accepted cell <= {ACCEPTED_X:.0f}x bare import", f["ratio_accepted_vs_bare"], "x", ACCEPTED_X),
        Goal(f"refused cell <= {REFUSED_X:.0f}x bare import", f["ratio_refused_vs_bare"], "x", REFUSED_X),
        # The same, the cells one at a time (-j 1), as the bare import is measured: no cell waits for a
        # core another cell holds. Shown beside the rows above, which stay the figure of a normal run.
        Goal(
            f"accepted cell, one at a time <= {ACCEPTED_X:.0f}x", f.get("alone_ratio_accepted_vs_bare"), "x", ACCEPTED_X
        ),
        Goal(f"refused cell, one at a time <= {REFUSED_X:.0f}x", f.get("alone_ratio_refused_vs_bare"), "x", REFUSED_X),
        Goal(
            f">= {SPEEDUP_X:.0f}x faster than stable-abi-testing",
            f["speedup_vs_stable_abi_testing"],
            "x",
            SPEEDUP_X,
            at_least=True,
        ),
    ]


# The per-cell figures also taken from the `--rerun --no-fork` run ("started_") and the `--rerun --jobs 1`
# run ("alone_").
STARTED_KEYS = (
    "cells_accepted",
    "cells_refused",
    "per_cell_accepted_s",
    "per_cell_refused_s",
    "ratio_accepted_vs_bare",
    "ratio_refused_vs_bare",
    "ratio_accepted_vs_bare_max",
    "ratio_refused_vs_bare_max",
)


def fmt(value: float | None, unit: str = "s") -> str:
    return "n/a" if value is None else f"{value:.3f}{unit}" if unit == "s" else f"{value:.2f}{unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the whole default matrix (no subset)")
    parser.add_argument("--case", action="append", default=[], help=f"default: {' '.join(CASES)}")
    parser.add_argument("--target", action="append", default=[], help=f"default: {' '.join(TARGETS)}")
    parser.add_argument("--python", action="append", default=[], help=f"default: {' '.join(PYTHONS)} (those present)")
    parser.add_argument("--gate-python", default=None, help="the gate's new build (default: the newest GIL release)")
    parser.add_argument("--jobs", "-j", type=int, default=None, help="passed to harness run and gate")
    parser.add_argument("--installer", default=None, help="passed to harness run and gate")
    parser.add_argument("--repeat", type=int, default=BARE_REPEAT, help="bare imports per interpreter")
    parser.add_argument(
        "--skip-started", action="store_true", help="leave out the `--rerun --no-fork` run (loads started anew)"
    )
    parser.add_argument(
        "--skip-alone", action="store_true", help="leave out the `--rerun --jobs 1` run (one cell at a time)"
    )
    parser.add_argument(
        "--seed-cache",
        type=Path,
        default=None,
        help="hard-link this cache's wheels, remembered build failures and pins into the fresh cache first: "
        "the cold row then builds nothing and executes every cell (said in its label)",
    )
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep it (default: a temporary dir)")
    args = parser.parse_args()

    found = discover(load_matrix(MATRIX, providers.names()), cache_dir()).interpreters
    selection: list[str] = []
    gate_selection: list[str] = []  # the gate runs on every interpreter; a subset narrows cases and targets only
    if not args.full:
        present = {i.id for i in found}
        pythons = args.python or [p for p in PYTHONS if p in present]
        gate_selection += [a for c in args.case or CASES for a in ("--case", c)]
        gate_selection += [a for t in args.target or TARGETS for a in ("--target", t)]
        selection = [*gate_selection, *(a for p in pythons for a in ("--python", p))]
    extra = [
        *(["--jobs", str(args.jobs)] if args.jobs else []),
        *(["--installer", args.installer] if args.installer else []),
    ]
    new = args.gate_python or newest_release(found)

    with tempfile.TemporaryDirectory(prefix="abi-bench-") as tmp:
        work = (args.keep or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(work / "cache", ignore_errors=True)
        if args.seed_cache:
            seed(args.seed_cache, work / "cache")
        bench(args, work, Selection(selection, gate_selection, new, extra))


SEEDED = ("wheels", "build-failures", "pins", "build-requires")


def seed(source: Path, cache: Path) -> None:
    """Hard links of *source*'s build outputs (never its observations: every cell still executes)."""
    for part in SEEDED:
        if (source / part).is_dir():
            shutil.copytree(source / part, cache / part, copy_function=os.link)


@dataclass(frozen=True)
class Selection:
    run: list[str]  # --case/--target/--python for `run` (empty with --full)
    gate: list[str]  # --case/--target for `gate`
    new: str  # the gate's new build
    extra: list[str]  # --jobs, --installer


def bench(args: argparse.Namespace, work: Path, sel: Selection) -> None:
    cold = harness_run("cold, builds seeded" if args.seed_cache else "cold", work, sel.run, sel.extra)
    warm = harness_run("warm", work, sel.run, sel.extra)
    why_no_rerun = rerun_supported()
    if why_no_rerun:
        rerun = HarnessRun("rerun", None, (), {}, why_no_rerun)
    else:
        rerun = harness_run("rerun", work, sel.run, [*sel.extra, "--rerun"])
    started, alone = other_reruns(args, work, sel, why_no_rerun)
    gate = gate_run("gate --rerun", work, sel.gate, sel.new, sel.extra)
    reference = rerun if rerun.wall_s is not None else cold  # executed cells on a warm wheel cache if possible
    per_cell, sat_cells, sat = cells_against_bare_and_sat(args, work, cold, reference)
    figures: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "full": args.full,
        "selection": " ".join(sel.run) or "whole default matrix",
        "seeded_from": str(args.seed_cache) if args.seed_cache else None,
        "cells": cold.cells,
        "cells_executed_rerun": len(rerun.executed) if rerun.wall_s is not None else None,
        "cold_s": cold.wall_s,
        "warm_s": warm.wall_s,
        "warm_reused": warm.reused,
        "rerun_s": rerun.wall_s,
        "rerun_note": rerun.note or None,
        "gate_python": sel.new,
        "gate_s": gate.wall_s,
        "gate_cells": gate.cells,
        "gate_executed": len(gate.executed),
        "gate_verdict": gate.note,
        "gate_selection": " ".join(sel.gate) or "whole default matrix",
        "per_cell_wall_cold_s": round(cold.wall_s / cold.cells, 3) if cold.wall_s and cold.cells else None,
        "per_cell_wall_warm_s": round(warm.wall_s / warm.cells, 3) if warm.wall_s and warm.cells else None,
        "per_cell_wall_rerun_s": round(rerun.wall_s / rerun.cells, 3) if rerun.wall_s and rerun.cells else None,
        "per_cell_from": reference.label,
        **per_cell,
        **beside(per_cell["bare_import_by_python_s"], started, "started"),
        **beside(per_cell["bare_import_by_python_s"], alone, "alone"),
        **sat,
        "bare_import_repeat": args.repeat,
    }
    figures["speedup_from_scratch_vs_stable_abi_testing"] = ratio(
        figures["stable_abi_testing_wall_per_cell_s"], figures["per_cell_wall_cold_s"]
    )
    speedups = [
        x
        for x in (figures["speedup_from_scratch_vs_stable_abi_testing"], figures["speedup_exec_vs_stable_abi_testing"])
        if x is not None
    ]
    # Seeded builds make the cold row no start from scratch: the comparison then is not made at all.
    figures["speedup_vs_stable_abi_testing"] = min(speedups) if speedups and not args.seed_cache else None
    figures["goals"] = [
        {"goal": g.label, "value": g.value, "of_target": g.of_target, "status": g.status(args.full)}
        for g in goals(figures)
    ]
    print_table(figures, [cold, warm, rerun, started, alone, gate], sat_cells)
    print("BENCH " + json.dumps(figures, sort_keys=True))


def beside(bare: Mapping[str, float], run: HarnessRun, name: str) -> dict[str, Any]:
    """*run*'s wall time and per-cell figures under `rerun_<name>_s` and `<name>_...` (None when left out)."""
    figures = per_cell_figures(run.executed, bare) if run.wall_s is not None else {}
    return {f"rerun_{name}_s": run.wall_s, **{f"{name}_{k}": figures.get(k) for k in STARTED_KEYS}}


def other_reruns(
    args: argparse.Namespace, work: Path, sel: Selection, why_no_rerun: str
) -> tuple[HarnessRun, HarnessRun]:
    """`--rerun --no-fork` (loads started anew) and `--rerun --jobs 1` (one cell at a time), unless left out."""
    started = HarnessRun("rerun --no-fork", None, (), {}, why_no_rerun or "left out (--skip-started)")
    alone = HarnessRun("rerun --jobs 1", None, (), {}, why_no_rerun or "left out (--skip-alone)")
    if not why_no_rerun and not args.skip_started:
        started = harness_run("rerun --no-fork", work, sel.run, [*sel.extra, "--rerun", "--no-fork"])
    if not why_no_rerun and not args.skip_alone:
        unjobbed = [a for n, a in enumerate(sel.extra) if a != "--jobs" and (n == 0 or sel.extra[n - 1] != "--jobs")]
        alone = harness_run("rerun --jobs 1", work, sel.run, [*unjobbed, "--rerun", "--jobs", "1"])
    return started, alone


def cells_against_bare_and_sat(
    args: argparse.Namespace, work: Path, cold: HarnessRun, reference: HarnessRun
) -> tuple[dict[str, Any], list[SatCell], dict[str, Any]]:
    """Per-cell durations against a bare import, and the stable-abi-testing method on sample cells."""
    executed = reference.executed
    interps = interpreters(cold)
    sat, sat_figures = stable_abi_testing(args, work, interps, reference)
    bare: dict[str, float] = {}
    for s in sorted(sat, key=lambda s: interps[s.cell.split(":")[3]].version):
        python = s.cell.split(":")[3]
        if s.accepted and s.works and python not in bare:
            value = bare_import(interps[python], s.venv_python, module_of(reference, SAT_CASE), work, args.repeat)
            if value is not None:
                bare[python] = value
    by_cell = {r["cell"]: float(r["duration_s"]) for r in reference.records}
    sat_figures["harness_same_cells_per_cell_s"] = median([by_cell[s.cell] for s in sat if s.cell in by_cell])
    sat_figures["speedup_exec_vs_stable_abi_testing"] = ratio(
        sat_figures["stable_abi_testing_exec_per_cell_s"], sat_figures["harness_same_cells_per_cell_s"]
    )
    return per_cell_figures(executed, bare), sat, sat_figures


def per_cell_figures(executed: Sequence[Mapping[str, Any]], bare: Mapping[str, float]) -> dict[str, Any]:
    """Each executed cell's duration_s, accepted and refused apart, as a ratio of the bare import on its interpreter."""

    def durations(keep: Any, python: str | None = None) -> list[float]:
        return [float(r["duration_s"]) for r in executed if keep(r) and python in (None, r["run_python"])]

    def ratios(keep: Any) -> list[float]:
        return [float(r["duration_s"]) / bare[r["run_python"]] for r in executed if keep(r) and r["run_python"] in bare]

    acc_x, ref_x = ratios(accepted), ratios(refused)
    return {
        "cells_accepted": len(durations(accepted)),
        "cells_refused": len(durations(refused)),
        "per_cell_accepted_s": median(durations(accepted)),
        "per_cell_refused_s": median(durations(refused)),
        "bare_import_s": median(list(bare.values())),
        "bare_import_by_python_s": dict(bare),
        "per_cell_by_python": {
            python: {
                "accepted_s": median(durations(accepted, python)),
                "refused_s": median(durations(refused, python)),
                "bare_import_s": seconds,
            }
            for python, seconds in bare.items()
        },
        "ratio_accepted_vs_bare": median(acc_x),
        "ratio_refused_vs_bare": median(ref_x),
        "ratio_accepted_vs_bare_max": round(max(acc_x), 2) if acc_x else None,
        "ratio_refused_vs_bare_max": round(max(ref_x), 2) if ref_x else None,
    }


def stable_abi_testing(
    args: argparse.Namespace, work: Path, interps: Mapping[str, Interpreter], reference: HarnessRun
) -> tuple[list[SatCell], dict[str, Any]]:
    """Its tox environments once per interpreter (not charged), then one test per sample cell, in parallel."""
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
    wall = time.monotonic() - start
    return sat, {
        "stable_abi_testing_cells": len(sat),
        "stable_abi_testing_per_cell_s": median([s.total_s for s in sat]),
        "stable_abi_testing_exec_per_cell_s": median([s.exec_s for s in sat]),
        "stable_abi_testing_build_s": median(builds_s),
        "stable_abi_testing_wall_s": round(wall, 2),
        "stable_abi_testing_wall_per_cell_s": round(wall / len(sat), 3) if sat else None,
        "stable_abi_testing_workers": workers,
        "jobs": args.jobs or os.cpu_count(),
        "stable_abi_testing_setup_s": setup_s,
    }


def print_table(f: Mapping[str, Any], runs: Sequence[HarnessRun], sat: Sequence[SatCell]) -> None:
    print(f"selection: {f['selection']}; gate: {f['gate_selection']}")
    print(f"\n{'scenario':<34}{'wall':>10}{'cells':>7}{'reused':>8}{'executed':>10}{'s/cell':>9}")
    for run in runs:
        if run.wall_s is None:
            print(f"{run.label:<34}{'n/a':>10}  ({run.note})")
            continue
        per = run.wall_s / run.cells if run.cells else 0.0
        print(f"{run.label:<34}{run.wall_s:>9.1f}s{run.cells:>7}{run.reused:>8}{len(run.executed):>10}{per:>8.3f}s")
    print(f"gate verdict: {f['gate_verdict']}")
    print_per_cell(f)
    print_sat(f, sat)
    print_goals(f)


def print_per_cell(f: Mapping[str, Any]) -> None:
    print(f"\nper cell (duration_s of each executed cell, {f['per_cell_from']} run) against a bare import")
    print(f"{'':<34}{'median':>10}{'cells':>7}{'x bare':>9}{'max x':>9}")
    for prefix, how in (("", "loads forked"), ("started_", "loads started anew"), ("alone_", "one at a time")):
        for kind in ("accepted", "refused"):
            if f.get(f"{prefix}cells_{kind}") is None:
                continue
            row = {key: f[f"{prefix}{key.format(kind)}"] for key in ("per_cell_{}_s", "cells_{}", "ratio_{}_vs_bare")}
            worst = f[f"{prefix}ratio_{kind}_vs_bare_max"]
            print(
                f"{f'{kind} cell, {how}':<34}{fmt(row['per_cell_{}_s']):>10}{row['cells_{}']:>7}"
                f"{fmt(row['ratio_{}_vs_bare'], 'x'):>9}{fmt(worst, 'x'):>9}"
            )
    print(f"\n{'on interpreter':<34}{'bare':>10}{'accepted':>10}{'x bare':>9}{'refused':>10}{'x bare':>9}")
    for python, row in f["per_cell_by_python"].items():
        bare_s, acc_s, ref_s = row["bare_import_s"], row["accepted_s"], row["refused_s"]
        print(
            f"{python:<34}{fmt(bare_s):>10}{fmt(acc_s):>10}{fmt(ratio(acc_s, bare_s), 'x'):>9}"
            f"{fmt(ref_s):>10}{fmt(ratio(ref_s, bare_s), 'x'):>9}"
        )
    print(f"(bare: median of {f['bare_import_repeat']} runs of python -I -c 'import m; m.add(1, 2)' after one warm-up)")


def print_sat(f: Mapping[str, Any], sat: Sequence[SatCell]) -> None:
    print("\nstable-abi-testing method on sample cells (build + venv + pip install + import) against the harness")
    print(f"{'cell':<44}{'oracle':>8}{'build':>8}{'venv':>8}{'install':>9}{'import':>8}{'total':>8}")
    for s in sat:
        result = "works" if s.works else "refused" if not s.installed else "broken"
        print(
            f"{s.cell:<44}{'accept' if s.accepted else 'refuse':>8}{s.build_s:>7.2f}s{s.venv_s:>7.2f}s"
            f"{s.install_s:>8.2f}s{s.import_s:>7.2f}s{s.total_s:>7.2f}s  {result}"
        )
    print(
        f"median per cell: {fmt(f['stable_abi_testing_per_cell_s'])} (harness, same cells: "
        f"{fmt(f['harness_same_cells_per_cell_s'])}); wall per cell {fmt(f['stable_abi_testing_wall_per_cell_s'])} "
        f"on {f['stable_abi_testing_workers']} workers (harness cold: {fmt(f['per_cell_wall_cold_s'])})"
    )
    print(
        "environment setup per interpreter (the suite's tox env, not counted per cell):",
        f["stable_abi_testing_setup_s"],
    )


def print_goals(f: Mapping[str, Any]) -> None:
    scope = "the whole default matrix" if f["full"] else "a SUBSET (whole-matrix targets are not measured by it)"
    print(f"\ntargets (issue 21; speedup: issue 14), measured on {scope}")
    print(f"{'target':<52}{'measured':>10}{'x target':>10}  status")
    for goal in goals(f):
        shown = (
            "n/a"
            if goal.value is None
            else f"{goal.value:.1f}{goal.unit}"
            if goal.unit == "s"
            else f"{goal.value:.2f}x"
        )
        of = "n/a" if goal.of_target is None else f"{goal.of_target:.2f}"
        print(f"{goal.label:<52}{shown:>10}{of:>10}  {goal.status(f['full'])}")
    print(
        "  (x target: the figure over its target, above 1 means that many times too slow; speedup: the smaller of"
        f" from scratch {fmt(f['speedup_from_scratch_vs_stable_abi_testing'], 'x')} and per cell"
        f" {fmt(f['speedup_exec_vs_stable_abi_testing'], 'x')})"
    )


if __name__ == "__main__":
    main()
