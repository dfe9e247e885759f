"""What the stable ABI promises (abi3info, generated from CPython's Misc/stable_abi.toml): symbols,
constants and structs per level, and what a build is held against."""

from __future__ import annotations

from dataclasses import dataclass

import abi3info  # type: ignore[import-untyped]

from harness.model import Interpreter, Version
from harness.surface.model import ABI3T_FIRST, Finding, FindingKind, Level

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
# Members only the full ABI has: the free-threaded PyObject header (Include/object.h under
# Py_GIL_DISABLED: thread id, local and shared reference counts instead of ob_refcnt).
FULL_MEMBERS: dict[str, tuple[str, ...]] = {"PyObject": ("ob_tid", "ob_ref_local", "ob_ref_shared")}

# Bits whose presence in a constant changes nothing at run time. Py_TPFLAGS_HAVE_VERSION_TAG (1 << 18)
# left Py_TPFLAGS_DEFAULT in 3.10, when the flag was made to do nothing (bpo-42747: tp_version_tag is
# always there); a level-3.9 heap type built with 3.9 or 3.10 headers works on 3.9, 3.10 and 3.13 alike.
NO_OP_BITS: dict[str, tuple[int, str]] = {
    "Py_TPFLAGS_DEFAULT": (1 << 18, "only Py_TPFLAGS_HAVE_VERSION_TAG (1<<18), a no-op flag since 3.10 (bpo-42747)")
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
    """Structs whose layout (or listed members) is ABI at *level*; abi3t makes some opaque. At a full
    level, the same structs as the build's own (version-specific) ABI lays them out."""
    names = []
    for name, struct in abi3info.STRUCTS.items():
        if type(struct).__name__ == "OpaqueStruct" or (struct.added.major, struct.added.minor) > level.version:
            continue
        opaque_under_abi3t = getattr(struct, "abi3t_opaque", False) or name in ("PyObject", "PyVarObject")
        if level.abi3t and opaque_under_abi3t:
            continue
        names.append(name)
    return tuple(names)


def members(struct: str, level: Level) -> tuple[str, ...]:
    return MEMBERS.get(struct, ()) + (FULL_MEMBERS.get(struct, ()) if level.full else ())


def promised_constants(level: Level) -> frozenset[str]:
    """Constants the manifest lists as added at or before *level* (headers-only extras never are)."""
    return frozenset(name for name, added in constants() if added is not None and added <= level.version)


def no_op_change(name: str, before: int, after: int) -> str:
    """Why a changed constant value means the same to the runtime, or "" when it does not."""
    mask, why = NO_OP_BITS.get(name, (0, ""))
    return why if before != after and (before ^ after) & ~mask == 0 else ""


@dataclass(frozen=True)
class KnownGap:
    """A stable-ABI symbol CPython itself knowingly leaves out on some versions: a known defect or a
    deliberate omission with its reference, not an ABI change of the build."""

    name: str
    minors: tuple[Version, ...]
    what: str  # "not exported" (the binary) or "not in its own list" (test.test_stable_abi_ctypes)
    reference: str
    why: str

    def describe(self) -> str:
        return f"{self.name} {self.what} ({self.reference}): {self.why}"


KNOWN_GAPS = (
    KnownGap(
        "PyCFunction_New",
        ((3, 9),),
        "not exported",
        "gh-87405",
        "3.9 defines it without PyAPI_FUNC, so libpython does not export it (a CPython 3.9 bug; "
        "exported again from 3.10); an extension that links the symbol cannot load on 3.9",
    ),
    *(
        KnownGap(
            name,
            ((3, 11), (3, 12)),
            "not in its own list",
            "bpo-44133",
            "left out of test_stable_abi_ctypes on purpose: a Py_TRACE_REFS build exports it under another "
            "name; the symbol itself is exported",
        )
        for name in ("PyModule_Create2", "PyModule_FromDefAndSpec2")
    ),
)


def known_gap(name: str, interp: Interpreter, what: str) -> KnownGap | None:
    if not interp.is_cpython:
        return None
    return next((g for g in KNOWN_GAPS if g.name == name and g.what == what and interp.minor in g.minors), None)


def no_levels_reason(interp: Interpreter) -> str:
    """Why a build has no stable-ABI level to probe, or "" when it has some."""
    if interp.free_threaded and interp.minor < ABI3T_FIRST:
        return (
            "no stable-ABI level: Python.h refuses Py_LIMITED_API on a free-threaded build before 3.15 "
            '(#error "The limited API is not currently supported in the free-threaded build", gh-111506)'
        )
    return ""


def promise_for(interp: Interpreter) -> tuple[str, list[Finding]]:
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
