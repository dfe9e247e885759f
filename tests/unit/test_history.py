"""The nightly's history (history.json), from recorded runs: base, then regressed, as two nights."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import msgspec
import pytest

from harness.__main__ import main
from harness.errors import DamagedResults
from harness.reports import history
from harness.reports.html import decode_data, html_report
from harness.run import records as results
from harness.schema.history import HISTORY_FILE
from harness.workflows.nightly import carry_history
from tests.conftest import FIXTURES

BASE, REGRESSED = FIXTURES / "runs" / "base", FIXTURES / "runs" / "regressed"


def two_nights(tmp_path: Path) -> Path:
    """A merged-run directory holding the regressed run, its history carried from the base run."""
    out = tmp_path / "merged"
    out.mkdir()
    for name in (results.RESULTS_FILE, results.ENVIRONMENT_FILE):
        shutil.copy(REGRESSED / name, out / name)
    records, environment = results.load(out)
    carry_history(out, BASE, records, environment, [], say=lambda _: None)
    return out


def test_a_night_counts_what_the_overview_shows() -> None:
    records, environment = results.load(REGRESSED)
    night, codes = history.night(records, environment)
    assert sum(night.counts.values()) == len(records) == len(codes)
    assert night.counts["fail"] == sum(r.status == "fail" for r in records)
    assert night.problems == {r.cell: "fail" for r in records if r.status == "fail"}
    assert night.run_id == environment.run_id
    assert night.tools["installer"] == environment.installer
    assert "setuptools" in night.tools  # a build backend's version, from the records' build_tools
    assert sum(night.findings.values()) == sum(len(r.findings) for r in records)


def test_carried_from_a_baseline_without_history(tmp_path: Path) -> None:
    out = two_nights(tmp_path)
    carried = history.read(out)
    assert carried is not None
    base_env = json.loads((BASE / results.ENVIRONMENT_FILE).read_text())
    assert [n.run_id for n in carried.nights] == [base_env["run_id"], carried.nights[1].run_id]
    first, second = carried.nights
    assert not first.problems
    assert len(second.problems) == 6
    strips = history.strips(carried)
    cell = next(iter(second.problems))
    assert strips[cell][-1] == "f"
    assert strips[cell][0] in "px"  # the base run's pass or xfail
    # Tonight's run as the next night's baseline: the history grows, a rerun of a night replaces it.
    records, environment = results.load(out)
    again = tmp_path / "again"
    shutil.copytree(out, again)
    carry_history(again, out, records, environment, [], say=lambda _: None)
    assert len(history.required(again).nights) == 2  # same run id as the baseline's last night


def test_oldest_nights_dropped(tmp_path: Path) -> None:
    records, environment = results.load(REGRESSED)
    entry, codes = history.night(records, environment)
    carried = None
    for n in range(history.KEEP + 3):
        carried = history.extend(carried, msgspec.structs.replace(entry, run_id=f"night-{n}"), codes)
    assert carried is not None
    assert len(carried.nights) == history.KEEP
    assert carried.nights[0].run_id == "night-3"
    assert all(len(n.statuses) == len(carried.cells) for n in carried.nights)


def test_history_command_and_damaged_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = two_nights(tmp_path)
    assert main(["history", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("history: 2 nights")
    assert "problem cells tonight (6)" in printed
    assert main(["history", str(tmp_path)]) == 2  # no history.json there
    assert f"no {HISTORY_FILE}" in capsys.readouterr().err
    (out / HISTORY_FILE).write_text((out / HISTORY_FILE).read_text().replace('"version": 1', '"version": 7'))
    with pytest.raises(DamagedResults, match=r"history.json: version: "):
        history.read(out)
    assert main(["history", str(out)]) == 3


def test_page_plots_the_nights_and_gives_each_cell_its_strip(tmp_path: Path) -> None:
    out = two_nights(tmp_path)
    records, environment = results.load(out)
    carried = history.required(out)
    page = html_report(records, environment, history=carried)
    assert "id='history-plot'" in page
    assert page.count("<polyline") == len({s for n in carried.nights for s in n.counts})
    data = decode_data(page)
    assert data["nights"] == [n.run_id for n in carried.nights]
    strips = {c["cell"]: c["history"] for c in data["cells"]}
    assert strips == {cell: s for cell, s in history.strips(carried).items() if cell in strips}
    assert len(strips) == len(records)
