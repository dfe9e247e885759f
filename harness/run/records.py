"""Versioned JSON records: appended as cells finish, sorted at the end, loadable to rebuild any report."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from harness.errors import DamagedResults, HarnessError
from harness.infra import atomic
from harness.model import Status

SCHEMA_VERSION = 2  # 2: `observed` (what happened) apart from the verdict; `findings`
RESULTS_FILE = "results.jsonl"
ENVIRONMENT_FILE = "environment.json"
SURFACE_FILE = "surface.md"  # a run's Surface section (written by `run`)
PREFERENCE_FILE = "preference.json"  # `preference --output RUN_DIR/preference.json` (the nightly writes it)


@dataclass(frozen=True, kw_only=True)
class Record:
    """One cell's outcome. Field names are the public record format (results/README.md)."""

    run_id: str
    cell: str
    case: str
    backend: str
    binding: str
    target: str
    target_kind: str
    build_python: str
    run_python: str
    status: Status
    reason: str
    stage: str
    expected: str
    expected_rule: str = ""
    wheel: str | None = None
    wheel_tags: list[str] = field(default_factory=list)
    ext_files: list[str] = field(default_factory=list)
    installer: str | None = None
    packaging_accepts: bool | None = None
    known_issue: str | None = None
    build_cached: bool | None = None
    build_tools: dict[str, str] = field(default_factory=dict)
    build_log: str | None = None
    duration_s: float = 0.0
    log: str | None = None
    stages: dict[str, dict[str, str]] = field(default_factory=dict)  # audit, resolve, install, import, call, threads
    findings: list[dict[str, str]] = field(default_factory=list)  # refused binaries loaded anyway, no net promised
    observed: dict[str, Any] | None = None  # observe.Observed: everything the verdict is derived from
    reused_from: str | None = None  # the run whose observations were reused (nothing they depend on changed)
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"record schema_version {version!r}; this harness reads {SCHEMA_VERSION}")
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{**{k: v for k, v in data.items() if k in known}, "status": Status(data["status"])})


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
            if keep:  # a resumed run: the file holds exactly the kept records (a torn last line dropped)
                write_sorted(self.path, self.records)
            self._file: IO[str] = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise self._error(exc) from None

    def write(self, record: Record) -> None:
        try:
            self._file.write(json.dumps(record.to_json(), sort_keys=True) + "\n")
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
    lines = (json.dumps(record.to_json(), sort_keys=True) + "\n" for record in sorted(records, key=lambda r: r.cell))
    atomic.write_text(path, "".join(lines))


def write_json(path: Path, data: Any) -> None:
    atomic.write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


@dataclass(frozen=True)
class Loaded:
    """What a run directory holds: the readable records, and everything that could not be read."""

    path: Path
    records: list[Record]
    environment: dict[str, Any]
    problems: list[str]  # "file:line: why", one per unreadable record (or environment.json)
    torn_last_line: int | None = None  # an interrupted write's line, skipped (the only line ever skipped)


_REQUIRED = tuple(f.name for f in fields(Record) if f.default is MISSING and f.default_factory is MISSING)
_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "None": (type(None),),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}


def record_problem(data: Any) -> str | None:
    """Why a decoded line is not a record of this schema, generically from Record's fields, or None."""
    if not isinstance(data, dict):
        return f"expected a JSON object, got {type(data).__name__}"
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        return f"schema_version {version!r}; this harness reads {SCHEMA_VERSION}"
    missing = [name for name in _REQUIRED if name not in data]
    if missing:
        return f"missing field {', '.join(missing)}"
    for f in fields(Record):
        if f.name not in data:
            continue
        allowed = [_TYPES.get(part.strip().split("[")[0]) for part in str(f.type).split("|")]
        if None in allowed:
            continue  # a type this check does not know (an enum, a nested dataclass): Record decides
        value = data[f.name]
        ok = any(isinstance(value, t) for kinds in allowed if kinds for t in kinds)
        if not ok or (isinstance(value, bool) and bool not in {t for k in allowed if k for t in k}):
            return f"field {f.name}: expected {f.type}, got {type(value).__name__} {value!r:.40}"
    if data["status"] not in {s.value for s in Status}:
        return f"unknown status {data['status']!r}; known: {', '.join(s.value for s in Status)}"
    return None


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
            data = json.loads(line.decode("utf-8"))
            why = record_problem(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            why = f"not a JSON record ({exc})"
        if why is None:
            try:
                record = Record.from_json(data)
            except (ValueError, TypeError) as exc:
                why = str(exc)
        if why is not None:
            if torn and number == len(lines) and line.startswith(b"{"):  # a record's beginning, cut short
                torn_line = number
            else:
                problems.append(f"{path}:{number}: {why}")
            continue
        if record.cell in first_seen:
            problems.append(f"{path}:{number}: cell {record.cell} again (first on line {first_seen[record.cell]})")
            continue
        first_seen[record.cell] = number
        records.append(record)
    return Loaded(path, records, _environment(run_dir, problems), problems, torn_line)


def _environment(run_dir: Path, problems: list[str]) -> dict[str, Any]:
    env_path = run_dir / ENVIRONMENT_FILE
    if not env_path.is_file():
        return {}
    try:
        environment = json.loads(env_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"{env_path}: unreadable ({exc})")
        return {}
    if not isinstance(environment, dict):
        problems.append(f"{env_path}: expected a JSON object, got {type(environment).__name__}")
        return {}
    return environment


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


def load(run_dir: Path) -> tuple[list[Record], dict[str, Any]]:
    """Records and environment of a run directory; DamagedResults (exit 3) if any line but a torn last one
    cannot be read, so no report is ever rebuilt from less than the file holds."""
    loaded = checked(read(run_dir))
    return loaded.records, loaded.environment


def completed(run_dir: Path) -> Loaded:
    """A run to resume: its complete records (a torn last line dropped) and its environment."""
    loaded = checked(read(run_dir))
    if not loaded.environment:
        raise DamagedResults(f"{run_dir / ENVIRONMENT_FILE}: missing; this run cannot be resumed, start a new one")
    return loaded


def point_latest(results_dir: Path, run_dir: Path) -> None:
    """results/latest -> the newest run (a relative symlink, replaced atomically)."""
    atomic.point(results_dir / "latest", run_dir.name)
