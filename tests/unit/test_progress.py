"""The run's terminal output when it is not a terminal (CI logs), on records of a real run
(tests/fixtures/records: a good and a deliberately broken setuptools case on cp38, cp39, cp312)."""

from __future__ import annotations

import io
import re

from harness.run.progress import PLAIN_INTERVAL_S, Progress
from harness.run.records import Record, decode_record
from tests.conftest import FIXTURES

RECORDS = [
    decode_record(line, source="broken-case.jsonl", number=n)
    for n, line in enumerate((FIXTURES / "records" / "broken-case.jsonl").read_bytes().splitlines(), 1)
    if line.strip()
]
COUNT_LINE = re.compile(r"\[\s*(\d+)/(\d+)\s+\d+% eta\s+\d+s\] (.*)")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def feed(records: list[Record], *, verbose: bool = False, seconds_per_cell: float = 0.0) -> list[str]:
    out, clock = io.StringIO(), Clock()
    progress = Progress(len(records), out, verbose=verbose, live=False, clock=clock)
    for record in records:
        clock.now += seconds_per_cell
        progress.cell(record)
    progress.close()
    return out.getvalue().splitlines()


def test_plain_shows_problems_and_counts_not_every_cell() -> None:
    lines = feed(RECORDS, seconds_per_cell=1.0)
    problems = [r for r in RECORDS if r.status == "fail"]
    assert len(problems) == 12
    assert [ln for ln in lines if not COUNT_LINE.fullmatch(ln)] == [f"fail    {r.cell}  {r.reason}" for r in problems]
    counts = [COUNT_LINE.fullmatch(ln) for ln in lines if COUNT_LINE.fullmatch(ln)]
    # one every PLAIN_INTERVAL_S (a cell per second here), and the last one at close()
    assert [int(m.group(1)) for m in counts if m] == [10, 20, 24]
    assert lines[-1] == "[24/24 100% eta    0s] pass 12, fail 12"
    assert not any(r.cell in ln for r in RECORDS if r.status == "pass" for ln in lines)


def test_plain_counts_every_tenth_of_a_long_run_even_when_fast() -> None:
    many = (RECORDS * 42)[:1000]
    lines = feed(many)  # the clock never moves: only the cell count triggers lines
    done = [int(m.group(1)) for ln in lines if (m := COUNT_LINE.fullmatch(ln))]
    assert done == list(range(100, 1001, 100))
    assert len(lines) == 10 + sum(r.status == "fail" for r in many)


def test_plain_verbose_prints_every_cell_once() -> None:
    lines = feed(RECORDS, verbose=True, seconds_per_cell=PLAIN_INTERVAL_S)
    assert len(lines) == len(RECORDS)
    for record, line in zip(RECORDS, lines, strict=True):
        assert line.endswith(f"{record.status:<7} {record.cell}  {record.reason[:110]}")
    assert lines[0].startswith("[ 1/24 eta")


def test_notes_only_with_verbose() -> None:
    for verbose, expected in ((False, []), (True, ["    built in 2.0s: x -> x.whl"])):
        out = io.StringIO()
        progress = Progress(0, out, verbose=verbose, live=False)
        progress.note("built in 2.0s: x -> x.whl")
        progress.close()
        assert out.getvalue().splitlines() == expected


def test_summary_follows_the_status_taxonomy_order() -> None:
    progress = Progress(len(RECORDS), io.StringIO(), live=False)
    for record in reversed(RECORDS):
        progress.cell(record)
    assert progress.summary() == "pass 12, fail 12"
    assert progress.eta_s() == 0.0


def test_live_display_prints_problem_cells_above_the_bar() -> None:
    out = io.StringIO()
    progress = Progress(len(RECORDS), out, live=True)
    for record in RECORDS:
        progress.cell(record)
    progress.close()
    text = out.getvalue()
    assert all(r.cell in text for r in RECORDS if r.status == "fail")
    assert not any(f"{r.cell} " in text for r in RECORDS if r.status == "pass")
