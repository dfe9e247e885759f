"""The surface's data model: a build's symbols, its C-probe levels and findings, and their JSON form."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec

from harness.errors import HarnessError
from harness.model import Interpreter, Version
from harness.run.manifest import InterpreterEntry
from harness.schema.decode import decode_json

SURFACE_VERSION = 2  # bump when the meaning of a recorded surface changes
ABI3T_FIRST: Version = (3, 15)


class FindingKind(enum.StrEnum):
    MISSING_SYMBOL = "missing-symbol"  # promised by the manifest, not exported
    LIST_DISAGREES = "list-disagrees"  # the interpreter's own ctypes list and abi3info differ
    NO_LIST = "no-ctypes-list"  # no test.test_stable_abi_ctypes to cross-check with
    NOT_STABLE_ABI = "not-stable-abi"  # PyPy, free-threaded before 3.15: nothing is promised
    ABI3T_RULES = "abi3t-rules"  # how the abi3t promise was determined
    PROBE_FAILED = "probe-failed"  # a level's C probe did not compile or run
    ABSENT_ITEM = "absent-item"  # a promised constant or struct is not in the headers at its level
    KNOWN_GAP = "known-gap"  # a symbol CPython knowingly leaves out on this version (with its reference)


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    message: str


@dataclass(frozen=True, order=True)
class Level:
    """A level to compile the probe at: stable-ABI Py_LIMITED_API=3 (3.2), 3.9 ... 3.N, abi3t-3.15 ...;
    or the build's own full (version-specific) ABI, "full-3.N", with no Py_LIMITED_API at all."""

    version: Version
    abi3t: bool = False
    full: bool = False

    @property
    def name(self) -> str:
        text = f"{self.version[0]}.{self.version[1]}"
        if self.full:
            return f"full-{text}"
        if self.abi3t:
            return f"abi3t-{text}"
        return "3" if self.version == (3, 2) else text

    @classmethod
    def parse(cls, name: str) -> Level:
        abi3t, full = name.startswith("abi3t-"), name.startswith("full-")
        text = name.removeprefix("abi3t-").removeprefix("full-")
        if text == "3":
            return cls((3, 2))
        major, minor = (int(p) for p in text.split("."))
        return cls((major, minor), abi3t, full)

    @property
    def defines(self) -> str:
        if self.full:
            return "/* the full ABI: no Py_LIMITED_API */"
        if self.version == (3, 2):
            return "#define Py_LIMITED_API 3"
        packed = f"0x{self.version[0]:02X}{self.version[1]:02X}0000"
        if self.abi3t:
            # Both at the same value: a lower Py_LIMITED_API beside Py_TARGET_ABI3T hides Py_TYPE in 3.15.2.
            return f"#define Py_LIMITED_API {packed}\n#define Py_TARGET_ABI3T {packed}"
        return f"#define Py_LIMITED_API {packed}"


def levels_for(interp: Interpreter) -> tuple[Level, ...]:
    """GIL builds: 3, 3.9 ... own version, plus abi3t from 3.15. Free-threaded: abi3t levels only
    (Py_LIMITED_API there implies Py_TARGET_ABI3T, which must be 3.15 or above; before 3.15 Python.h
    refuses the limited API, gh-111506). CPython builds also get their full ABI probed, so builds of
    one version but another flavour (free-threaded, debug) can be compared where it differs."""
    minor = interp.minor
    abi3t = [Level((3, n), True) for n in range(ABI3T_FIRST[1], minor[1] + 1)] if minor >= ABI3T_FIRST else []
    full = [Level(minor, full=True)] if interp.is_cpython else []
    if interp.free_threaded:
        return (*abi3t, *full)
    return (Level((3, 2)), *(Level((3, n)) for n in range(9, minor[1] + 1)), *abi3t, *full)


@dataclass(frozen=True)
class SymbolEntry:
    name: str
    kind: str  # "function" or "data"
    added: Version
    found_as: str  # the exported name ("PyPyArg_Parse" on PyPy); "" when missing
    ifdef: str = ""  # the feature macro it depends on
    applicable: bool = True  # False: its feature macro is off on this build (not expected)

    @property
    def present(self) -> bool:
        return bool(self.found_as)


@dataclass(frozen=True)
class LevelProbe:
    """One compile of the C probe: sizes/offsets ("PyMethodDef", "PyMethodDef.ml_flags") and constants;
    a value of None means absent (not defined, or the item does not compile: `absent` says why)."""

    level: str
    ok: bool
    reason: str  # why the probe failed, or the compiler used
    layouts: tuple[tuple[str, int | None], ...] = ()
    constants: tuple[tuple[str, int | None], ...] = ()
    absent: tuple[tuple[str, str], ...] = ()  # item -> compiler message

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "ok": self.ok,
            "reason": self.reason,
            "layouts": dict(self.layouts),
            "constants": dict(self.constants),
            "absent": dict(self.absent),
        }

    @classmethod
    def decode(cls, raw: bytes, *, source: Path | str) -> LevelProbe:
        """A cached probe (cache/surface/probes/<key>.json) through LevelFile; HarnessError if it is none."""
        return decode_json(raw, LevelFile, source=source, error=HarnessError).probe()


@dataclass(frozen=True)
class Surface:
    interpreter: Interpreter
    promise: str  # what the build is held against
    lookup: str  # how symbols were looked up
    ctypes_list: str  # where the cross-check list came from, or why there is none
    symbols: tuple[SymbolEntry, ...]
    levels: tuple[LevelProbe, ...]
    findings: tuple[Finding, ...]
    version: int = SURFACE_VERSION

    @property
    def id(self) -> str:
        return self.interpreter.id

    def level(self, name: str) -> LevelProbe | None:
        return next((p for p in self.levels if p.level == name), None)

    def present(self, max_added: Version | None = None) -> set[str]:
        return {
            s.name for s in self.symbols if s.present and (max_added is None or s.added <= max_added) and s.applicable
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "surface_version": self.version,
            "interpreter": self.interpreter.to_json(),
            "promise": self.promise,
            "lookup": self.lookup,
            "ctypes_list": self.ctypes_list,
            "symbols": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "added": ".".join(map(str, s.added)),
                    "found_as": s.found_as,
                    "ifdef": s.ifdef,
                    "applicable": s.applicable,
                }
                for s in self.symbols
            ],
            "levels": [p.to_json() for p in self.levels],
            "findings": [{"kind": f.kind.value, "message": f.message} for f in self.findings],
        }

    @classmethod
    def decode(cls, raw: bytes, *, source: Path | str) -> Surface:
        """A recorded surface (the cache, tests/fixtures/surfaces) through SurfaceFile; HarnessError if none."""
        return decode_json(raw, SurfaceFile, source=source, error=HarnessError).surface()


# The JSON form of a surface, decoded strictly (the dataclasses above are the working types).


class _Entry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


Measured = dict[str, Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)] | None]


class LevelFile(_Entry, frozen=True):
    level: str
    ok: bool
    reason: str
    layouts: Measured = {}
    constants: Measured = {}
    absent: dict[str, str] = {}

    def probe(self) -> LevelProbe:
        return LevelProbe(
            self.level,
            self.ok,
            self.reason,
            tuple(sorted(self.layouts.items())),
            tuple(sorted(self.constants.items())),
            tuple(sorted(self.absent.items())),
        )


class SymbolFile(_Entry, frozen=True):
    name: str
    kind: str
    added: Annotated[str, msgspec.Meta(pattern=r"^\d+\.\d+$")]
    found_as: str
    ifdef: str = ""
    applicable: bool = True


class FindingFile(_Entry, frozen=True):
    kind: FindingKind
    message: str


class SurfaceFile(_Entry, frozen=True, kw_only=True):
    surface_version: int = 0
    interpreter: InterpreterEntry
    promise: str
    lookup: str
    ctypes_list: str
    symbols: tuple[SymbolFile, ...]
    levels: tuple[LevelFile, ...]
    findings: tuple[FindingFile, ...]
    recorded_from: str = ""  # a recorded surface's provenance (tests/fixtures/surfaces/record.py)

    def surface(self) -> Surface:
        return Surface(
            interpreter=self.interpreter.interpreter(),
            promise=self.promise,
            lookup=self.lookup,
            ctypes_list=self.ctypes_list,
            symbols=tuple(
                SymbolEntry(x.name, x.kind, _version(x.added), x.found_as, x.ifdef, x.applicable) for x in self.symbols
            ),
            levels=tuple(level.probe() for level in self.levels),
            findings=tuple(Finding(f.kind, f.message) for f in self.findings),
            version=self.surface_version,
        )


def _version(text: str) -> Version:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)
