"""What a cell observed, step by step and per installer: facts only, no verdict.

`execute.py` fills these from subprocesses; `judge.py` turns them (with the expectation and the known
issues of the moment) into stages and a status. Recorded as `observed` in every record, so a verdict
can be derived again later (`report --rejudge`) without starting an interpreter.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

import msgspec

from harness.build.audit_result import Audit

# Bump when a field changes meaning; readers refuse versions they do not know.
OBSERVED_VERSION = 1

# Bounds a recorded number must keep (decoded through these types: anything else is a damaged record).
Count = Annotated[int, msgspec.Meta(ge=0, le=10**9)]
Seconds = Annotated[float, msgspec.Meta(ge=0, le=10**7)]  # finite: JSON has no inf, and 1e400 is out of range
Word = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]  # a C integer the module reported


class Obs(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The base of every observation: immutable, keyword-built, strict when decoded (no unknown field)."""


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


class Answer(Obs, frozen=True):
    """One installer command's outcome: resolve (dry run) or install."""

    ok: bool
    refused: bool = False  # the installer said the tags (or Requires-Python) rule the wheel out
    message: str = ""


class InstallerObs(Obs, frozen=True):
    name: Annotated[str, msgspec.Meta(min_length=1)]  # uv, pip
    version: str  # "uv 0.13.9", "pip 26.0.1"
    env: Answer  # creating the fresh environment
    resolve: Answer | None = None
    install: Answer | None = None


class AbiInfo(Obs, frozen=True):
    """A PEP 793 module's `Py_mod_abi` (PyABIInfo), read from the file before it is loaded."""

    major: Word
    minor: Word
    flags: Word  # PyABIInfo_STABLE 1, _GIL 2, _FREETHREADED 4, _INTERNAL 8
    build_version: Word
    abi_version: Word


class FileLoad(Obs, frozen=True):
    """One extension file loaded by path (runtime route)."""

    file: str  # path inside the wheel
    module: str  # the dotted name it was loaded as
    abi_info: AbiInfo | None = None  # None: the file declares none (or is no PEP 793 module)
    abi_info_note: str = ""  # why no ABI info could be read, when that is not simply "none declared"


class Call(Obs, frozen=True):
    """One checked call of the module (resources/call.py's CHECKS)."""

    call: str  # the expression, e.g. "add(1, 2)"
    expected: str  # the value's repr, or the exception class name
    actual: str
    ok: bool


class Threads(Obs, frozen=True):
    """Free-threaded interpreters: N threads calling add() at once."""

    threads: Count
    calls: Count
    errors: tuple[str, ...] = ()  # the first few wrong results


class Compiled(Obs, frozen=True):
    """The extension's compile-time macros, as the module reports them (None: not exported)."""

    PY_VERSION_HEX: Word | None = None
    Py_LIMITED_API: Word | None = None
    Py_TARGET_ABI3T: Word | None = None
    Py_GIL_DISABLED: Word | None = None


class Dependencies(Obs, frozen=True):
    """A forced load's environment: the refused wheel's runtime requirements, installed for the
    interpreter by the installer into an environment of their own (or why they could not be)."""

    requirements: tuple[str, ...]  # Requires-Dist as the wheel declares them, markers kept
    ok: bool
    message: str = ""  # the installer's one line when they could not be installed


class LoadObs(Obs, frozen=True):
    route: Route
    outcome: LoadOutcome
    exception_type: str = ""
    exception: str = ""  # "ImportError: ..." as the interpreter said it
    signal: str = ""
    returncode: Word | None = None
    timeout_s: Seconds | None = None  # the limit the process ran under
    stderr_tail: str = ""
    module_file: str | None = None
    files: tuple[FileLoad, ...] = ()  # by_path: every extension file, in load order
    calls: tuple[Call, ...] = ()
    compiled: Compiled | None = None
    import_warnings: tuple[str, ...] = ()
    gil_enabled_after_import: bool | None = None
    threads: Threads | None = None  # free-threaded interpreters only
    # Forced loads of a wheel with runtime requirements; UNSET (no key in the record): none declared,
    # or a record from before forced loads got them, judged as it was then.
    dependencies: Dependencies | msgspec.UnsetType = msgspec.UNSET
    # `check`: the module this load imported (NAME,NAME for a forced load; the command for the smoke
    # test). UNSET (no key): a matrix cell, which imports its case's module.
    module: str | msgspec.UnsetType = msgspec.UNSET

    @property
    def name(self) -> str:
        """What this load imported under `check` (its module, or the smoke command); "" for the matrix."""
        return self.module if isinstance(self.module, str) else ""


class WheelObs(Obs, frozen=True):
    name: str
    tags: tuple[str, ...]
    ext_files: tuple[str, ...]
    requires_python: str = ""


class BuildObs(Obs, frozen=True):
    ok: bool
    infrastructure: bool = False  # the harness or the index failed, not the backend
    message: str = ""
    cached: bool | None = None
    tools: dict[str, str] = {}


class Observed(Obs, frozen=True):
    """Everything one cell saw. Which steps ran depends only on what earlier steps saw."""

    build: BuildObs
    wheel: WheelObs | None = None
    audit: Audit | None = None
    installers: tuple[InstallerObs, ...] = ()
    loads: tuple[LoadObs, ...] = ()
    harness_error: str = ""  # the harness itself failed in this cell
    version: int = OBSERVED_VERSION

    def __post_init__(self) -> None:
        """Meaning beyond type, checked when a record is decoded (a ValueError names the field's path)."""
        if self.version != OBSERVED_VERSION:
            raise ValueError(f"version {self.version}; this harness reads observations of version {OBSERVED_VERSION}")
        if self.loads and not self.installers and self.load(Route.INSTALLED) is not None:
            raise ValueError("an installed load with no installer observed")
        routes = [x.route for x in self.loads if not x.name]  # `check` imports each module in a load of its own
        if len(set(routes)) != len(routes):
            raise ValueError("two loads by one route")

    def load(self, route: Route) -> LoadObs | None:
        return next((x for x in self.loads if x.route is route), None)

    def to_json(self) -> dict[str, Any]:
        """JSON's own types (as the record's `observed`)."""
        plain: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(self))  # lists, not tuples
        return plain
