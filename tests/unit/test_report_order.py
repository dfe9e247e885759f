"""The reports do not depend on the order in which cells finished: the same records in any order give
byte-identical report.md, report.html, junit.xml and summary.md (two otherwise identical runs diff clean
as files). Drawn from the recorded runs in tests/fixtures/runs and the free-threaded 3.14 records."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from harness.reports import diff as diffs
from harness.reports import write
from harness.run.manifest import RunManifest
from harness.run.records import Record, decode_record, load
from tests.conftest import FIXTURES

RUNS = FIXTURES / "runs"
FORMATS = ("md", "html", "junit", "summary")


def free_threaded() -> tuple[list[Record], RunManifest]:
    """The free-threaded records (findings of crashes and refusals) with the base run's manifest."""
    path = FIXTURES / "free-threaded-3.14" / "records.jsonl"
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    return [decode_record(line, source=path, number=n) for n, line in enumerate(lines, 1)], load(RUNS / "base")[1]


def written(tmp: Path, records: list[Record], environment: RunManifest, change: diffs.Diff | None) -> dict[str, bytes]:
    tmp.mkdir()
    write.write(tmp, records, environment, FORMATS, change=change, baseline_id="base")
    return {name: (tmp / write.OUTPUTS[name]).read_bytes() for name in FORMATS}


def shuffled(records: list[Record], seed: int) -> list[Record]:
    out = list(records)
    random.Random(seed).shuffle(out)
    return out


@pytest.mark.parametrize("source", ["base", "regressed", "free-threaded"])
def test_every_report_is_the_same_whatever_order_the_cells_finished_in(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)  # summary.md only, no CI file appended to
    records, environment = free_threaded() if source == "free-threaded" else load(RUNS / source)
    baseline = load(RUNS / "base")[0]
    # The recorded order, and that order reversed: the sections these runs fill (known issues, skips,
    # loaded anyway, problems) each hold several cells, so an unsorted list shows up as a difference.
    expected = written(tmp_path / "recorded", records, environment, diffs.diff(baseline, records))
    assert source != "base" or b"## Known issues (6 cells)" in expected["md"]
    orders = [list(reversed(records)), *(shuffled(records, seed) for seed in range(4))]
    for n, order in enumerate(orders):
        change = diffs.diff(shuffled(baseline, n), order)
        got = written(tmp_path / f"order-{n}", order, environment, change)
        for name in FORMATS:
            assert got[name] == expected[name], f"{source}: {write.OUTPUTS[name]} differs in order {n}"
