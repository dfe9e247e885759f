"""What each cell should do, and why: explicit tag rules, independent of any installer's code.

Each rule names its source. The installer's own view (packaging.tags run inside the interpreter)
is compared with these rules, never used as the rule itself, so a disagreement is visible.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag

from harness.cell.observe import AbiInfo
from harness.model import Expectation, Interpreter, KnownIssue

# Legacy manylinux aliases (PEP 600).
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_VERSION_ABI = re.compile(r"cp(\d)(\d+)(t?)(d?)")
_INTERPRETER = re.compile(r"cp(\d)(\d+)")


def _platform_rule(platform: str, interp: Interpreter) -> tuple[bool, str]:
    """PEP 425 platform tag, PEP 600 manylinux_x_y."""
    if platform == "any":
        return True, "platform 'any'"
    native = interp.platform.replace("-", "_").replace(".", "_")
    arch = native.split("_", 1)[1] if native.startswith("linux_") else ""
    if platform == native:
        return True, f"platform {platform} is the interpreter's own (PEP 425)"
    m = re.fullmatch(r"manylinux_(\d+)_(\d+)_(.+)", platform)
    legacy = re.fullmatch(r"(manylinux1|manylinux2010|manylinux2014)_(.+)", platform)
    if m or legacy:
        need = (int(m.group(1)), int(m.group(2))) if m else _LEGACY_MANYLINUX[legacy.group(1)]  # type: ignore[union-attr]
        tag_arch = m.group(3) if m else legacy.group(2)  # type: ignore[union-attr]
        have = tuple(int(p) for p in interp.glibc.split(".")[:2]) if interp.glibc else None
        if tag_arch != arch:
            return False, f"platform {platform} is for {tag_arch}, interpreter is {arch or native}"
        if have is None:
            return False, f"platform {platform} needs glibc, interpreter reports none (PEP 600)"
        if have < need:
            return (
                False,
                f"platform {platform} needs glibc {need[0]}.{need[1]}, interpreter has {interp.glibc} (PEP 600)",
            )
        return True, f"platform {platform}: glibc {interp.glibc} >= {need[0]}.{need[1]} (PEP 600)"
    return False, f"platform {platform} is not the interpreter's {native} (PEP 425)"


def _abi_rule(tag: Tag, interp: Interpreter) -> tuple[bool, str]:
    """Interpreter + ABI part of one tag for one interpreter."""
    if tag.interpreter.startswith("py") and tag.abi == "none":
        return True, f"{tag.interpreter}-none is pure Python (PEP 425)"
    if tag.interpreter.startswith("pp"):
        return _pypy_rule(tag, interp)
    if not interp.is_cpython:
        return False, f"{tag.interpreter}-{tag.abi} is a CPython tag; {interp.implementation} supports no CPython ABI"
    m = _INTERPRETER.fullmatch(tag.interpreter)
    if not m:
        return False, f"interpreter tag {tag.interpreter} is not CPython's cpXY (PEP 425)"
    tag_version = (int(m.group(1)), int(m.group(2)))
    run = interp.minor
    shown = f"{tag.interpreter}-{tag.abi}"
    newer = f"{shown}: stable ABI {tag_version[0]}.{tag_version[1]} is newer than {run[0]}.{run[1]}"
    if tag.abi == "abi3":
        if interp.free_threaded:
            return False, f"{shown}: abi3 never loads on a free-threaded build (PEP 803)"
        if run < tag_version:
            return False, f"{newer} (PEP 384)"
        return True, f"{shown}: stable ABI works on every later GIL CPython (PEP 384, PEP 425)"
    if tag.abi == "abi3t":
        if not interp.free_threaded:
            return False, f"{shown}: abi3t is for free-threaded builds; installers refuse it on GIL builds (PEP 803)"
        if run < tag_version:
            return False, f"{newer} (PEP 803)"
        return True, f"{shown}: abi3t works on every later free-threaded CPython (PEP 803)"
    if tag.abi == "none":
        if run != tag_version:
            return False, f"{shown}: needs CPython {tag_version[0]}.{tag_version[1]} exactly (PEP 425)"
        return True, f"{shown}: any ABI of CPython {tag_version[0]}.{tag_version[1]} (PEP 425)"
    abi = _VERSION_ABI.fullmatch(tag.abi)
    if not abi:
        return False, f"{shown}: unknown ABI tag {tag.abi}"
    abi_version = (int(abi.group(1)), int(abi.group(2)))
    threaded, debug = bool(abi.group(3)), bool(abi.group(4))
    if abi_version != run or tag_version != run:
        return False, f"{shown}: version-specific ABI for {abi_version[0]}.{abi_version[1]} only (PEP 3149, PEP 425)"
    if threaded != interp.free_threaded:
        kind = "free-threaded" if threaded else "GIL"
        return False, f"{shown}: built for the {kind} build, interpreter is not (PEP 703)"
    if debug and not interp.debug:
        return False, f"{shown}: debug ABI needs a Py_DEBUG interpreter"
    why = "; debug builds load release extensions since 3.8" if interp.debug and not debug else ""
    return True, f"{shown}: matches the interpreter's own ABI (PEP 3149){why}"


def _pypy_rule(tag: Tag, interp: Interpreter) -> tuple[bool, str]:
    """PyPy's tags (a `check` of a release with PyPy wheels): ppXY with its SOABI as the ABI tag, e.g.
    pp311-pypy311_pp73 for SOABI pypy311-pp73 (PEP 425: the ABI tag is the SOABI, '-' as '_')."""
    shown = f"{tag.interpreter}-{tag.abi}"
    if interp.implementation != "pypy":
        return False, f"{shown} is a PyPy tag; interpreter is {interp.implementation} (PEP 425)"
    own = "_".join(interp.soabi.split("-")[:2])
    if tag.interpreter != f"pp{interp.version[0]}{interp.version[1]}" or tag.abi not in (own, "none"):
        return False, f"{shown}: not this PyPy's {interp.base_id}-{own} (PEP 425)"
    return True, f"{shown}: this PyPy's own ABI (PEP 425)"


def tag_rule(tag: Tag, interp: Interpreter) -> tuple[bool, str]:
    """Whether one wheel tag is installable on *interp*, with the rule that decided it."""
    ok, why = _abi_rule(tag, interp)
    if not ok:
        return ok, why
    plat_ok, plat_why = _platform_rule(tag.platform, interp)
    return (True, why) if plat_ok else (False, plat_why)


def expect(
    wheel_tags: Iterable[str],
    interp: Interpreter,
    known_issue: KnownIssue | None = None,
    requires_python: str = "",
) -> Expectation:
    """A wheel is accepted when any tag of its (possibly compressed) tag set is (PEP 425) and its
    Requires-Python admits the interpreter (core metadata, PEP 345)."""
    verdicts = [(str(t), *tag_rule(t, interp)) for t in sorted(_parse(wheel_tags), key=str)]
    accepted = [why for _, ok, why in verdicts if ok]
    if accepted and requires_python and not SpecifierSet(requires_python).contains(interp.version_str):
        rule = f"Requires-Python {requires_python} excludes {interp.version_str} (core metadata, PEP 345)"
        return Expectation(False, rule, known_issue)
    if accepted:
        return Expectation(True, accepted[0], known_issue)
    return Expectation(False, "; ".join(dict.fromkeys(why for _, _, why in verdicts)), known_issue)


def packaging_accepts(wheel_tags: Iterable[str], interp: Interpreter) -> bool | None:
    """The installer-library view: packaging.tags computed inside the interpreter (None if unknown)."""
    if not interp.supported_tags:
        return None
    return bool(set(wheel_tags) & set(interp.supported_tags))


def _parse(tags: Iterable[str]) -> list[Tag]:
    result = []
    for text in tags:
        interp, abi, plat = text.split("-")
        result.append(Tag(interp, abi, plat))
    return result


# PyABIInfo flags (Include/modsupport.h, 3.15).
ABIINFO_STABLE, ABIINFO_GIL, ABIINFO_FREETHREADED, ABIINFO_INTERNAL = 0x1, 0x2, 0x4, 0x8
ABI_CHECK_FIRST = (3, 15)
_SOURCE = "PyABIInfo_Check, Python/modsupport.c (3.15)"


def abi_info_check(info: AbiInfo | None, interp: Interpreter) -> tuple[bool | None, str]:
    """What CPython's own runtime check must do with a module's Py_mod_abi on *interp*.

    (False, why): the interpreter must refuse it with ImportError; (True, why): the check lets it
    through; (None, why): no check applies (no Py_mod_abi, not CPython >= 3.15), so whatever
    happens when it loads is a finding, not a broken promise.
    """
    if info is None:
        return None, "the module declares no Py_mod_abi (no PEP 793 export, or none in its slots)"
    if not interp.is_cpython or interp.minor < ABI_CHECK_FIRST:
        return None, f"{interp.implementation} {interp.version_str} has no Py_mod_abi check (CPython 3.15+)"
    xy = (info.abi_version >> 24 & 0xFF, info.abi_version >> 16 & 0xFF)
    run = interp.minor
    shown = f"{xy[0]}.{xy[1]}"
    if info.major == 0:
        return None, f"PyABIInfo major version 0 turns the check off ({_SOURCE})"
    if info.major > 1:
        return False, f"PyABIInfo version too high ({_SOURCE})"
    if info.flags & ABIINFO_STABLE:
        if info.abi_version and xy > run:
            return False, f"stable ABI {shown} is newer than {run[0]}.{run[1]} ({_SOURCE})"
        if info.abi_version and xy < (3, 2):
            return False, f"invalid stable ABI version {shown} ({_SOURCE})"
        if info.flags & ABIINFO_INTERNAL:
            return False, f"both internal and stable ABI ({_SOURCE})"
    elif info.abi_version and xy != run:
        return False, f"version-specific ABI {shown} is not {run[0]}.{run[1]} ({_SOURCE})"
    elif info.flags & ABIINFO_INTERNAL and info.abi_version >> 8 != _version_hex(interp) >> 8:
        return False, f"internal ABI 0x{info.abi_version:08X} is not this build's ({_SOURCE})"
    gil = info.flags & (ABIINFO_GIL | ABIINFO_FREETHREADED)
    if interp.free_threaded and gil == ABIINFO_GIL:
        return False, f"GIL-only module on a free-threaded build ({_SOURCE})"
    if not interp.free_threaded and gil == ABIINFO_FREETHREADED:
        return False, f"free-threaded-only module on a GIL build ({_SOURCE})"
    return True, f"Py_mod_abi (flags 0x{info.flags:X}, ABI {shown}) passes the check ({_SOURCE})"


def _version_hex(interp: Interpreter) -> int:
    """PY_VERSION_HEX without the release level, which probes do not record (compared >> 8)."""
    major, minor, micro = interp.version
    return major << 24 | minor << 16 | micro << 8
