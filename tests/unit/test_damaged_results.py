"""Damaged results are reported, never shrunk; a failed write names the file and keeps what was written."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import pytest

from harness.__main__ import main
from harness.errors import DamagedResults, HarnessError
from harness.run.records import SCHEMA_VERSION, Writer, completed, load, read
from tests.unit.test_results import record

CELLS = ["a/x:abi3:cp39:cp39", "a/x:abi3:cp39:cp312", "b/y:abi3:cp39:cp39"]
OLD_REPORT = "the report of the complete run\n"


_DROP = object()


def line(cell_id: str, **change: Any) -> str:
    data = record(cell_id, "fail").to_json() | change
    for key in [k for k, v in change.items() if v is _DROP]:
        del data[key]
    return json.dumps(data, sort_keys=True)


def run_dir(tmp_path: Path, lines: list[str], tail: str = "\n", environment: str | None = "{}") -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.jsonl").write_text("\n".join(lines) + tail)
    if environment is not None:
        (run / "environment.json").write_text(environment)
    (run / "report.md").write_text(OLD_REPORT)
    return run


DAMAGED = [
    # (id, lines, environment.json, the bad line number, what the message says)
    ("truncated-middle", [line(CELLS[0]), line(CELLS[1])[:50], line(CELLS[2])], "{}", 2, "not valid JSON"),
    ("garbage", ["hello", "world"], "{}", 1, "not valid JSON"),
    ("not-an-object", [line(CELLS[0]), "[1, 2]"], "{}", 2, "expected object, got array"),
    ("missing-status", [line(CELLS[0]), line(CELLS[1], status=_DROP)], "{}", 2, "missing required field status"),
    ("missing-cell", [line(CELLS[0], cell=_DROP)], "{}", 1, "missing required field cell"),
    (
        "unknown-status",
        [line(CELLS[0]), line(CELLS[1], status="meh")],
        "{}",
        2,
        'status: expected one of pass, fail, xfail, xpass, skip, crash, timeout, error, got "meh"',
    ),
    ("other-schema", [line(CELLS[0], schema_version=SCHEMA_VERSION + 7)], "{}", 1, "schema_version"),
    ("no-schema", [line(CELLS[0], schema_version=_DROP)], "{}", 1, "schema_version None"),
    ("wrong-type", [line(CELLS[0], reason=5)], "{}", 1, "reason: expected str, got int"),
    ("bool-for-float", [line(CELLS[0], duration_s=True)], "{}", 1, "duration_s: expected float, got bool"),
    ("duplicate-cell", [line(CELLS[0]), line(CELLS[0])], "{}", 2, "cell a/x:abi3:cp39:cp39 again (first on line 1)"),
    ("latin1", [line(CELLS[0]), '{"reason": "caf\udce9"}'], "{}", 2, "not valid JSON: invalid UTF-8"),
]


@pytest.mark.parametrize(
    ("lines", "environment", "bad_line", "says"), [d[1:] for d in DAMAGED], ids=[d[0] for d in DAMAGED]
)
def test_report_refuses_damaged_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str], environment: str, bad_line: int, says: str
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.jsonl").write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))
    (run / "environment.json").write_text(environment)
    (run / "report.md").write_text(OLD_REPORT)
    assert main(["report", str(run)]) == 3
    err = capsys.readouterr().err
    assert f"{run / 'results.jsonl'}:{bad_line}: {says}" in err
    assert "damaged results: " in err
    assert "unreadable record line(s)" in err
    assert "Traceback" not in err
    assert (run / "report.md").read_text() == OLD_REPORT  # nothing rebuilt from less than the file holds


def test_count_of_unreadable_records(tmp_path: Path) -> None:
    run = run_dir(tmp_path, ["x", line(CELLS[0]), "y", "z"])
    with pytest.raises(DamagedResults, match=r"3 unreadable record line\(s\) beside 1 readable"):
        load(run)


@pytest.mark.parametrize("environment", ["{", "[]", "\udce9"], ids=["truncated", "a-list", "latin1"])
def test_corrupt_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str], environment: str) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.jsonl").write_text(line(CELLS[0]) + "\n")
    (run / "environment.json").write_bytes(environment.encode("utf-8", "surrogateescape"))
    (run / "report.md").write_text(OLD_REPORT)
    assert main(["report", str(run)]) == 3
    err = capsys.readouterr().err
    assert f"{run / 'environment.json'}: " in err
    assert "Traceback" not in err
    assert (run / "report.md").read_text() == OLD_REPORT


def test_torn_last_line_is_skipped_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Only an interrupted write (a last line without its newline) may be skipped."""
    run = run_dir(tmp_path, [line(CELLS[0]), line(CELLS[1]), line(CELLS[2])[:40]], tail="")
    assert main(["report", str(run)]) == 0
    err = capsys.readouterr().err
    assert (
        f"{run / 'results.jsonl'}:3: skipped the last line, cut short by an interrupted write (2 records read)" in err
    )
    assert (run / "report.md").read_text() != OLD_REPORT


def test_garbage_without_newline_is_damage(tmp_path: Path) -> None:
    """Only the beginning of a record can be a cut-short write; other text is damage, last line or not."""
    run = run_dir(tmp_path, ["garbage"], tail="")
    with pytest.raises(DamagedResults, match=r"results\.jsonl:1: not valid JSON"):
        load(run)


def test_bad_last_line_with_newline_is_damage(tmp_path: Path) -> None:
    """A complete (newline-ended) line that is not a record was not cut short: it is damage."""
    run = run_dir(tmp_path, [line(CELLS[0]), line(CELLS[1])[:40]])
    with pytest.raises(DamagedResults, match=r"results\.jsonl:2: not valid JSON"):
        load(run)


def test_read_never_raises_on_content(tmp_path: Path) -> None:
    run = run_dir(tmp_path, [line(CELLS[0]), "junk", line(CELLS[2])[:30]], tail="")
    loaded = read(run)
    assert [r.cell for r in loaded.records] == [CELLS[0]]
    assert loaded.problems == [f"{run / 'results.jsonl'}:2: not valid JSON: invalid character (byte 0)"]
    assert loaded.torn_last_line == 3


def test_completed_needs_an_environment(tmp_path: Path) -> None:
    run = run_dir(tmp_path, [line(CELLS[0])], environment=None)
    with pytest.raises(DamagedResults, match=r"environment\.json: missing; this run cannot be resumed"):
        completed(run)


class _FullDisk:
    """A results file on a disk that fills up after *room* lines."""

    def __init__(self, real: Any, room: int) -> None:
        self.real, self.room = real, room

    def write(self, text: str) -> int:
        if self.room == 0:
            self.real.write(text[:17])  # a partial line, as a full disk leaves it
            self.real.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= 1
        return int(self.real.write(text))

    def flush(self) -> None:
        self.real.flush()

    def close(self) -> None:
        self.real.close()


def test_disk_full_names_the_file_and_keeps_every_record(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "run")
    writer._file = _FullDisk(writer._file, room=2)  # type: ignore[assignment]
    writer.write(record(CELLS[2]))
    writer.write(record(CELLS[0]))
    with pytest.raises(HarnessError) as info:
        writer.write(record(CELLS[1]))
    message = str(info.value)
    assert f"{tmp_path / 'run' / 'results.jsonl'}: cannot write results: No space left on device" in message
    assert "the 2 records written before are intact" in message
    writer.close()  # no sorted rewrite after a failure: the appended lines stay as they are
    records, _ = load(tmp_path / "run")  # the partial line is the torn last line
    assert [r.cell for r in records] == [CELLS[2], CELLS[0]]


def test_unwritable_results_file(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.jsonl").mkdir()  # cannot be opened for appending
    with pytest.raises(HarnessError, match=r"results\.jsonl: cannot write results: Is a directory"):
        Writer(tmp_path / "run")
