"""Is the wheel what its target asked for? Tag, extension-file suffix and compiled macro values.

A wheel that is not fails every cell built from it, whatever the cell did (judge.py applies it);
the report's overview and the gate read the same shape of a target.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from harness.cell.observe import Compiled
from harness.model import Interpreter, Status, Target, TargetKind, Verdict, ext_suffix

_PYTHON_SUFFIX = re.compile(r"\.(cpython-|abi3|pypy)")  # file suffixes only some interpreters load


def problems(
    target: Target,
    build: Interpreter,
    wheel_tags: Sequence[str],
    ext_files: Sequence[str],
    compiled: Compiled | None,
) -> list[str]:
    """Whether the wheel is what its target asked for: tag, file suffix, compiled macro values.

    Each problem names the expected and the actual value. *compiled* (the extension's
    PY_VERSION_HEX / Py_LIMITED_API / Py_TARGET_ABI3T) is None when nothing imported.
    """
    problems = []
    wanted_tags, wanted_suffix, limited, abi3t = _target_shape(target, build)
    have = sorted({t.rsplit("-", 1)[0] for t in wheel_tags})
    if have != wanted_tags:
        problems.append(f"wheel tag {_compressed(have)} is not the target's {_compressed(wanted_tags)}")
    if not ext_files:
        problems.append("the wheel holds no compiled extension")
    for name in ext_files:
        suffix = ext_suffix(name)
        if not wanted_suffix(suffix):
            problems.append(f"{name}: suffix {suffix} does not fit {target.kind.value}{_suffix_hint(target, build)}")
    if compiled is not None:
        got_limited, got_abi3t = compiled.Py_LIMITED_API, compiled.Py_TARGET_ABI3T
        # With Py_TARGET_ABI3T the headers keep the lower of the two as Py_LIMITED_API (pyabi.h).
        limited_ok = (
            got_limited == limited if not abi3t else isinstance(got_limited, int) and 0 < got_limited <= limited
        )
        if not limited_ok or got_abi3t != abi3t:
            wants = f"{_hex(limited)}" if not abi3t else f"at most {_hex(limited)}"
            problems.append(
                f"compiled Py_LIMITED_API={_hex(got_limited)} Py_TARGET_ABI3T={_hex(got_abi3t)}, "
                f"target wants Py_LIMITED_API {wants} and Py_TARGET_ABI3T {_hex(abi3t)}"
            )
    return problems


def target_tags(target: Target, build: Interpreter) -> tuple[str, ...]:
    """The tags a wheel of *target* built on *build* must carry (what artifact_problems checks), before it
    is built: a plan can ask the tag rules which interpreters must accept it."""
    platform = build.platform.replace("-", "_").replace(".", "_")
    return tuple(f"{tags}-{platform}" for tags in _target_shape(target, build)[0])


def _target_shape(target: Target, build: Interpreter) -> tuple[list[str], Callable[[str], bool], int, int]:
    """(tags without platform, suffix predicate, Py_LIMITED_API, Py_TARGET_ABI3T) a target asks for."""
    floor = target.min_python or (0, 0)
    hex_floor = int(target.limited_api_hex, 16) if target.min_python else 0
    if target.kind is TargetKind.VERSION_SPECIFIC:
        abi = f"cp{build.version[0]}{build.version[1]}" + ("t" if build.free_threaded else "")
        abi += "d" if build.debug else ""
        own = build.ext_suffixes[0] if build.ext_suffixes else ""
        return [f"cp{build.version[0]}{build.version[1]}-{abi}"], lambda s: s == own, 0, 0
    if target.kind is TargetKind.ABI_NONE:
        # Nothing compiled against Python: no interpreter-specific suffix, no limited API.
        return ["py3-none"], lambda s: _PYTHON_SUFFIX.match(s) is None, 0, 0
    if target.kind is TargetKind.ABI3:
        # 3.15 added .abi3-<multiarch>.so; older interpreters only look for .abi3.so (gh-122931).
        multiarch_ok = floor >= (3, 15)
        return (
            [f"{target.py_api}-abi3"],
            lambda s: s == ".abi3.so" or (multiarch_ok and s.startswith(".abi3-")),
            hex_floor,
            0,
        )
    tags = (
        [f"{target.py_api}-abi3t"]
        if target.kind is TargetKind.ABI3T
        else [f"{target.py_api}-abi3", f"{target.py_api}-abi3t"]
    )
    return tags, lambda s: s == ".abi3t.so" or s.startswith(".abi3t-"), hex_floor, hex_floor


def _suffix_hint(target: Target, build: Interpreter) -> str:
    if target.kind is TargetKind.VERSION_SPECIFIC:
        return f" (expected {build.ext_suffixes[0] if build.ext_suffixes else '?'})"
    if target.kind is TargetKind.ABI3:
        return " (expected .abi3.so: interpreters before 3.15 know no other abi3 suffix)"
    if target.kind is TargetKind.ABI_NONE:
        return " (expected no interpreter-specific suffix, e.g. .so)"
    return " (expected .abi3t.so)"


def _hex(value: object) -> str:
    return f"0x{value:08X}" if isinstance(value, int) and value > 1 else repr(value)


def with_problems(verdict: Verdict, problems: Sequence[str]) -> Verdict:
    """A wheel that is not what its target asked for fails every cell, whatever the cell did."""
    if not problems:
        return verdict
    text = "; ".join(problems)
    if verdict.status is Status.PASS:
        return replace(
            verdict,
            status=Status.FAIL,
            stage="artifact",
            reason=f"wheel does not match its target: {text} (cell itself: {verdict.reason})",
        )
    return replace(verdict, reason=f"{verdict.reason}; also, wheel does not match its target: {text}")


def _compressed(tags: Sequence[str]) -> str:
    """['cp315-abi3', 'cp315-abi3t'] -> 'cp315-abi3.abi3t' (PEP 425 compressed tag sets)."""
    if not tags:
        return "none"
    interpreters = sorted({t.split("-", 1)[0] for t in tags})
    abis = sorted({t.split("-", 1)[1] for t in tags})
    return f"{'.'.join(interpreters)}-{'.'.join(abis)}"
