"""What each cell should do, and why: explicit tag rules, independent of any installer's code.

Each rule names its source. The installer's own view (packaging.tags run inside the interpreter)
is compared with these rules, never used as the rule itself, so a disagreement is visible.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from packaging.tags import Tag

from .model import Expectation, Interpreter, KnownIssue, Status, Verdict

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
) -> Expectation:
    """A wheel is accepted when any tag of its (possibly compressed) tag set is (PEP 425)."""
    verdicts = [(str(t), *tag_rule(t, interp)) for t in sorted(_parse(wheel_tags), key=str)]
    accepted = [why for _, ok, why in verdicts if ok]
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


def find_known_issue(
    issues: Iterable[KnownIssue], case: str, target: str, build_python: str, run_python: str
) -> KnownIssue | None:
    """The first [[known_issue]] of matrix.toml whose selector covers the cell."""
    return next((k for k in issues if k.matches(case, target, build_python, run_python)), None)


def apply_known_issue(verdict: Verdict, known: KnownIssue | None) -> Verdict:
    """A known upstream bug turns its failure into xfail, and a pass into xpass (remove the entry)."""
    if known is None:
        return verdict
    ref = known.link + (f" ({known.note})" if known.note else "")
    if verdict.status is Status.PASS:
        return replace(
            verdict,
            status=Status.XPASS,
            reason=f"passed although known issue {ref} expects {known.status.value}; "
            f"remove the entry if it is fixed ({verdict.reason})",
        )
    if verdict.status is known.status:
        return replace(verdict, status=Status.XFAIL, reason=f"known issue {ref}: {verdict.reason}")
    if verdict.status in (Status.FAIL, Status.CRASH, Status.TIMEOUT):
        return replace(
            verdict,
            reason=f"{verdict.reason} (known issue {known.link} expects "
            f"{known.status.value}, got {verdict.status.value})",
        )
    return verdict
