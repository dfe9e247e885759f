"""Damaged results are reported, never shrunk; a failed write names the file and keeps what was written."""

from __future__ import annotations

import errno
import json
import re
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


# --- The typed schema: every field of a record and of environment.json, through every reader ----------
# Damage is made in a copy of a recorded run (tests/fixtures/runs/base) by setting one field path to a
# wrong value; each row is run through each command that reads the run. Each must exit 3, name the file,
# the line and the field path, print no traceback and rewrite nothing (records, environment, report).

BASE = Path(__file__).resolve().parents[1] / "fixtures" / "runs" / "base"
_SAME = object()  # keep the value: the row only removes a key or replaces the whole line


def _set(data: Any, path: str, value: Any) -> Any:
    """A copy of *data* with the value at a field path like 'observed.loads[0].outcome' replaced (or a key
    removed, for value _DROP)."""
    steps = [int(s[1:-1]) if s.startswith("[") else s for s in re.findall(r"[^.\[\]]+|\[\d+\]", path)]
    data = json.loads(json.dumps(data))
    here = data
    for step in steps[:-1]:
        here = here[step]
    if value is _DROP:
        del here[steps[-1]]
    else:
        here[steps[-1]] = value
    return data


RECORD_DAMAGE = [
    # (id, field path, value, what the message says after "results.jsonl:1: ")
    ("target-with-dots", "target", "../x", "cell 'setuptools/c-api:abi3-312:cp312:cp312' is not case:target"),
    ("run-python-empty", "run_python", "", "cell 'setuptools/c-api:abi3-312:cp312:cp312' is not case:target"),
    ("run-id-a-path", "run_id", "x/../../victim", "run_id: 'x/../../victim' holds '..'"),
    ("run-id-empty", "run_id", "", "run_id: empty"),
    ("build-python-a-dot", "build_python", ".", "cell 'setuptools/c-api:abi3-312:cp312:cp312' is not case:target"),
    ("loads-a-string", "observed.loads", "abc", "observed.loads: expected array, got str"),
    ("installers-5", "observed.installers", 5, "observed.installers: expected array, got int"),
    ("findings-[5]", "findings", [5], "findings[0]: expected object, got int"),
    ("ext_files-[5]", "ext_files", [5], "ext_files[0]: expected str, got int"),
    ("cell-not-an-id", "cell", "not a cell", "cell: a cell id is CASE:TARGET:BUILD_PYTHON:RUN_PYTHON"),
    (
        "cell-of-another-record",
        "cell",
        "a/b:abi3:cp39:cp39",
        "cell 'a/b:abi3:cp39:cp39' is not case:target:build_python:run_python",
    ),
    (
        "outcome-x",
        "observed.loads[0].outcome",
        "x",
        'observed.loads[0].outcome: expected one of loaded, exception, crash, timeout, no-report, got "x"',
    ),
    ("route-x", "observed.loads[0].route", "x", "observed.loads[0].route: expected one of installed, sys_path"),
    ("duration-infinity", "duration_s", float("inf"), "not valid JSON: invalid character"),  # Python writes Infinity
    ("duration-1e7", "duration_s", 1e8, "duration_s: expected float <= 10000000"),
    ("duration-negative", "duration_s", -1, "duration_s: expected float >= 0"),
    ("duration-a-string", "duration_s", "1.5", "duration_s: expected float, got str"),
    ("timeout-huge", "observed.loads[0].timeout_s", 1e30, "observed.loads[0].timeout_s: expected float <= 10000000"),
    ("returncode-float", "observed.loads[0].returncode", 1.5, "observed.loads[0].returncode: expected int"),
    ("call-ok-a-string", "observed.loads[0].calls[0].ok", "yes", "observed.loads[0].calls[0].ok: expected bool"),
    (
        "call-missing-actual",
        "observed.loads[0].calls[0].actual",
        _DROP,
        "observed.loads[0].calls[0]: missing required field actual",
    ),
    ("calls-[5]", "observed.loads[0].calls", [5], "observed.loads[0].calls[0]: expected object, got int"),
    (
        "threads-negative",
        "observed.loads[0].threads",
        {"threads": -1, "calls": 0, "errors": []},
        "observed.loads[0].threads.threads: expected int >= 0",
    ),
    (
        "threads-errors-5",
        "observed.loads[0].threads",
        {"threads": 8, "calls": 8, "errors": 5},
        "observed.loads[0].threads.errors: expected array, got int",
    ),
    (
        "compiled-a-string",
        "observed.loads[0].compiled.PY_VERSION_HEX",
        "x",
        "observed.loads[0].compiled.PY_VERSION_HEX: expected int | null, got str",
    ),
    ("compiled-unknown-macro", "observed.loads[0].compiled.Py_FOO", 1, "observed.loads[0].compiled: unknown field"),
    ("files-[5]", "observed.loads[0].files", [5], "observed.loads[0].files[0]: expected object, got int"),
    (
        "abi-info-a-string",
        "observed.loads[0].files",
        [{"file": "m.so", "module": "m", "abi_info": {"major": "x"}}],
        "observed.loads[0].files[0].abi_info.major: expected int, got str",
    ),
    (
        "warnings-[5]",
        "observed.loads[0].import_warnings",
        [5],
        "observed.loads[0].import_warnings[0]: expected str, got int",
    ),
    (
        "dependencies-a-string",
        "observed.loads[0].dependencies",
        "cffi",
        "observed.loads[0].dependencies: expected object, got str",
    ),
    ("two-loads-one-route", "observed.loads[1]", _SAME, "observed: two loads by one route"),
    ("installer-env-null", "observed.installers[0].env", None, "observed.installers[0].env: expected object"),
    ("installer-name-empty", "observed.installers[0].name", "", "observed.installers[0].name: expected str of length"),
    (
        "answer-ok-1",
        "observed.installers[0].resolve.ok",
        1,
        "observed.installers[0].resolve.ok: expected bool, got int",
    ),
    ("installed-load-no-installer", "observed.installers", [], "observed: an installed load with no installer"),
    ("audit-findings-[5]", "observed.audit.findings", [5], "observed.audit.findings[0]: expected object, got int"),
    (
        "audit-needs-one-number",
        "observed.audit.findings",
        [{"file": "m.so", "message": "x", "needs": [3]}],
        "observed.audit.findings[0].needs: expected array of length 2",
    ),
    ("audit-platform-a-list", "observed.audit.platform", ["GLIBC"], "observed.audit.platform: expected object"),
    ("build-ok-missing", "observed.build.ok", _DROP, "observed.build: missing required field ok"),
    ("build-tools-[1]", "observed.build.tools", [1], "observed.build.tools: expected object, got array"),
    ("wheel-tags-a-string", "observed.wheel.tags", "cp39-abi3", "observed.wheel.tags: expected array, got str"),
    ("observed-version-2", "observed.version", 2, "observed: version 2; this harness reads observations of version 1"),
    ("observed-unknown-field", "observed.extra", 1, "observed: unknown field extra"),
    ("observed-a-list", "observed", [1], "observed: expected object | null, got array"),
    ("unknown-field", "extra", 1, "unknown field extra"),
    ("status-5", "status", 5, "status: expected str, got int"),
    ("status-unknown", "status", "meh", "status: expected one of pass, fail, xfail, xpass, skip, crash, timeout"),
    ("target-kind-abi4", "target_kind", "abi4", "target_kind: expected one of version-specific, abi3, abi3t"),
    ("stage-status-meh", "stages.call.status", "meh", "stages[...].status: expected one of pass, fail"),
    ("stages-a-list", "stages", ["call"], "stages: expected object, got array"),
    ("finding-kind-x", "findings", [{"route": "by_path", "kind": "x", "detail": ""}], "findings[0].kind: expected"),
    ("finding-route-x", "findings", [{"route": "x", "kind": "crash", "detail": ""}], "findings[0].route: expected"),
    ("wheel-tags-[1]", "wheel_tags", [1], "wheel_tags[0]: expected str, got int"),
    ("build-tools-versions-1", "build_tools", {"setuptools": 1}, "build_tools[...]: expected str, got int"),
    ("reused-from-5", "reused_from", 5, "reused_from: expected str | null, got int"),
    ("packaging-accepts-1", "packaging_accepts", 1, "packaging_accepts: expected bool | null, got int"),
    ("schema-1", "schema_version", 1, "schema_version 1; this harness reads 2"),
    ("schema-a-string", "schema_version", "2", "schema_version '2'; this harness reads 2"),
    ("no-schema", "schema_version", _DROP, "schema_version None; this harness reads 2"),
]
WHOLE_LINE_DAMAGE = [
    # (id, the line's bytes, what the message says after "results.jsonl:1: ")
    ("a-list", b"[1, 2]", "expected object, got array"),
    ("bytes-ff-fe", b"\xff\xfe", "not valid JSON"),
    ("null", b"null", "expected object, got null"),
    ("a-number", b"5", "expected object, got int"),
    ("nan", b'{"duration_s": NaN}', "not valid JSON"),
    ("two-objects", b"{} {}", "missing required field run_id"),
    ("latin1-text", b'{"reason": "caf\xe9"}', "not valid JSON: invalid UTF-8"),
    ("deep-nesting", b"[" * 5000 + b"]" * 5000, "expected object, got array"),
]
COMMANDS = {
    # name: (argv given the damaged run and a place for new output, may it write into the run)
    "report": lambda run, out: ["report", str(run)],
    "rejudge": lambda run, out: ["report", str(run), "--rejudge"],
    "diff": lambda run, out: ["diff", str(BASE), str(run)],
    "diff-new": lambda run, out: ["diff", str(run), str(BASE)],
    "merge": lambda run, out: ["merge", str(run), "--out", str(out)],
}


def _real_record() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BASE / "results.jsonl").read_text().splitlines()[0])
    return data


def _damaged_line(path: str, value: Any) -> bytes:
    data = _real_record()
    if value is _SAME:  # the row duplicates the element before the path's last index
        parent = path.rsplit("[", 1)[0]
        loads = _set(data, parent, None)  # a copy to read the list from
        first = json.loads(json.dumps(data))
        for step in re.findall(r"[^.\[\]]+", parent):
            first = first[step]
        data = _set(loads, parent, [first[0], first[0]])
    else:
        data = _set(data, path, value)
    return json.dumps(data, sort_keys=True).encode()


def _shard_run(tmp_path: Path, line: bytes, environment: bytes | None = None) -> Path:
    """A one-line copy of the recorded run, marked as shard 1/1 so merge reads past its shard check."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.jsonl").write_bytes(line + b"\n")
    env = json.loads((BASE / "environment.json").read_text())
    env["shard"] = {"index": 1, "count": 1, "plan_digest": "d"}
    (run / "environment.json").write_bytes(environment if environment is not None else json.dumps(env).encode())
    (run / "report.md").write_text(OLD_REPORT)
    return run


def _refused_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str], run: Path, command: str, says: str) -> None:
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    out = tmp_path / "out"
    assert main(COMMANDS[command](run, out)) == 3
    err = capsys.readouterr().err
    assert says in err, err
    assert "Traceback" not in err
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # nothing rewritten, nothing added
    assert not out.exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(("path", "value", "says"), [r[1:] for r in RECORD_DAMAGE], ids=[r[0] for r in RECORD_DAMAGE])
def test_a_damaged_record_field_is_named_by_every_reader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, path: str, value: Any, says: str
) -> None:
    run = _shard_run(tmp_path, _damaged_line(path, value))
    _refused_untouched(tmp_path, capsys, run, command, f"{run / 'results.jsonl'}:1: {says}")


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(("line", "says"), [r[1:] for r in WHOLE_LINE_DAMAGE], ids=[r[0] for r in WHOLE_LINE_DAMAGE])
def test_a_line_that_is_no_record_is_named_by_every_reader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, line: bytes, says: str
) -> None:
    run = _shard_run(tmp_path, line)
    _refused_untouched(tmp_path, capsys, run, command, f"{run / 'results.jsonl'}:1: {says}")


ENVIRONMENT_DAMAGE = [
    # (id, field path, value, what the message says after "environment.json: ")
    ("interpreters-[{}]", "interpreters", [{}], "interpreters[0]: missing required field id"),
    ("targets-abi3", "targets", "abi3", "targets: expected array, got str"),
    ("interpreters-only-ids", "interpreters", ["cp312", "cp313"], "interpreters[0]: expected object, got str"),
    ("interpreter-version-3.x.y", "interpreters[0].version", "3.x.y", "interpreters[0].version: expected str matching"),
    ("interpreter-id-with-colon", "interpreters[0].id", "cp:312", "interpreters[0]: id: 'cp:312': use letters, digits"),
    ("interpreter-id-with-slash", "interpreters[0].id", "../cp312", "interpreters[0]: id: '../cp312' holds '..'"),
    ("interpreter-id-empty", "interpreters[0].id", "", "interpreters[0]: id: empty"),
    ("interpreter-free-threaded-1", "interpreters[0].free_threaded", 1, "interpreters[0].free_threaded: expected bool"),
    (
        "interpreter-suffixes-a-string",
        "interpreters[0].ext_suffixes",
        ".so",
        "interpreters[0].ext_suffixes: expected array, got str",
    ),
    ("interpreter-unknown-field", "interpreters[0].extra", 1, "interpreters[0]: unknown field extra"),
    ("interpreters-twice", "interpreters[1].id", "cp312", "interpreters: an id twice (cp312)"),
    ("build-facts-[{}]", "build_interpreter_facts", [{}], "build_interpreter_facts[0]: missing required field id"),
    ("target-kind-abi4", "targets[0].kind", "abi4", "targets[0].kind: expected one of version-specific, abi3"),
    ("target-min-python-2", "targets[1].min_python", "3", "targets[1].min_python: expected str matching"),
    ("target-name-with-colon", "targets[0].name", "a:b", "targets[0]: name: 'a:b': use letters, digits"),
    ("shard-index-two", "shard.index", "two", "shard.index: expected int, got str"),
    ("shard-index-0", "shard.index", 0, "shard.index: expected int >= 1"),
    ("shard-3-of-2", "shard", {"index": 3, "count": 2}, "shard: shard 3/2: the index is past the count"),
    ("shard-count-huge", "shard.count", 100_000_000_000, "shard.count: expected int <= 10000"),
    ("shard-a-list", "shard", [1, 1], "shard: expected object, got array"),
    ("host-cpus-0", "host.cpus", 0, "host.cpus: expected int >= 1"),
    ("argv-a-string", "argv", "run", "argv: expected array, got str"),
    ("excluded-[[1]]", "excluded", [[1]], "excluded[0][0]: expected str, got int"),
    ("excluded-[[a]]", "excluded", [["a"]], "excluded[0]: expected array of length 2"),
    ("cases-[{}]", "cases", [{}], "cases[0]: missing required field id"),
    ("case-id-no-binding", "cases[0].id", "maturin", "cases[0]: id 'maturin' is not backend/binding"),
    ("case-targets-bogus", "cases[0].targets", ["abi4"], "cases[0].targets[0]: expected one of"),
    ("run-id-5", "run_id", 5, "run_id: expected str, got int"),
    ("schema-3", "schema_version", 3, "schema_version 3; this harness reads 2"),
    ("unknown-key", "surprise", 1, "unknown field surprise"),
    ("interrupted-yes", "interrupted", "yes", "interrupted: expected bool, got str"),
    ("shards-[5]", "shards", [5], "shards[0]: expected object, got int"),
    ("gate-{}", "gate", {}, "gate: missing required field new"),
]
WHOLE_ENVIRONMENT_DAMAGE = [
    ("a-list", b"[]", "expected object, got array"),
    ("truncated", b"{", "not valid JSON: input data was truncated"),
    ("bytes-ff-fe", b"\xff\xfe", "not valid JSON"),
    ("null", b"null", "expected object, got null"),
]


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(
    ("path", "value", "says"), [r[1:] for r in ENVIRONMENT_DAMAGE], ids=[r[0] for r in ENVIRONMENT_DAMAGE]
)
def test_a_damaged_environment_field_is_named_by_every_reader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, path: str, value: Any, says: str
) -> None:
    env = json.loads((BASE / "environment.json").read_text())
    env["shard"] = {"index": 1, "count": 1, "plan_digest": "d"}
    line = (BASE / "results.jsonl").read_bytes().splitlines()[0]
    run = _shard_run(tmp_path, line, json.dumps(_set(env, path, value)).encode())
    _refused_untouched(tmp_path, capsys, run, command, f"{run / 'environment.json'}: {says}")


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(
    ("text", "says"), [r[1:] for r in WHOLE_ENVIRONMENT_DAMAGE], ids=[r[0] for r in WHOLE_ENVIRONMENT_DAMAGE]
)
def test_an_environment_that_is_no_manifest_is_named_by_every_reader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, text: bytes, says: str
) -> None:
    run = _shard_run(tmp_path, (BASE / "results.jsonl").read_bytes().splitlines()[0], text)
    _refused_untouched(tmp_path, capsys, run, command, f"{run / 'environment.json'}: {says}")
