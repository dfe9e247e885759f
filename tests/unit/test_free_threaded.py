"""The free-threaded paths (judge, report, diff, merge) on the records of a real free-threaded
CPython 3.14.7 run (tests/fixtures/free-threaded-3.14/README.md), not on facts made up by hand.

The fixture extensions that omit Py_mod_gil (tests/fixtures/extensions/setuptools/gil-c-api and
gil-cython) cannot run on a free-threaded build here: their cells on 3.14t are the recorded
observation of the multi-phase C API module built on cp314t (setuptools/c-api, which declares
Py_MOD_GIL_NOT_USED), with the one thing a module without Py_mod_gil changes: CPython (3.13+,
Python/import.c) re-enables the GIL on import and warns, naming the module.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cell.observe import Observed, Route
from harness.config.matrix import load_matrix
from harness.interpreters import providers
from harness.model import Cell, Status, Target
from harness.reports import diff, markdown
from harness.run import manifest
from harness.run import records as results
from harness.run.manifest import InterpreterEntry, RunManifest, ShardInfo
from harness.run.merge import merge
from harness.run.records import Record
from harness.schema.decode import convert
from harness.verdict.judge import CellFacts, judge
from harness.verdict.stages import threads_stage
from tests.conftest import REPO, recorded, recorded_cell, recorded_free_threaded
from tests.unit.structs import replace

FT_BUILT = "setuptools/c-api:version-specific:cp314t:cp314t"
WARNING = (
    "RuntimeWarning: The global interpreter lock (GIL) has been enabled to load module '{module}', which has "
    "not declared that it can run safely without the GIL. To override this behavior and keep the GIL "
    "disabled (at your own risk), run with PYTHON_GIL=0 or -Xgil=0."
)
GIL_FIXTURES = ("abitest_setuptools_gil_c_api", "abitest_setuptools_gil_cython")


def records() -> list[Record]:
    return [convert(r, Record, source="recorded") for r in recorded_free_threaded()]


def target(name: str) -> Target:
    return next(t for t in load_matrix(REPO / "matrix.toml", providers.names()).targets if t.name == name)


def facts(cell: str, observed: Observed | None = None) -> CellFacts:
    parsed = Cell.parse(cell)
    return CellFacts(
        cell=parsed,
        target=target(parsed.target),
        build=recorded(parsed.build_python),
        run=recorded(parsed.run_python),
        observed=observed or convert(recorded_cell(cell)["observed"], Observed, source="recorded"),
    )


def gil_reenabled(module: str) -> Observed:
    """The recorded cp314t import, as it goes for a module that does not declare Py_mod_gil."""
    observed = convert(recorded_cell(FT_BUILT)["observed"], Observed, source="recorded")
    loads = tuple(
        replace(x, import_warnings=(WARNING.format(module=module),), gil_enabled_after_import=True)
        if x.route is Route.INSTALLED
        else x
        for x in observed.loads
    )
    return replace(observed, loads=loads)


@pytest.mark.parametrize("cell", [r["cell"] for r in recorded_free_threaded() if r["case"] != "maturin/cffi"])
def test_recorded_verdicts_are_derived_again(cell: str) -> None:
    """Every recorded 3.14t verdict comes back from its observations under today's matrix.toml."""
    record = recorded_cell(cell)
    verdict = judge(facts(cell), load_matrix(REPO / "matrix.toml", providers.names()).known_issues)
    assert (verdict.status.value, verdict.stage, verdict.reason) == (
        record["status"],
        record["stage"],
        record["reason"],
    )


def test_threads_stage_passes_on_the_recorded_build() -> None:
    load = convert(recorded_cell(FT_BUILT)["observed"], Observed, source="recorded").load(Route.INSTALLED)
    assert load is not None
    stage = threads_stage(recorded("cp314t"), load)
    assert (stage.status, stage.reason) == (Status.PASS, "GIL stays disabled; 16000 concurrent calls correct")
    assert threads_stage(recorded("cp314"), load).status is Status.SKIP


@pytest.mark.parametrize("module", GIL_FIXTURES)
def test_module_without_py_mod_gil_fails_the_threads_stage_naming_it(module: str) -> None:
    verdict = judge(facts(FT_BUILT, gil_reenabled(module)), [])
    assert (verdict.status, verdict.stage) == (Status.FAIL, "threads")
    assert verdict.reason.startswith(f"import re-enabled the GIL: '{module}' did not declare it runs without it")
    assert verdict.reason.endswith("; sys._is_gil_enabled() is True after import")
    assert verdict.stages["call"].status == "pass"  # the calls themselves were right


def environment() -> RunManifest:
    ids = ("cp314", "cp314t")
    return RunManifest(run_id="recorded-314t", interpreters=tuple(InterpreterEntry.of(recorded(i)) for i in ids))


def test_report_shows_the_free_threaded_column_and_its_findings() -> None:
    text = markdown.markdown(records(), environment())
    assert "No free-threaded interpreter found" not in text
    assert "| target | wheel tag | built on | cp314 | cp314t |" in text
    assert "| abi3 | `cp39-abi3-linux_x86_64` | cp39 |  | 🚫 |" in text  # refused by tag (PEP 803)
    # the forced loads: 3.14t turns GIL-built modules away at init, GIL 3.14 the cp314t-built one
    # (examples in cell order, whatever order the records came in)
    by_path = "`meson-python/cython:abi3:cp39:cp314t`, `scikit-build-core/nanobind:version-specific:cp314:cp314t`"
    assert f"| by_path | clean error | 8 | {by_path}, " in text
    sys_path = "`meson-python/cython:abi3:cp39:cp314t`, `setuptools/c-api:abi3:cp39:cp314t`"
    assert f"| sys_path | clean error | 2 | {sys_path} |" in text


def test_diff_names_the_cell_whose_threads_stage_broke() -> None:
    before = records()
    failed = judge(facts(FT_BUILT, gil_reenabled(GIL_FIXTURES[0])), [])
    after = [replace(r, **failed.record_fields()) if r.cell == FT_BUILT else r for r in before]
    d = diff.diff(before, after)
    assert [(c.cell, c.before, c.after) for c in d.regressions] == [(FT_BUILT, "pass", "fail")]
    assert f"'{GIL_FIXTURES[0]}' did not declare it" in diff.text(d)


def test_merge_of_two_shards_gives_back_the_recorded_run(tmp_path: Path) -> None:
    mine = records()
    wheels = sorted({f"{r.case}:{r.target}:{r.build_python}" for r in mine})
    dirs = []
    for k in (1, 2):
        run_dir = tmp_path / f"shard-{k}"
        part = [r for r in mine if wheels.index(f"{r.case}:{r.target}:{r.build_python}") % 2 == k - 1]
        (run_dir / "logs" / "cells").mkdir(parents=True)
        results.write_sorted(run_dir / results.RESULTS_FILE, part)
        shard = ShardInfo(index=k, count=2, plan_digest="d1")
        manifest.write(run_dir, environment().with_changes(run_id=f"r{k}", shard=shard))
        dirs.append(run_dir)
    merged, env = merge(dirs, tmp_path / "out")
    assert [r.to_json() for r in merged] == [r.to_json() for r in sorted(mine, key=lambda r: r.cell)]
    assert [i.id for i in env.interpreters] == ["cp314", "cp314t"]
    assert json.loads((tmp_path / "out" / results.RESULTS_FILE).read_text().splitlines()[0])["cell"] == merged[0].cell
