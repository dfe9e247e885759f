"""Versioned JSON records: appended as cells finish, sorted at the end, loadable to rebuild any report."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .errors import HarnessError
from .model import Status

SCHEMA_VERSION = 2  # 2: `observed` (what happened) apart from the verdict; `findings`
RESULTS_FILE = "results.jsonl"
ENVIRONMENT_FILE = "environment.json"


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

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / RESULTS_FILE
        self._file: IO[str] = self.path.open("a", encoding="utf-8")
        self.records: list[Record] = []

    def write(self, record: Record) -> None:
        self._file.write(json.dumps(record.to_json(), sort_keys=True) + "\n")
        self._file.flush()
        self.records.append(record)

    def close(self) -> None:
        """Rewrite the file sorted by cell id (atomically), so runs diff cleanly."""
        self._file.close()
        write_sorted(self.path, self.records)


def write_sorted(path: Path, records: Iterable[Record]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for record in sorted(records, key=lambda r: r.cell):
            f.write(json.dumps(record.to_json(), sort_keys=True) + "\n")
    tmp.replace(path)


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def load(run_dir: Path) -> tuple[list[Record], dict[str, Any]]:
    """Records and environment of a run directory; a truncated last line (killed run) is skipped."""
    path = run_dir / RESULTS_FILE
    if not path.is_file():
        raise HarnessError(f"{path}: no results here; give a run directory such as results/latest")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(Record.from_json(json.loads(line)))
        except json.JSONDecodeError:
            continue  # the line being written when the run was killed
        except (ValueError, TypeError) as exc:
            raise HarnessError(f"{path}:{number}: {exc}") from None
    env_path = run_dir / ENVIRONMENT_FILE
    environment = json.loads(env_path.read_text()) if env_path.is_file() else {}
    return records, environment


def point_latest(results_dir: Path, run_dir: Path) -> None:
    """results/latest -> the newest run (a relative symlink, replaced atomically)."""
    link = results_dir / "latest"
    tmp = results_dir / f".latest.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    tmp.replace(link)
