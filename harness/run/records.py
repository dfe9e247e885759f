"""Versioned JSON records: appended as cells finish, sorted at the end, loadable to rebuild any report."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import msgspec

from harness.cell.observe import Observed, Seconds
from harness.errors import DamagedResults, HarnessError
from harness.infra import atomic
from harness.infra.paths import UnsafePath, part_problem, within
from harness.model import Cell, Status, TargetKind
from harness.run import manifest
from harness.run.manifest import RunManifest
from harness.schema.decode import failure, printable
from harness.schema.ids import check_ids
from harness.verdict.judge import Finding
from harness.verdict.stages import StageResult

# 2: `observed` (what happened) apart from the verdict; `findings`. Decoded strictly since the typed
# schema (same fields, same JSON): a record with an unknown field or a wrong type is damaged, not skipped.
SCHEMA_VERSION = 2
NO_BUILD = "-"  # build_python of a cell skipped at planning (no build interpreter was chosen)
RESULTS_FILE = "results.jsonl"
ENVIRONMENT_FILE = manifest.ENVIRONMENT_FILE
SURFACE_FILE = "surface.md"  # a run's Surface section (written by `run`)
PREFERENCE_FILE = "preference.json"  # `preference --output RUN_DIR/preference.json` (the nightly writes it)


class Record(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One cell's outcome. Field names are the public record format (results/README.md); this type is
    the only reader and writer of a results.jsonl line."""

    run_id: str
    cell: str
    case: str
    backend: str
    binding: str
    target: str
    target_kind: TargetKind
    build_python: str
    run_python: str
    status: Status
    reason: str
    stage: str
    expected: str
    expected_rule: str = ""
    wheel: str | None = None
    wheel_tags: tuple[str, ...] = ()
    ext_files: tuple[str, ...] = ()
    installer: str | None = None  # the installers' versions, "uv 0.13.9, pip 26.0.1"
    packaging_accepts: bool | None = None
    known_issue: str | None = None
    build_cached: bool | None = None
    build_tools: dict[str, str] = {}
    build_log: str | None = None
    duration_s: Seconds = 0.0
    log: str | None = None
    stages: dict[str, StageResult] = {}  # audit, resolve, install, import, call, threads, load:<route>
    findings: tuple[Finding, ...] = ()  # refused binaries loaded anyway, no net promised
    observed: Observed | None = None  # everything the verdict is derived from
    reused_from: str | None = None  # the run whose observations were reused (nothing they depend on changed)
    schema_version: int  # required: a line without one is of no known schema

    def __post_init__(self) -> None:
        """The cell id is its four parts, the case its backend and binding (checked on decode too)."""
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version}; this harness reads {SCHEMA_VERSION}")
        try:
            cell = Cell.parse(self.cell)
        except ValueError as exc:
            raise ValueError(f"cell: {exc}") from None
        if cell != Cell(self.case, self.target, self.build_python, self.run_python):
            raise ValueError(f"cell {self.cell!r} is not case:target:build_python:run_python of this record")
        if self.case != f"{self.backend}/{self.binding}":
            raise ValueError(f"case {self.case!r} is not backend/binding ({self.backend}/{self.binding})")
        build = {"build_python": self.build_python} if self.build_python != NO_BUILD else {}
        check_ids(
            run_id=self.run_id,
            backend=self.backend,
            binding=self.binding,
            target=self.target,
            run_python=self.run_python,
            **build,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON's own types, keys sorted at every level, exactly as a results.jsonl line holds them."""
        plain: dict[str, Any] = json.loads(self.line())
        return plain

    def line(self) -> str:
        """The results.jsonl line: sorted keys, as every schema-2 line was written (tuples dump as lists)."""
        return json.dumps(msgspec.to_builtins(self), sort_keys=True)


class _Versioned(msgspec.Struct):
    """Only the version, read first: a record of another schema is named as such, not by its fields."""

    schema_version: Any = None


def decode_record(line: bytes, *, source: Path | str, number: int) -> Record:
    """One results.jsonl line as a Record, or DamagedResults naming the file, line and field path."""
    try:
        return msgspec.json.decode(line, type=Record, strict=True)
    except msgspec.ValidationError as exc:
        # A record of another schema is named as such, not by the first field that differs.
        try:
            version = msgspec.json.decode(line, type=_Versioned).schema_version
        except msgspec.DecodeError:  # not an object: the first error says so
            version = SCHEMA_VERSION
        if version != SCHEMA_VERSION or isinstance(version, bool):
            why = f"schema_version {version!r}; this harness reads {SCHEMA_VERSION}"
            raise DamagedResults(f"{source}:{number}: {printable(why)}") from None
        raise DamagedResults(failure(exc, Record, source=source, line=number)) from None
    except (msgspec.DecodeError, UnicodeError) as exc:
        raise DamagedResults(failure(exc, Record, source=source, line=number)) from None


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%SZ") + f"-{os.getpid() % 100000:05d}"


class Writer:
    """Appends one line per record and flushes, so an interrupted run keeps every finished cell."""

    def __init__(self, run_dir: Path, keep: Sequence[Record] = ()) -> None:
        self.run_dir = run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / RESULTS_FILE
        self.records: list[Record] = list(keep)
        self.failed: OSError | None = None
        try:
            within(run_dir, self.path)  # a resumed run's results.jsonl may be a symlink: never append through it
            if keep:  # a resumed run: the file holds exactly the kept records (a torn last line dropped)
                write_sorted(self.path, self.records)
            self._file: IO[str] = self.path.open("a", encoding="utf-8")
        except UnsafePath as exc:
            raise HarnessError(f"{exc}; this run directory cannot be continued") from None
        except OSError as exc:
            raise self._error(exc) from None

    def write(self, record: Record) -> None:
        try:
            self._file.write(record.line() + "\n")
            self._file.flush()
        except OSError as exc:
            self.failed = exc
            raise self._error(exc) from None
        self.records.append(record)

    def _error(self, exc: OSError) -> HarnessError:
        return HarnessError(
            f"{self.path}: cannot write results: {exc.strerror or exc}; the {len(self.records)} records "
            "written before are intact; free space or fix permissions, then `run --resume "
            f"{self.run_dir}`"
        )

    def close(self) -> None:
        """Rewrite the file sorted by cell id (atomically), so runs diff cleanly; after a write error the
        appended file stays as it is (every complete line in it is a record)."""
        try:
            self._file.close()
        except OSError:
            self.failed = self.failed or OSError("close failed")
        if self.failed is None:
            try:
                write_sorted(self.path, self.records)
            except OSError as exc:
                self.failed = exc


def write_sorted(path: Path, records: Iterable[Record]) -> None:
    """Whole or not at all, under a fresh temporary name: a symlink at *path* is replaced, not followed."""
    lines = [record.line() + "\n" for record in sorted(records, key=lambda r: r.cell)]
    atomic.write_text(path, "".join(lines))


def write_json(path: Path, data: Any) -> None:
    atomic.write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


@dataclass(frozen=True)
class Loaded:
    """What a run directory holds: the readable records, and everything that could not be read."""

    path: Path
    records: list[Record]
    environment: RunManifest  # empty (nothing known) when the run has no environment.json
    problems: list[str]  # "file:line: why", one per unreadable record (or environment.json)
    torn_last_line: int | None = None  # an interrupted write's line, skipped (the only line ever skipped)


def read(run_dir: Path) -> Loaded:
    """Every record of a run directory and every line that is not one; never raises for bad content."""
    path = run_dir / RESULTS_FILE
    if not path.is_file():
        raise HarnessError(f"{path}: no results here; give a run directory such as results/latest")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HarnessError(f"{path}: cannot read: {exc.strerror}") from None
    lines = raw.split(b"\n")
    torn = raw and not raw.endswith(b"\n")  # the last write did not finish
    records: list[Record] = []
    problems: list[str] = []
    torn_line = None
    first_seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = decode_record(line, source=path, number=number)
        except DamagedResults as exc:
            if torn and number == len(lines) and line.startswith(b"{"):  # a record's beginning, cut short
                torn_line = number
            else:
                problems.append(str(exc))
            continue
        if record.cell in first_seen:
            problems.append(f"{path}:{number}: cell {record.cell} again (first on line {first_seen[record.cell]})")
            continue
        first_seen[record.cell] = number
        records.append(record)
    return Loaded(path, records, _environment(run_dir, problems), problems, torn_line)


def _environment(run_dir: Path, problems: list[str]) -> RunManifest:
    try:
        return manifest.read(run_dir)
    except DamagedResults as exc:
        problems.append(str(exc))
        return RunManifest()


def checked(loaded: Loaded) -> Loaded:
    """*loaded* if nothing but a torn last line is missing from it (said on stderr); else DamagedResults."""
    if loaded.problems:
        unreadable = sum(1 for p in loaded.problems if not p.startswith(str(loaded.path.parent / ENVIRONMENT_FILE)))
        shown = loaded.problems[:20] + (
            [f"... and {len(loaded.problems) - 20} more"] if len(loaded.problems) > 20 else []
        )
        head = (
            f"{loaded.path.parent}: damaged results: {unreadable} unreadable record line(s) beside "
            f"{len(loaded.records)} readable; nothing was rewritten. Repair or remove these lines:"
        )
        raise DamagedResults("\n".join([head, *(f"  {p}" for p in shown)]))
    if loaded.torn_last_line is not None:
        # Said on stderr whoever loads (report, resume, merge): a record is never dropped in silence.
        print(
            f"warning: {loaded.path}:{loaded.torn_last_line}: skipped the last line, cut short by an "
            f"interrupted write ({len(loaded.records)} records read)",
            file=sys.stderr,
        )
    return loaded


def load(run_dir: Path) -> tuple[list[Record], RunManifest]:
    """Records and environment of a run directory; DamagedResults (exit 3) if any line but a torn last one
    cannot be read, so no report is ever rebuilt from less than the file holds."""
    loaded = checked(read(run_dir))
    return loaded.records, loaded.environment


def completed(run_dir: Path) -> Loaded:
    """A run to resume: its complete records (a torn last line dropped) and its environment."""
    loaded = checked(read(run_dir))
    if not (run_dir / ENVIRONMENT_FILE).is_file():
        raise DamagedResults(f"{run_dir / ENVIRONMENT_FILE}: missing; this run cannot be resumed, start a new one")
    run_id = loaded.environment.run_id or run_dir.name
    problem = part_problem(run_id)  # it names the run's scratch directory in the cache
    if problem is not None:
        raise DamagedResults(f"{run_dir / ENVIRONMENT_FILE}: run_id: {problem}; this run cannot be resumed")
    return loaded


def point_latest(results_dir: Path, run_dir: Path) -> None:
    """results/latest -> the newest run (a relative symlink, replaced atomically)."""
    point_link(results_dir / "latest", Path(run_dir.name))


def point_link(link: Path, target: Path) -> bool:
    """*link* -> *target* (relative to the link's directory), replaced atomically. A real directory or file
    with the link's name (an unpacked artifact) is left as it is, with a warning; False then."""
    if link.exists() and not link.is_symlink():
        print(
            f"warning: {link}: a directory or file, not the symlink the harness keeps (an unpacked artifact?); "
            f"left as it is, so it does not point at {target}",
            file=sys.stderr,
        )
        return False
    atomic.point(link, target)
    return True
