"""environment.json: what a run ran on and with (`RunManifest`), written and read only through this type.

A run writes it at the start and again when it finishes; `merge` writes one for the merged run (with a
`shards` list), `gate` one with a `gate` entry, `check` one with a `check` entry. `report`, `--rejudge`,
`diff`, `merge` and `run --resume` read it back through `read`, so a manifest from another machine is
either fully typed or DamagedResults (exit 3) naming the field. A key absent from the file is unknown,
not an error (an interrupted run has no `finished`); a key present must be right. Keys that were never
written stay absent (msgspec.UNSET), so a manifest written again reads as it did.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from harness.errors import DamagedResults
from harness.infra import atomic
from harness.model import Interpreter, Target, TargetKind, parse_version
from harness.schema.decode import read_json
from harness.schema.ids import check_ids

ENVIRONMENT_FILE = "environment.json"
MANIFEST_VERSION = 2  # the records' schema_version: a manifest belongs to records of that schema

FullVersion = Annotated[str, msgspec.Meta(pattern=r"^\d+\.\d+\.\d+$")]
MinorVersion = Annotated[str, msgspec.Meta(pattern=r"^\d+\.\d+$")]


class Entry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The base of every part of the manifest: immutable, strict when decoded."""


class InterpreterEntry(Entry, frozen=True):
    """An interpreter's probed facts as environment.json keeps them (Interpreter.to_json's form)."""

    id: str
    path: str
    provider: Annotated[str, msgspec.Meta(min_length=1)]
    implementation: Annotated[str, msgspec.Meta(min_length=1)]
    version: FullVersion
    free_threaded: bool
    debug: bool
    soabi: str
    ext_suffixes: tuple[str, ...]
    platform: str
    glibc: str | None
    base_prefix: str
    is_venv: bool
    supported_tags: tuple[str, ...] = ()
    tags_source: str = ""
    root: str = ""
    build_dir: str | UnsetType = UNSET  # written only for an uninstalled build

    def __post_init__(self) -> None:
        check_ids(id=self.id)

    @classmethod
    def of(cls, interp: Interpreter) -> InterpreterEntry:
        return msgspec.convert(interp.to_json(), cls)

    def interpreter(self) -> Interpreter:
        return Interpreter.from_json(msgspec.to_builtins(self))


class TargetEntry(Entry, frozen=True):
    name: str
    kind: TargetKind
    py_api: str = ""  # for readers; derived from min_python
    min_python: MinorVersion | None = None
    build_on: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_ids(name=self.name)

    @classmethod
    def of(cls, target: Target) -> TargetEntry:
        return msgspec.convert(target.to_json(), cls)

    def target(self) -> Target:
        floor = parse_version(self.min_python) if self.min_python else None
        return Target(self.name, self.kind, floor, self.build_on)


class CaseEntry(Entry, frozen=True):
    id: str  # backend/binding
    backend: str
    binding: str
    dist_name: str = ""
    module: str = ""
    description: str = ""
    notes: str = ""
    targets: tuple[TargetKind, ...] = ()
    unsupported: dict[TargetKind, str] = {}

    def __post_init__(self) -> None:
        check_ids(backend=self.backend, binding=self.binding)
        if self.id != f"{self.backend}/{self.binding}":
            raise ValueError(f"id {self.id!r} is not backend/binding ({self.backend}/{self.binding})")


class Host(Entry, frozen=True):
    python: str = ""
    platform: str = ""
    cpus: Annotated[int, msgspec.Meta(ge=1, le=1 << 20)] | None = None


class ShardInfo(Entry, frozen=True):
    """`run --shard K/N`: which part of the plan this run is (merge checks the parts fit)."""

    index: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    count: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    plan_digest: str = ""
    builds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.index > self.count:
            raise ValueError(f"shard {self.index}/{self.count}: the index is past the count")


class ShardEntry(Entry, frozen=True):
    """One shard of a merged run, as `merge` recorded it."""

    shard: ShardInfo | None = None
    run_id: str | None = None
    dir: str = ""
    host: Host | None = None
    argv: tuple[str, ...] | None = None
    installer: str | None = None
    started: str | None = None
    finished: str | None = None
    interpreters: tuple[InterpreterEntry, ...] = ()
    cells: Annotated[int, msgspec.Meta(ge=0, le=10**7)] = 0


class GateEntry(Entry, frozen=True):
    new: InterpreterEntry
    baseline: InterpreterEntry


class CheckWheel(Entry, frozen=True):
    """One wheel of a `check` run: its spec id, file, where it came from and what its cells import."""

    id: str
    wheel: str
    origin: str  # the file given, or the index URL with its sha256
    imports: tuple[str, ...] = ()


class CheckEntry(Entry, frozen=True):
    """`check`: the index its requirements came from, the corpus whose known issues apply, the smoke command."""

    index: str = ""
    corpus: str | None = None  # read again by `report --rejudge`
    test: str | None = None
    wheels: tuple[CheckWheel, ...] = ()


class RunManifest(Entry, frozen=True):
    """environment.json. Every key may be absent (unknown); every key present is typed and checked."""

    schema_version: int = MANIFEST_VERSION
    run_id: str = ""
    started: str = ""
    argv: tuple[str, ...] | UnsetType = UNSET
    harness_version: str = ""
    host: Host | UnsetType = UNSET
    installer: str = ""
    matrix: str = ""
    cache_dir: str = ""
    interpreters: tuple[InterpreterEntry, ...] = ()  # the run columns
    build_interpreters: tuple[str, ...] = ()
    build_interpreter_facts: tuple[InterpreterEntry, ...] = ()  # builders that are no run column
    excluded: tuple[tuple[str, str], ...] = ()  # (path, why) that discovery left out
    cases: tuple[CaseEntry, ...] = ()
    targets: tuple[TargetEntry, ...] = ()
    shard: ShardInfo | UnsetType = UNSET
    shards: tuple[ShardEntry, ...] | UnsetType = UNSET  # a merged run
    gate: GateEntry | UnsetType = UNSET
    check: CheckEntry | UnsetType = UNSET  # a `check` run (wheels built elsewhere)
    resumed: tuple[str, ...] | UnsetType = UNSET  # when `run --resume` continued it
    finished: str | UnsetType = UNSET
    interrupted: bool | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.schema_version != MANIFEST_VERSION:
            raise ValueError(f"schema_version {self.schema_version}; this harness reads {MANIFEST_VERSION}")
        for name, entries in (("interpreters", self.interpreters), ("targets", self.targets)):
            ids = [e.id if isinstance(e, InterpreterEntry) else e.name for e in entries]
            if len(set(ids)) != len(ids):
                raise ValueError(f"{name}: an id twice ({', '.join(sorted({i for i in ids if ids.count(i) > 1}))})")

    def interpreters_on_file(self) -> dict[str, Interpreter]:
        """Every interpreter the run used (run columns and build interpreters), by id."""
        return {e.id: e.interpreter() for e in (*self.interpreters, *self.build_interpreter_facts)}

    def targets_on_file(self) -> dict[str, Target]:
        return {t.name: t.target() for t in self.targets}

    @property
    def is_check(self) -> bool:
        return isinstance(self.check, CheckEntry)

    @property
    def target_names(self) -> list[str]:
        return [t.name for t in self.targets]

    def with_changes(self, **changes: Any) -> RunManifest:
        return msgspec.structs.replace(self, **changes)

    def text(self) -> str:
        """The file's text: indented, keys sorted (as environment.json has always been written)."""
        return json.dumps(msgspec.to_builtins(self), indent=2, sort_keys=True) + "\n"


def entries(interps: Iterable[Interpreter]) -> tuple[InterpreterEntry, ...]:
    return tuple(InterpreterEntry.of(i) for i in interps)


def read(run_dir: Path) -> RunManifest:
    """The run's manifest; an empty one (nothing known) when the run has none; DamagedResults when it
    cannot be read or does not fit the type (naming the field)."""
    path = run_dir / ENVIRONMENT_FILE
    if not path.exists() and not path.is_symlink():
        return RunManifest()
    if not path.is_file():
        raise DamagedResults(f"{path}: not a regular file")
    return read_json(path, RunManifest)


def write(run_dir: Path, manifest: RunManifest) -> None:
    """environment.json, replaced whole (a temporary file, then rename)."""
    atomic.write_text(run_dir / ENVIRONMENT_FILE, manifest.text())
