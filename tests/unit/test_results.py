from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.model import Status, TargetKind
from harness.run.manifest import RunManifest
from harness.run.records import SCHEMA_VERSION, Record, Writer, load, point_latest


def record(cell: str, status: str = "pass") -> Record:
    case, target, build, run = cell.split(":")
    return Record(
        run_id="r",
        cell=cell,
        case=case,
        backend=case.split("/")[0],
        binding=case.split("/")[1],
        target=target,
        target_kind=TargetKind(target),
        build_python=build,
        run_python=run,
        status=Status(status),
        reason="why",
        stage="call",
        expected="install+work",
        schema_version=SCHEMA_VERSION,
    )


def test_round_trip_and_sorted(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "run")
    writer.write(record("b/x:abi3:cp39:cp313"))
    writer.write(record("a/x:abi3:cp39:cp39", "fail"))
    # Written as finished, readable before the end:
    assert len((tmp_path / "run" / "results.jsonl").read_text().splitlines()) == 2
    writer.close()
    records, environment = load(tmp_path / "run")
    assert [r.cell for r in records] == ["a/x:abi3:cp39:cp39", "b/x:abi3:cp39:cp313"]
    assert records[0] == record("a/x:abi3:cp39:cp39", "fail")
    assert environment == RunManifest()
    first = json.loads((tmp_path / "run" / "results.jsonl").read_text().splitlines()[0])
    required = {
        "schema_version",
        "run_id",
        "case",
        "backend",
        "binding",
        "target",
        "wheel",
        "wheel_tags",
        "build_python",
        "run_python",
        "installer",
        "expected",
        "status",
        "reason",
        "duration_s",
        "log",
    }
    assert required <= first.keys()
    assert first["schema_version"] == SCHEMA_VERSION


def test_truncated_last_line_is_skipped(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    line = json.dumps(record("a/x:abi3:cp39:cp39").to_json())
    (run / "results.jsonl").write_text(line + "\n" + line[:30])
    records, _ = load(run)
    assert len(records) == 1


def test_other_schema_is_an_error(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    data = record("a/x:abi3:cp39:cp39").to_json() | {"schema_version": 99}
    (run / "results.jsonl").write_text(json.dumps(data) + "\n")
    with pytest.raises(HarnessError, match=r"results\.jsonl:1: schema_version 99"):
        load(run)


def test_unknown_status_is_an_error(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.jsonl").write_text(json.dumps({**record("a/x:abi3:cp39:cp39").to_json(), "status": "meh"}) + "\n")
    with pytest.raises(HarnessError, match=r'results\.jsonl:1: status: expected one of pass, .*, got "meh"'):
        load(run)


def test_missing_run_dir(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="no results here"):
        load(tmp_path)


def test_latest_points_at_newest(tmp_path: Path) -> None:
    for name in ("run1", "run2"):
        (tmp_path / name).mkdir()
        point_latest(tmp_path, tmp_path / name)
    assert (tmp_path / "latest").resolve() == (tmp_path / "run2").resolve()
