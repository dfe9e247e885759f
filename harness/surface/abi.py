"""The ABI surface of one interpreter build, measured from the build itself, and what changed between builds.

Three kinds of facts per interpreter:

- symbols: every stable-ABI function and data symbol promised up to its version (abi3info, generated
  from CPython's Misc/stable_abi.toml), looked up with ctypes inside the interpreter
  (`resources/surface_symbols.py`), cross-checked with its own `test.test_stable_abi_ctypes` list;
- layouts and constants: a C probe (`resources/surface_probe.c`) compiled against its own headers once per
  stable-ABI level (`Py_LIMITED_API=3`, 3.9 ... its version, `Py_TARGET_ABI3T` from 3.15), printing
  sizeof/offsetof of the structs whose layout the stable ABI fixes and the values of its constants;
- the runtime facts discovery already probed (SOABI, EXTENSION_SUFFIXES, accepted tags).

Gaps (PyPy's cpyext, a missing test package, a probe that does not compile) are findings with
reasons, never errors. `diff` compares two surfaces; `milestones` turns the builds of one flavour
into the "last ABI addition" and "last ABI change" versions per level (the seeds' ABI-tracking idea).
"""

from __future__ import annotations

import enum
import hashlib
import itertools
import json
import os
import re
import shlex
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import abi3info  # type: ignore[import-untyped]

from harness.infra import proc, rootfs
from harness.interpreters import providers
from harness.model import Interpreter, Version

SURFACE_VERSION = 1  # bump when the meaning of a recorded surface changes
ABI3T_FIRST: Version = (3, 15)
SYMBOLS_TIMEOUT_S = 120
PROBE_TIMEOUT_S = 300

# Member lists of the structs whose layout the stable ABI fixes (struct_abi_kind 'full-abi' or
# 'members' in Misc/stable_abi.toml; abi3info names them but does not list members).
MEMBERS: dict[str, tuple[str, ...]] = {
    "PyObject": ("ob_refcnt", "ob_type"),
    "PyVarObject": ("ob_base", "ob_size"),
    "PyMethodDef": ("ml_name", "ml_meth", "ml_flags", "ml_doc"),
    "PyMemberDef": ("name", "type", "offset", "flags", "doc"),
    "PyGetSetDef": ("name", "get", "set", "doc", "closure"),
    "PyModuleDef_Base": ("ob_base", "m_init", "m_index", "m_copy"),
    "PyModuleDef": ("m_base", "m_name", "m_doc", "m_size", "m_methods", "m_slots", "m_traverse", "m_clear", "m_free"),
    "PyStructSequence_Field": ("name", "doc"),
    "PyStructSequence_Desc": ("name", "doc", "fields", "n_in_sequence"),
    "PyType_Slot": ("slot", "pfunc"),
    "PyType_Spec": ("name", "basicsize", "itemsize", "flags", "slots"),
    "PyModuleDef_Slot": ("slot", "value"),
    "Py_buffer": (
        "buf",
        "obj",
        "len",
        "itemsize",
        "readonly",
        "ndim",
        "format",
        "shape",
        "strides",
        "suboffsets",
        "internal",
    ),
    "PyABIInfo": ("abiinfo_major_version", "abiinfo_minor_version", "flags", "build_version", "abi_version"),
    "PyCriticalSection": ("_cs_prev", "_cs_mutex"),
    "PyCriticalSection2": ("_cs_base", "_cs_mutex2"),
    "PySlot": ("sl_id", "sl_flags", "sl_ptr"),
    "PyLongLayout": ("bits_per_digit", "digit_size", "digits_order", "digit_endianness"),
    "PyLongExport": ("value", "negative", "ndigits", "digits"),
}

# Items of abi3info.MACROS that are statements or function-like macros, not values to print.
NOT_VALUES = frozenset(
    {
        "Py_BEGIN_ALLOW_THREADS",
        "Py_BLOCK_THREADS",
        "Py_UNBLOCK_THREADS",
        "Py_END_ALLOW_THREADS",
        "PyMODEXPORT_FUNC",
        "PyABIInfo_VAR",
        "Py_BEGIN_CRITICAL_SECTION",
        "Py_END_CRITICAL_SECTION",
        "Py_BEGIN_CRITICAL_SECTION2",
        "Py_END_CRITICAL_SECTION2",
        "PySlot_DATA",
        "PySlot_FUNC",
        "PySlot_SIZE",
        "PySlot_INT64",
        "PySlot_UINT64",
        "PySlot_STATIC_DATA",
        "PySlot_END",
        "PySlot_PTR",
        "PySlot_PTR_STATIC",
    }
)

# Constants the limited-API headers expose that the manifest does not list (flags and slot values
# real extensions use); probed too, so a change of their value shows, but never "promised".
EXTRA_CONSTANTS = (
    "METH_KEYWORDS",
    "Py_TPFLAGS_HEAPTYPE",
    "Py_TPFLAGS_READY",
    "Py_TPFLAGS_READYING",
    "Py_TPFLAGS_IS_ABSTRACT",
    "Py_TPFLAGS_HAVE_FINALIZE",
    "Py_TPFLAGS_HAVE_VERSION_TAG",
    "Py_TPFLAGS_VALID_VERSION_TAG",
    "Py_TPFLAGS_IMMUTABLETYPE",
    "Py_TPFLAGS_DISALLOW_INSTANTIATION",
    "Py_TPFLAGS_MAPPING",
    "Py_TPFLAGS_SEQUENCE",
    "Py_TPFLAGS_MANAGED_DICT",
    "Py_TPFLAGS_MANAGED_WEAKREF",
    "Py_TPFLAGS_PREHEADER",
    "Py_TPFLAGS_INLINE_VALUES",
    "Py_TPFLAGS_LONG_SUBCLASS",
    "Py_TPFLAGS_LIST_SUBCLASS",
    "Py_TPFLAGS_TUPLE_SUBCLASS",
    "Py_TPFLAGS_BYTES_SUBCLASS",
    "Py_TPFLAGS_UNICODE_SUBCLASS",
    "Py_TPFLAGS_DICT_SUBCLASS",
    "Py_TPFLAGS_BASE_EXC_SUBCLASS",
    "Py_TPFLAGS_TYPE_SUBCLASS",
    "Py_MOD_GIL_USED",
    "Py_MOD_GIL_NOT_USED",
    "Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED",
    "Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED",
    "Py_MOD_PER_INTERPRETER_GIL_SUPPORTED",
    "PyABIInfo_INTERNAL",
)


class FindingKind(enum.StrEnum):
    MISSING_SYMBOL = "missing-symbol"  # promised by the manifest, not exported
    LIST_DISAGREES = "list-disagrees"  # the interpreter's own ctypes list and abi3info differ
    NO_LIST = "no-ctypes-list"  # no test.test_stable_abi_ctypes to cross-check with
    NOT_STABLE_ABI = "not-stable-abi"  # PyPy, free-threaded before 3.15: nothing is promised
    ABI3T_RULES = "abi3t-rules"  # how the abi3t promise was determined
    PROBE_FAILED = "probe-failed"  # a level's C probe did not compile or run
    ABSENT_ITEM = "absent-item"  # a promised constant or struct is not in the headers at its level


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    message: str


@dataclass(frozen=True, order=True)
class Level:
    """A stable-ABI level to compile the probe at: Py_LIMITED_API=3 (3.2), 3.9 ... 3.N, abi3t-3.15 ..."""

    version: Version
    abi3t: bool = False

    @property
    def name(self) -> str:
        if self.abi3t:
            return f"abi3t-{self.version[0]}.{self.version[1]}"
        return "3" if self.version == (3, 2) else f"{self.version[0]}.{self.version[1]}"

    @classmethod
    def parse(cls, name: str) -> Level:
        abi3t = name.startswith("abi3t-")
        text = name.removeprefix("abi3t-")
        if text == "3":
            return cls((3, 2))
        major, minor = (int(p) for p in text.split("."))
        return cls((major, minor), abi3t)

    @property
    def defines(self) -> str:
        if self.version == (3, 2):
            return "#define Py_LIMITED_API 3"
        packed = f"0x{self.version[0]:02X}{self.version[1]:02X}0000"
        if self.abi3t:
            # Both at the same value: a lower Py_LIMITED_API beside Py_TARGET_ABI3T hides Py_TYPE in 3.15.2.
            return f"#define Py_LIMITED_API {packed}\n#define Py_TARGET_ABI3T {packed}"
        return f"#define Py_LIMITED_API {packed}"


def levels_for(interp: Interpreter) -> tuple[Level, ...]:
    """GIL builds: 3, 3.9 ... own version, plus abi3t from 3.15. Free-threaded: abi3t levels only
    (Py_LIMITED_API there implies Py_TARGET_ABI3T, which must be 3.15 or above)."""
    minor = interp.minor
    abi3t = [Level((3, n), True) for n in range(ABI3T_FIRST[1], minor[1] + 1)] if minor >= ABI3T_FIRST else []
    if interp.free_threaded:
        return tuple(abi3t)
    return (Level((3, 2)), *(Level((3, n)) for n in range(9, minor[1] + 1)), *abi3t)


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
    def from_json(cls, data: dict[str, Any]) -> LevelProbe:
        return cls(
            data["level"],
            bool(data["ok"]),
            data["reason"],
            tuple(sorted(data.get("layouts", {}).items())),
            tuple(sorted(data.get("constants", {}).items())),
            tuple(sorted(data.get("absent", {}).items())),
        )


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
    def from_json(cls, data: dict[str, Any]) -> Surface:
        return cls(
            interpreter=Interpreter.from_json(data["interpreter"]),
            promise=data["promise"],
            lookup=data["lookup"],
            ctypes_list=data["ctypes_list"],
            symbols=tuple(
                SymbolEntry(
                    s["name"],
                    s["kind"],
                    _version(s["added"]),
                    s["found_as"],
                    s.get("ifdef", ""),
                    bool(s.get("applicable", True)),
                )
                for s in data["symbols"]
            ),
            levels=tuple(LevelProbe.from_json(p) for p in data["levels"]),
            findings=tuple(Finding(FindingKind(f["kind"]), f["message"]) for f in data["findings"]),
            version=int(data.get("surface_version", 0)),
        )


def _version(text: str) -> Version:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


# -- what the stable ABI promises ------------------------------------------------------------------


@dataclass(frozen=True)
class Promised:
    name: str
    kind: str
    added: Version
    ifdef: str


def promised_symbols(upto: Version) -> tuple[Promised, ...]:
    """Functions and data of the stable ABI added at or before *upto*, per abi3info."""
    items = [
        Promised(s.name, "function", (f.added.major, f.added.minor), f.ifdef.name if f.ifdef else "")
        for s, f in abi3info.FUNCTIONS.items()
    ]
    items += [
        Promised(s.name, "data", (d.added.major, d.added.minor), d.ifdef.name if d.ifdef else "")
        for s, d in abi3info.DATAS.items()
    ]
    return tuple(sorted((p for p in items if p.added <= upto), key=lambda p: (p.added, p.name)))


def constants() -> tuple[tuple[str, Version | None], ...]:
    """(name, version that added it or None for headers-only extras), in a stable order."""
    listed = [(name, (m.added.major, m.added.minor)) for name, m in abi3info.MACROS.items() if name not in NOT_VALUES]
    known = {n for n, _ in listed}
    extras: list[tuple[str, Version | None]] = [(n, None) for n in EXTRA_CONSTANTS if n not in known]
    return (*sorted(listed, key=lambda c: (c[1], c[0])), *extras)


def structs(level: Level) -> tuple[str, ...]:
    """Structs whose layout (or listed members) is ABI at *level*; abi3t makes some opaque."""
    names = []
    for name, struct in abi3info.STRUCTS.items():
        if type(struct).__name__ == "OpaqueStruct" or (struct.added.major, struct.added.minor) > level.version:
            continue
        opaque_under_abi3t = getattr(struct, "abi3t_opaque", False) or name in ("PyObject", "PyVarObject")
        if level.abi3t and opaque_under_abi3t:
            continue
        names.append(name)
    return tuple(names)


# -- the C probe -----------------------------------------------------------------------------------


def probe_template() -> str:
    return resources.files("harness.resources").joinpath("surface_probe.c").read_text()


def render_probe(level: Level) -> tuple[str, dict[int, str]]:
    """The probe's C source at *level* and which source line prints which item."""
    head, _, tail = probe_template().replace("@DEFINES@", level.defines).partition("@ITEMS@")
    lines: list[str] = []
    owners: dict[int, str] = {}
    first = head.count("\n") + 1

    def emit(text: str, owner: str = "") -> None:
        if owner:
            owners[first + len(lines)] = owner
        lines.append(text)

    for struct in structs(level):
        emit(f'    printf("size {struct} %lu\\n", (unsigned long)sizeof({struct}));', struct)
        for member in MEMBERS.get(struct, ()):
            key = f"{struct}.{member}"
            emit(f'    printf("offset {key} %lu\\n", (unsigned long)offsetof({struct}, {member}));', key)
    for name, _ in constants():
        emit(f"#ifdef {name}")
        emit(f'    printf("const {name} %lld\\n", (long long)({name}));', name)
        emit("#else")
        emit(f'    printf("const {name} absent\\n");')
        emit("#endif")
    return head + "\n".join(lines) + tail, owners


_DIAGNOSTIC = re.compile(r"probe\.c:(\d+):\d+: (error|note): (.*)")


def _blamed(stderr: str, owners: dict[int, str]) -> dict[str, str]:
    """Items a compile error points at (directly, or through a note "in expansion of macro")."""
    blamed: dict[str, str] = {}
    last_error = ""
    for line in stderr.splitlines():
        if ": error: " in line:
            last_error = line.split(": error: ", 1)[1].strip()
        m = _DIAGNOSTIC.search(line)
        if m and int(m.group(1)) in owners:
            owner = owners[int(m.group(1))]
            message = m.group(3).strip() if m.group(2) == "error" else last_error
            blamed.setdefault(owner, message or "does not compile")
    return blamed


def headers_digest(include_dirs: Sequence[str], root: str = "") -> str:
    h = hashlib.sha256()
    for directory in sorted(set(include_dirs)):
        base = Path(root + directory)
        for path in sorted(base.rglob("*.h")) if base.is_dir() else []:
            h.update(str(path.relative_to(base)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:24]


def run_probe(interp: Interpreter, level: Level, include_dirs: Sequence[str], cache: Path) -> LevelProbe:
    """Compile and run the probe at *level* against *interp*'s headers (inside its rootfs, if any);
    cached by content: headers, level, rendered source."""
    source, owners = render_probe(level)
    key_raw = f"{interp.root}|{headers_digest(include_dirs, interp.root)}|{level.name}|{source}"
    key = hashlib.sha256(key_raw.encode()).hexdigest()[:24]
    cached = cache / "surface" / "probes" / f"{key}.json"
    if cached.is_file():
        return LevelProbe.from_json(json.loads(cached.read_text()))
    missing = [d for d in include_dirs if not Path(interp.root + d, "Python.h").is_file()]
    if not include_dirs or len(missing) == len(include_dirs):
        return LevelProbe(level.name, False, f"no Python.h in {', '.join(include_dirs) or 'any include dir'}")
    if not interp.root and shutil.which("gcc") is None:
        return LevelProbe(level.name, False, "no gcc on PATH to compile the probe with")
    work = cache / "surface" / "build" / f"{key}-{os.getpid()}"  # two runs never share a work dir
    work.mkdir(parents=True, exist_ok=True)
    absent: dict[str, str] = {}
    outcome = None
    for _attempt in range(4):  # each round drops the items the compiler blamed
        (work / "probe.c").write_text(source)
        includes = " ".join(f"-I{shlex.quote(d)}" for d in include_dirs)
        script = f"cd {shlex.quote(str(work))} && gcc -w {includes} probe.c -o probe && ./probe"
        argv = ["sh", "-c", script]
        if interp.root:
            argv = rootfs.command(interp.root, argv, [cache])
        outcome = proc.run(argv, timeout=PROBE_TIMEOUT_S)
        if outcome.ok:
            break
        blamed = _blamed(outcome.stderr, owners)
        if not blamed:
            break
        absent.update(blamed)
        source = "\n".join(
            "    /* dropped: does not compile */" if owners.get(n + 1) in blamed else line
            for n, line in enumerate(source.split("\n"))
        )
    shutil.rmtree(work, ignore_errors=True)
    assert outcome is not None
    if not outcome.ok:
        detail = proc.last_line(outcome.stderr or outcome.stdout, prefer_errors=True)
        return LevelProbe(level.name, False, f"probe does not compile or run: {detail}")
    result = parse_probe_output(level.name, outcome.stdout, absent)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(result.to_json(), indent=1, sort_keys=True))
    tmp.replace(cached)
    return result


def parse_probe_output(level: str, stdout: str, absent: dict[str, str]) -> LevelProbe:
    """The probe's "size|offset|const NAME VALUE" lines; items the compiler refused are absent (None)."""
    const_names = {name for name, _ in constants()}
    layouts: dict[str, int | None] = {k: None for k in absent if k not in const_names}
    consts: dict[str, int | None] = {k: None for k in absent if k in const_names}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        kind, name, value = parts
        if kind in ("size", "offset"):
            layouts[name] = int(value)
        elif kind == "const":
            consts[name] = None if value == "absent" else int(value)
    return LevelProbe(
        level, True, "gcc", tuple(sorted(layouts.items())), tuple(sorted(consts.items())), tuple(sorted(absent.items()))
    )


# -- collection ------------------------------------------------------------------------------------


def symbols_script() -> str:
    return resources.files("harness.resources").joinpath("surface_symbols.py").read_text()


def _identity_key(interp: Interpreter) -> str:
    """Interpreter binary identity + everything that decides what its surface records."""
    real = os.path.realpath(interp.host_path)
    st = os.stat(real)
    raw = "|".join(
        (
            interp.root,
            interp.path,
            real,
            str(st.st_mtime_ns),
            str(st.st_size),
            str(SURFACE_VERSION),
            symbols_script(),
            probe_template(),
            str(getattr(abi3info, "__version__", len(abi3info.FUNCTIONS))),
        )
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def collect(interp: Interpreter, cache: Path) -> Surface:
    """The surface of *interp*, cached by its binary identity and the probes' sources."""
    cached = cache / "surface" / f"{_identity_key(interp)}.json"
    if cached.is_file():
        surface = Surface.from_json(json.loads(cached.read_text()))
        if surface.id == interp.id:
            return surface
        return Surface(interp, *_fields_after_interpreter(surface))
    surface = _measure(interp, cache)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(surface.to_json(), indent=1))
    tmp.replace(cached)
    return surface


def _fields_after_interpreter(s: Surface) -> tuple[Any, ...]:
    return (s.promise, s.lookup, s.ctypes_list, s.symbols, s.levels, s.findings, s.version)


def _promise(interp: Interpreter) -> tuple[str, list[Finding]]:
    own = f"{interp.minor[0]}.{interp.minor[1]}"
    if not interp.is_cpython:
        why = (
            f"{interp.implementation} promises no stable ABI (its cpyext emulates the C API; "
            f"no abi3 wheel installs there): held against abi3 up to {own} for information"
        )
        return f"none ({interp.implementation}); abi3 up to {own} for information", [
            Finding(FindingKind.NOT_STABLE_ABI, why)
        ]
    if interp.free_threaded and interp.minor < ABI3T_FIRST:
        why = f"free-threaded {own} has no stable ABI (abi3t starts at 3.15, PEP 803): abi3 set for information"
        return f"none (free-threaded {own}); abi3 up to {own} for information", [
            Finding(FindingKind.NOT_STABLE_ABI, why)
        ]
    if interp.free_threaded:
        why = (
            "abi3t symbol set: the stable ABI up to this version. abi3info marks only structs as abi3t-opaque "
            "(PyModuleDef, PyModuleDef_Base; PyObject/PyVarObject members are hidden by _Py_OPAQUE_PYOBJECT) "
            "and excludes no function or data symbol; the code index's Misc/stable_abi.toml is an older copy "
            "without abi3t fields, so symbol exclusions, if any, could not be determined: the full set is used"
        )
        return f"abi3t up to {own} (3.15 stable ABI, opaque PyObject)", [Finding(FindingKind.ABI3T_RULES, why)]
    return f"abi3 up to {own}", []


def _measure(interp: Interpreter, cache: Path) -> Surface:
    promise, findings = _promise(interp)
    wanted = promised_symbols(interp.minor)
    argv = [interp.path, "-I", "-c", symbols_script()]
    if interp.root:
        argv = rootfs.command(interp.root, argv, [cache])
    out = proc.run(argv, timeout=SYMBOLS_TIMEOUT_S, stdin=json.dumps(sorted(p.name for p in wanted)))
    data: dict[str, Any] = {}
    if out.ok:
        try:
            data = json.loads(out.stdout.strip().splitlines()[-1])
        except (json.JSONDecodeError, IndexError):
            data = {}
    if not data:
        detail = proc.last_line(out.stderr or out.stdout, prefer_errors=True)
        findings.append(Finding(FindingKind.PROBE_FAILED, f"symbol lookup did not run: {detail}"))
    found: dict[str, str] = data.get("found", {})
    macros: dict[str, bool] = data.get("feature_macros", {})
    symbols = tuple(
        SymbolEntry(p.name, p.kind, p.added, found.get(p.name, ""), p.ifdef, not p.ifdef or bool(macros.get(p.ifdef)))
        for p in wanted
    )
    removal = "an ABI removal" if interp.is_cpython else "not provided by cpyext"
    for s in symbols:
        if s.applicable and not s.present and data:
            added = f"{s.added[0]}.{s.added[1]}"
            message = f"{s.name} ({s.kind}, stable ABI since {added}): {removal}"
            findings.append(Finding(FindingKind.MISSING_SYMBOL, message))
    listed = data.get("ctypes_list")
    source = str(data.get("ctypes_list_source", "not looked at"))
    if listed is None:
        ctypes_list = f"none: {source}"
        if data:
            findings.append(Finding(FindingKind.NO_LIST, f"no cross-check list: {source}"))
    else:
        ctypes_list = f"{source} ({len(listed)} names)"
        expected = {s.name for s in symbols if s.applicable}
        for name in sorted(set(listed) - expected):
            state = "exported" if found.get(name) else "NOT exported"
            findings.append(
                Finding(FindingKind.LIST_DISAGREES, f"{name}: in the interpreter's own list, not in abi3info ({state})")
            )
        for name in sorted(expected - set(listed)):
            message = f"{name}: in abi3info, not in the interpreter's own list"
            findings.append(Finding(FindingKind.LIST_DISAGREES, message))
    include_dirs = [d for d in (data.get("include", ""), data.get("platinclude", "")) if d]
    probes = tuple(run_probe(interp, level, include_dirs, cache) for level in levels_for(interp))
    findings += _probe_findings(interp, probes)
    return Surface(
        interp,
        promise,
        str(data.get("lookup", "not run")),
        ctypes_list,
        symbols,
        probes,
        tuple(findings),
    )


def _probe_findings(interp: Interpreter, probes: Iterable[LevelProbe]) -> list[Finding]:
    findings = []
    promised_consts = dict(constants())
    for p in probes:
        if not p.ok:
            findings.append(Finding(FindingKind.PROBE_FAILED, f"level {p.level}: {p.reason}"))
            continue
        level = Level.parse(p.level)
        for name, value in p.constants:
            added = promised_consts.get(name)
            if value is None and added is not None and added <= level.version:
                findings.append(
                    Finding(
                        FindingKind.ABSENT_ITEM,
                        f"level {p.level}: constant {name} (stable ABI since {added[0]}.{added[1]}) is not defined",
                    )
                )
        for item, why in p.absent:
            if item not in promised_consts:
                findings.append(Finding(FindingKind.ABSENT_ITEM, f"level {p.level}: {item} does not compile: {why}"))
    return findings


# -- diff ------------------------------------------------------------------------------------------


class ChangeKind(enum.StrEnum):
    SYMBOL_ADDED = "symbol-added"
    SYMBOL_REMOVED = "symbol-removed"  # an ABI removal when the older build promised it
    LEVEL_ADDED = "level-added"
    LEVEL_REMOVED = "level-removed"
    LAYOUT_CHANGED = "layout-changed"  # same level, different size/offset: an ABI change
    LAYOUT_ADDED = "layout-added"
    LAYOUT_REMOVED = "layout-removed"
    CONSTANT_CHANGED = "constant-changed"  # same level, different value: an ABI change
    CONSTANT_ADDED = "constant-added"
    CONSTANT_REMOVED = "constant-removed"
    SUFFIX_ADDED = "suffix-added"
    SUFFIX_REMOVED = "suffix-removed"
    TAG_ADDED = "tag-added"
    TAG_REMOVED = "tag-removed"
    SOABI_CHANGED = "soabi-changed"

    @property
    def is_addition(self) -> bool:
        return self in (ChangeKind.SYMBOL_ADDED, ChangeKind.LAYOUT_ADDED, ChangeKind.CONSTANT_ADDED)

    @property
    def is_break(self) -> bool:
        """What makes an extension built against the older build misbehave on the newer one."""
        return self in (
            ChangeKind.SYMBOL_REMOVED,
            ChangeKind.LAYOUT_CHANGED,
            ChangeKind.LAYOUT_REMOVED,
            ChangeKind.CONSTANT_CHANGED,
            ChangeKind.CONSTANT_REMOVED,
        )


@dataclass(frozen=True, order=True)
class Change:
    kind: ChangeKind
    level: str  # "" for symbols (their version is in `old`/`new` context), suffixes and tags
    name: str
    old: str = ""
    new: str = ""

    def describe(self) -> str:
        where = f"[{self.level}] " if self.level else ""
        values = f": {self.old} -> {self.new}" if self.old and self.new else f": {self.old or self.new}"
        values = "" if values == ": " else values
        return f"{self.kind.value:<17} {where}{self.name}{values}"

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind.value, "level": self.level, "name": self.name, "old": self.old, "new": self.new}


def _text(value: int | None) -> str:
    return "absent" if value is None else str(value)


def diff(a: Surface, b: Surface, levels: Sequence[str] | None = None) -> tuple[Change, ...]:
    """What differs from *a* to *b*: symbols, and layouts/constants at every level both probed."""
    changes: list[Change] = []
    added_in = {s.name: s.added for s in (*a.symbols, *b.symbols)}
    have_a, have_b = a.present(), b.present()
    for name in sorted(have_b - have_a):
        since = ".".join(map(str, added_in[name]))
        changes.append(Change(ChangeKind.SYMBOL_ADDED, "", name, "", f"stable ABI since {since}"))
    for name in sorted(have_a - have_b):
        since = ".".join(map(str, added_in[name]))
        changes.append(Change(ChangeKind.SYMBOL_REMOVED, "", name, f"stable ABI since {since}", "missing"))
    names_a = {p.level for p in a.levels if p.ok}
    names_b = {p.level for p in b.levels if p.ok}
    wanted = set(levels) if levels is not None else names_a | names_b
    for name in sorted(wanted & names_b - names_a, key=Level.parse):
        changes.append(Change(ChangeKind.LEVEL_ADDED, name, "probe level"))
    for name in sorted(wanted & names_a - names_b, key=Level.parse):
        changes.append(Change(ChangeKind.LEVEL_REMOVED, name, "probe level"))
    for name in sorted(wanted & names_a & names_b, key=Level.parse):
        pa, pb = a.level(name), b.level(name)
        assert pa is not None
        assert pb is not None
        changes += _compare(name, dict(pa.layouts), dict(pb.layouts), "layout")
        changes += _compare(name, dict(pa.constants), dict(pb.constants), "constant")
    ia, ib = a.interpreter, b.interpreter
    if ia.soabi != ib.soabi:
        changes.append(Change(ChangeKind.SOABI_CHANGED, "", "SOABI", ia.soabi, ib.soabi))
    changes += [Change(ChangeKind.SUFFIX_ADDED, "", s) for s in ib.ext_suffixes if s not in ia.ext_suffixes]
    changes += [Change(ChangeKind.SUFFIX_REMOVED, "", s) for s in ia.ext_suffixes if s not in ib.ext_suffixes]
    tags_a, tags_b = set(ia.supported_tags), set(ib.supported_tags)
    changes += [Change(ChangeKind.TAG_ADDED, "", t) for t in ib.supported_tags if t not in tags_a]
    changes += [Change(ChangeKind.TAG_REMOVED, "", t) for t in ia.supported_tags if t not in tags_b]
    return tuple(changes)


def _compare(level: str, old: dict[str, int | None], new: dict[str, int | None], what: str) -> list[Change]:
    kinds = {
        "layout": (ChangeKind.LAYOUT_ADDED, ChangeKind.LAYOUT_REMOVED, ChangeKind.LAYOUT_CHANGED),
        "constant": (ChangeKind.CONSTANT_ADDED, ChangeKind.CONSTANT_REMOVED, ChangeKind.CONSTANT_CHANGED),
    }[what]
    out = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if before is None:
            out.append(Change(kinds[0], level, name, "absent", _text(after)))
        elif after is None:
            out.append(Change(kinds[1], level, name, _text(before), "absent"))
        else:
            out.append(Change(kinds[2], level, name, _text(before), _text(after)))
    return out


# -- the two numbers -------------------------------------------------------------------------------


class Flavour(enum.StrEnum):
    GIL = "GIL release"
    DEBUG = "debug"
    FREE_THREADED = "free-threaded"

    @classmethod
    def of(cls, interp: Interpreter) -> Flavour:
        if interp.free_threaded:
            return cls.FREE_THREADED
        return cls.DEBUG if interp.debug else cls.GIL


@dataclass(frozen=True)
class Milestone:
    """Over the builds of one flavour, at one level: the newest version that added to what an extension
    built for that level may use, and the newest version that changed or removed something it relies on."""

    flavour: Flavour
    level: str
    builds: tuple[str, ...]  # interpreter ids in version order
    last_addition: str  # a version, e.g. "3.13.18"
    last_change: str  # a version, or "" when no build changed anything at this level
    evidence: tuple[str, ...] = field(default=(), compare=False)  # what made the last addition / change

    def to_json(self) -> dict[str, Any]:
        return {
            "flavour": self.flavour.value,
            "level": self.level,
            "builds": list(self.builds),
            "last_addition_version": self.last_addition,
            "last_change_version": self.last_change or None,
            "evidence": list(self.evidence),
        }


def _within(level: Level, s: SymbolEntry) -> bool:
    return s.added <= level.version


def milestones(surfaces: Sequence[Surface]) -> tuple[tuple[Milestone, ...], tuple[str, ...]]:
    """Per flavour and level, walk the CPython builds in version order and compare each with the one
    before it, restricted to what the level covers (symbols added up to it, its layouts and constants).
    Returns the milestones and notes (flavours with no build, builds left out)."""
    notes: list[str] = []
    by_flavour: dict[Flavour, list[Surface]] = {f: [] for f in Flavour}
    for s in surfaces:
        if not s.interpreter.is_cpython:
            notes.append(f"{s.id}: {s.interpreter.implementation} is left out (no stable ABI to track)")
            continue
        by_flavour[Flavour.of(s.interpreter)].append(s)
    result: list[Milestone] = []
    for flavour, group in by_flavour.items():
        if not group:
            notes.append(f"{flavour.value}: no build discovered, nothing measured")
            continue
        group.sort(key=lambda s: (s.interpreter.version, providers.rank(s.interpreter.provider), s.id))
        level_names = sorted({p.level for s in group for p in s.levels if p.ok}, key=Level.parse)
        for name in level_names:
            level = Level.parse(name)
            chain = [s for s in group if (p := s.level(name)) is not None and p.ok]
            first = chain[0]
            addition, change = first.interpreter.version_str, ""
            add_why: tuple[str, ...] = (f"{first.id}: first build probed at this level",)
            change_why: tuple[str, ...] = ()
            for before, after in itertools.pairwise(chain):
                changes = diff(_restrict(before, level), _restrict(after, level), [name])
                adds = [c for c in changes if c.kind.is_addition]
                breaks = [c for c in changes if c.kind.is_break]
                if adds:
                    addition = after.interpreter.version_str
                    add_why = (f"{before.id} -> {after.id}", *(c.describe() for c in adds[:5]))
                if breaks:
                    change = after.interpreter.version_str
                    change_why = (f"{before.id} -> {after.id}", *(c.describe() for c in breaks[:5]))
            result.append(Milestone(flavour, name, tuple(s.id for s in chain), addition, change, add_why + change_why))
    return tuple(result), tuple(notes)


def _restrict(s: Surface, level: Level) -> Surface:
    """*s* with only the symbols the level covers (runtime facts are compared elsewhere)."""
    return Surface(
        s.interpreter,
        s.promise,
        s.lookup,
        s.ctypes_list,
        tuple(x for x in s.symbols if _within(level, x)),
        s.levels,
        s.findings,
        s.version,
    )


# -- presentation ----------------------------------------------------------------------------------


def _version_text(v: Version) -> str:
    return f"{v[0]}.{v[1]}"


def symbol_table(s: Surface) -> list[str]:
    """Per version that added symbols: promised, present, and the missing names."""
    rows = ["    added  promised  present  missing"]
    versions = sorted({x.added for x in s.symbols})
    for v in versions:
        group = [x for x in s.symbols if x.added == v and x.applicable]
        missing = [x.name for x in group if not x.present]
        shown = ", ".join(missing[:8]) + (f", ... ({len(missing)} in all)" if len(missing) > 8 else "")
        present = len(group) - len(missing)
        rows.append(f"    {_version_text(v):<6} {len(group):>8}  {present:>7}  {shown or '-'}")
    skipped = [x for x in s.symbols if not x.applicable]
    if skipped:
        macros = sorted({x.ifdef for x in skipped})
        rows.append(f"    not applicable here ({len(skipped)}, feature macros off: {', '.join(macros)})")
    return rows


def level_lines(s: Surface) -> list[str]:
    """The top level in full; every other level as its differences from the top one."""
    ok = [p for p in s.levels if p.ok]
    rows = [f"    level {p.level}: {p.reason}" for p in s.levels if not p.ok]
    if not ok:
        return rows
    top = max(ok, key=lambda p: (not Level.parse(p.level).abi3t, Level.parse(p.level)))
    layouts = dict(top.layouts)
    structs_seen = sorted({k.split(".")[0] for k in layouts})
    rows.append(f"    level {top.level} (in full):")
    for struct in structs_seen:
        members = [f"{k.split('.', 1)[1]}@{_text(v)}" for k, v in layouts.items() if k.startswith(struct + ".")]
        rows.append(f"      {struct}: size {_text(layouts.get(struct))}; " + ", ".join(members))
    consts = dict(top.constants)
    defined = {k: v for k, v in consts.items() if v is not None}
    rows.append(f"      constants: {len(defined)} defined, {len(consts) - len(defined)} absent")
    chunk: list[str] = []
    for name, value in defined.items():
        chunk.append(f"{name}={value}")
        if len(chunk) == 8:
            rows.append("        " + " ".join(chunk))
            chunk = []
    if chunk:
        rows.append("        " + " ".join(chunk))
    absent_names = sorted(k for k, v in consts.items() if v is None)
    if absent_names:
        rows.append("        absent: " + " ".join(absent_names))
    for p in sorted(ok, key=lambda p: Level.parse(p.level)):
        if p is top:
            continue
        changes = _compare(p.level, dict(top.layouts), dict(p.layouts), "layout")
        changes += _compare(p.level, dict(top.constants), dict(p.constants), "constant")
        if not changes:
            rows.append(f"    level {p.level}: same as {top.level}")
            continue
        gone = [c.name for c in changes if c.new == "absent"]
        extra = [f"{c.name}={c.new}" for c in changes if c.old == "absent"]
        other = [f"{c.name} {c.old}->{c.new}" for c in changes if "absent" not in (c.old, c.new)]
        text = f"    level {p.level}: as {top.level} without {len(gone)} items"
        if extra:
            text += f"; plus {', '.join(extra[:10])}" + (f" ... ({len(extra)} in all)" if len(extra) > 10 else "")
        if other:
            text += "; differs: " + ", ".join(other)
        rows.append(text)
    return rows


def text(surfaces: Sequence[Surface]) -> str:
    out: list[str] = []
    for s in surfaces:
        i = s.interpreter
        present = len([x for x in s.symbols if x.present and x.applicable])
        applicable = len([x for x in s.symbols if x.applicable])
        out += [
            i.describe(),
            f"  held against: {s.promise}",
            f"  symbols: {present}/{applicable} present, looked up with {s.lookup}; cross-check list: {s.ctypes_list}",
            *symbol_table(s),
            "  layouts and constants per stable-ABI level:",
            *level_lines(s),
            f"  runtime: SOABI {i.soabi or '-'}; EXTENSION_SUFFIXES {' '.join(i.ext_suffixes)}",
            f"  accepted tags: {len(i.supported_tags)} ({i.tags_source}); first {', '.join(i.supported_tags[:4])}",
        ]
        if s.findings:
            out.append(f"  findings ({len(s.findings)}):")
            out += [f"    - {f.kind.value}: {f.message}" for f in s.findings]
        out.append("")
    out += milestone_lines(surfaces)
    return "\n".join(out)


def milestone_lines(surfaces: Sequence[Surface]) -> list[str]:
    found, notes = milestones(surfaces)
    out = ["ABI tracking over the builds above: last ABI addition / last ABI change version, per flavour and level"]
    for m in found:
        change = m.last_change or "none seen"
        out.append(
            f"  {m.flavour.value:<13} level {m.level:<10} addition {m.last_addition:<8} change {change:<9} "
            f"({' '.join(m.builds)})"
        )
        out += [f"      {e}" for e in m.evidence]
    out += [f"  note: {n}" for n in notes]
    return out


def diff_text(a: Surface, b: Surface, changes: Sequence[Change], tag_limit: int = 12) -> str:
    out = [f"surface diff {a.id} ({a.interpreter.version_str}) -> {b.id} ({b.interpreter.version_str})"]
    counts: dict[ChangeKind, int] = {}
    for c in changes:
        counts[c.kind] = counts.get(c.kind, 0) + 1
    out.append("  " + (", ".join(f"{n} {k.value}" for k, n in counts.items()) or "no differences"))
    breaks = [c for c in changes if c.kind.is_break]
    if breaks:
        out.append(f"  ABI changes or removals ({len(breaks)}):")
        out += [f"    {c.describe()}" for c in breaks]
    if not changes:
        return "\n".join(out)
    shown_tags = 0
    out.append("  all differences:")
    for c in changes:
        if c.kind in (ChangeKind.TAG_ADDED, ChangeKind.TAG_REMOVED):
            shown_tags += 1
            if shown_tags > tag_limit:
                continue
        out.append(f"    {c.describe()}")
    if shown_tags > tag_limit:
        out.append(f"    ... {shown_tags - tag_limit} more tag differences (--json lists all)")
    return "\n".join(out)


def report_section(interpreters: Sequence[Interpreter], cache: Path) -> list[str]:
    """Markdown lines of a "Surface" section for a run's report (each surface computed once per
    interpreter identity and cached; the C probes are cached by header content)."""
    return section([collect(i, cache) for i in interpreters])


def section(surfaces: Sequence[Surface]) -> list[str]:
    """The report's "Surface" section from recorded surfaces."""
    out = [
        "## Surface",
        "",
        "Stable-ABI symbols each build exports (ctypes), and what its headers lay out per level "
        "(`python -m harness surface` for details, `--diff A B` to compare two builds).",
        "",
        "| interpreter | held against | symbols present | missing | levels probed | findings |",
        "|---|---|---|---|---|---|",
    ]
    for s in surfaces:
        applicable = [x for x in s.symbols if x.applicable]
        missing = [x.name for x in applicable if not x.present]
        shown = ", ".join(f"`{m}`" for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
        levels = ", ".join(p.level if p.ok else f"~~{p.level}~~" for p in s.levels) or "-"
        out.append(
            f"| {s.id} | {s.promise} | {len(applicable) - len(missing)}/{len(applicable)} | "
            f"{shown or '-'} | {levels} | {len(s.findings)} |"
        )
    found, notes = milestones(surfaces)
    out += [
        "",
        "Last ABI addition / last ABI change version per flavour and stable-ABI level (over the builds above):",
        "",
        "| flavour | level | last addition | last change | builds |",
        "|---|---|---|---|---|",
    ]
    for m in found:
        change = m.last_change or "none seen"
        out.append(f"| {m.flavour.value} | {m.level} | {m.last_addition} | {change} | {', '.join(m.builds)} |")
    out += [f"- {n}" for n in notes]
    return [*out, ""]
