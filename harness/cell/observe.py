"""What a cell observed, step by step and per installer: facts only, no verdict.

`execute.py` fills these from subprocesses; `judge.py` turns them (with the expectation and the known
issues of the moment) into stages and a status. Recorded as `observed` in every record, so a verdict
can be derived again later (`report --rejudge`) without starting an interpreter.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

# Bump when a field changes meaning; readers refuse versions they do not know.
OBSERVED_VERSION = 1


class Route(enum.StrEnum):
    """How the module was loaded."""

    INSTALLED = "installed"  # a real install, then `import module`
    SYS_PATH = "sys_path"  # refused wheel: its files on sys.path, plain import (file-name safety net)
    BY_PATH = "by_path"  # refused wheel: each extension file loaded by path (runtime safety net)
    TEST = "test"  # `check --test CMD`: the user's smoke command in the installed environment


class LoadOutcome(enum.StrEnum):
    LOADED = "loaded"  # imported; calls may still be wrong
    EXCEPTION = "exception"  # the import raised (class and message recorded)
    CRASH = "crash"  # the process died from a signal
    TIMEOUT = "timeout"  # killed after the cell's timeout
    NO_REPORT = "no-report"  # exited without reporting (e.g. os._exit in the module)


@dataclass(frozen=True, kw_only=True)
class Answer:
    """One installer command's outcome: resolve (dry run) or install."""

    ok: bool
    refused: bool = False  # the installer said the tags (or Requires-Python) rule the wheel out
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class InstallerObs:
    name: str  # uv, pip
    version: str  # "uv 0.13.9", "pip 26.0.1"
    env: Answer  # creating the fresh environment
    resolve: Answer | None = None
    install: Answer | None = None


@dataclass(frozen=True, kw_only=True)
class AbiInfo:
    """A PEP 793 module's `Py_mod_abi` (PyABIInfo), read from the file before it is loaded."""

    major: int
    minor: int
    flags: int  # PyABIInfo_STABLE 1, _GIL 2, _FREETHREADED 4, _INTERNAL 8
    build_version: int
    abi_version: int


@dataclass(frozen=True, kw_only=True)
class FileLoad:
    """One extension file loaded by path (runtime route)."""

    file: str  # path inside the wheel
    module: str  # the dotted name it was loaded as
    abi_info: AbiInfo | None = None  # None: the file declares none (or is no PEP 793 module)
    abi_info_note: str = ""  # why no ABI info could be read, when that is not simply "none declared"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileLoad:
        """From a record, or from what resources/call.py reported (the same field names)."""
        info = data.get("abi_info")
        return cls(
            file=data["file"],
            module=data["module"],
            abi_info=AbiInfo(**info) if info else None,
            abi_info_note=data.get("abi_info_note", ""),
        )


@dataclass(frozen=True, kw_only=True)
class LoadObs:
    route: Route
    outcome: LoadOutcome
    exception_type: str = ""
    exception: str = ""  # "ImportError: ..." as the interpreter said it
    signal: str = ""
    returncode: int | None = None
    timeout_s: float | None = None  # the limit the process ran under
    stderr_tail: str = ""
    module_file: str | None = None
    files: tuple[FileLoad, ...] = ()  # by_path: every extension file, in load order
    calls: tuple[dict[str, Any], ...] = ()  # {"call", "expected", "actual", "ok"}
    compiled: dict[str, Any] | None = None  # PY_VERSION_HEX, Py_LIMITED_API, Py_TARGET_ABI3T, Py_GIL_DISABLED
    import_warnings: tuple[str, ...] = ()
    gil_enabled_after_import: bool | None = None
    threads: dict[str, Any] | None = None  # free-threaded: {"threads", "calls", "errors"}
    module: str = ""  # `check`: the module (or NAME,NAME for forced loads) this load imported


@dataclass(frozen=True, kw_only=True)
class WheelObs:
    name: str
    tags: tuple[str, ...]
    ext_files: tuple[str, ...]
    requires_python: str = ""


@dataclass(frozen=True, kw_only=True)
class BuildObs:
    ok: bool
    infrastructure: bool = False  # the harness or the index failed, not the backend
    message: str = ""
    cached: bool | None = None
    tools: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Observed:
    """Everything one cell saw. Which steps ran depends only on what earlier steps saw."""

    build: BuildObs
    wheel: WheelObs | None = None
    audit: dict[str, Any] | None = None  # audit.Audit.to_json()
    installers: tuple[InstallerObs, ...] = ()
    loads: tuple[LoadObs, ...] = ()
    harness_error: str = ""  # the harness itself failed in this cell
    version: int = OBSERVED_VERSION

    def load(self, route: Route) -> LoadObs | None:
        return next((x for x in self.loads if x.route is route), None)

    def to_json(self) -> dict[str, Any]:
        plain: dict[str, Any] = _plain(asdict(self))
        for load in plain["loads"]:
            if not load["module"]:
                del load["module"]  # the matrix's records stay as they were; only `check` names modules
        return plain

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Observed:
        if data.get("version") != OBSERVED_VERSION:
            raise ValueError(f"observed.version {data.get('version')!r}; this harness reads {OBSERVED_VERSION}")
        wheel = data.get("wheel")
        return cls(
            build=BuildObs(**data["build"]),
            wheel=WheelObs(
                name=wheel["name"],
                tags=tuple(wheel["tags"]),
                ext_files=tuple(wheel["ext_files"]),
                requires_python=wheel.get("requires_python", ""),
            )
            if wheel
            else None,
            audit=data.get("audit"),
            installers=tuple(_installer(i) for i in data.get("installers", ())),
            loads=tuple(_load(x) for x in data.get("loads", ())),
            harness_error=data.get("harness_error", ""),
        )


def _plain(value: Any) -> Any:
    """JSON's own types: tuples become lists, enums their values."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _answer(data: dict[str, Any] | None) -> Answer | None:
    return Answer(**data) if data is not None else None


def _installer(data: dict[str, Any]) -> InstallerObs:
    env = _answer(data["env"])
    assert env is not None
    return InstallerObs(
        name=data["name"],
        version=data["version"],
        env=env,
        resolve=_answer(data.get("resolve")),
        install=_answer(data.get("install")),
    )


def _load(data: dict[str, Any]) -> LoadObs:
    files = tuple(FileLoad.from_json(f) for f in data.get("files", ()))
    return LoadObs(
        route=Route(data["route"]),
        outcome=LoadOutcome(data["outcome"]),
        exception_type=data.get("exception_type", ""),
        exception=data.get("exception", ""),
        signal=data.get("signal", ""),
        returncode=data.get("returncode"),
        timeout_s=data.get("timeout_s"),
        stderr_tail=data.get("stderr_tail", ""),
        module_file=data.get("module_file"),
        files=files,
        calls=tuple(data.get("calls", ())),
        compiled=data.get("compiled"),
        import_warnings=tuple(data.get("import_warnings", ())),
        gil_enabled_after_import=data.get("gil_enabled_after_import"),
        threads=data.get("threads"),
        module=data.get("module", ""),
    )
