"""Which differences from a baseline build to a new build break a promise the new build makes.

Pure: two measured surfaces in, broken promises out, each naming the PEP that makes the promise and the
symbol, struct member, constant, suffix or tag. What the new build does not promise (a level newer than
itself, a symbol added after its version, a tag the tag rules let it refuse) is never counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.tags import Tag

from harness.model import Interpreter
from harness.surface import ABI3T_FIRST, Surface, diff, levels_for
from harness.verdict.oracle import tag_rule

SYMBOLS = "PEP 652"  # the stable ABI manifest: a symbol once in it stays exported (PEP 384's promise)
LEVELS = "PEP 384"  # structs and constants of the limited API keep their layout and values
ABI3T = "PEP 803"  # the same promise for abi3t levels and free-threaded builds


@dataclass(frozen=True, order=True)
class Broken:
    """One promise the new build does not keep."""

    promise: str  # "PEP 652"
    subject: str  # "symbol PyCFunction_New", "[3.9] PyMethodDef.ml_flags", "suffix .abi3.so"
    detail: str  # what the baseline had, what the new build has

    def to_json(self) -> dict[str, str]:
        return {"promise": self.promise, "subject": self.subject, "detail": self.detail}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Broken:
        return cls(data["promise"], data["subject"], data["detail"])


FULL = "PEP 3149"  # one SOABI, one version-specific ABI: the full-ABI layouts of two such builds agree


def _level_promise(level: str) -> str:
    if level.startswith("full-"):
        return FULL
    return ABI3T if level.startswith("abi3t-") else LEVELS


def _promised(level: str, baseline: Surface, new: Surface) -> bool:
    """Stable-ABI levels are promised across versions; a full-ABI level only between builds of one SOABI
    (a free-threaded or debug build lays out PyObject and PyModuleDef its own way, and has its own tag)."""
    return not level.startswith("full-") or baseline.interpreter.soabi == new.interpreter.soabi


def _symbols(baseline: Surface, new: Surface) -> list[Broken]:
    """Symbols the new build promises (applicable, added by its version) and does not export."""
    promise = ABI3T if new.interpreter.free_threaded else SYMBOLS
    had = baseline.present()
    out = []
    for s in new.symbols:
        if not s.applicable or s.present or s.added > new.interpreter.minor:
            continue
        since = f"{s.added[0]}.{s.added[1]}"
        where = f"exported by {baseline.id}" if s.name in had else f"not exported by {baseline.id} either"
        detail = f"stable ABI since {since}, not exported by {new.id} ({where})"
        out.append(Broken(promise, f"symbol {s.name}", detail))
    return out


def _levels(baseline: Surface, new: Surface) -> list[Broken]:
    """Layouts and constants at every level both probed; a level the new build should compile at and does not."""
    out = []
    for change in diff(baseline, new):
        # Symbols are judged above, against the new build's promise.
        if change.kind.is_break and change.level and _promised(change.level, baseline, new):
            what = "struct" if change.kind.name.startswith("LAYOUT") else "constant"
            subject = f"[{change.level}] {what} {change.name}"
            out.append(
                Broken(
                    _level_promise(change.level), subject, f"{change.old} in {baseline.id}, {change.new} in {new.id}"
                )
            )
    own = {level.name for level in levels_for(new.interpreter)}
    for probe in baseline.levels:
        mine = new.level(probe.level)
        if probe.ok and probe.level in own and (mine is None or not mine.ok) and _promised(probe.level, baseline, new):
            why = mine.reason if mine is not None else "not probed"
            subject = f"[{probe.level}] limited API level"
            detail = f"{baseline.id}'s headers compile at this level, {new.id}'s do not: {why}"
            out.append(Broken(_level_promise(probe.level), subject, detail))
    return out


def suffix_promise(suffix: str, interp: Interpreter) -> str:
    """The PEP that makes *interp* list an extension suffix, or "" when none does: `.abi3.so` on every GIL
    build (PEP 384), `.abi3t.so` from 3.15 (PEP 803), its own version-specific suffix (PEP 3149). The
    `.abi3-<multiarch>.so` form is upstream's only from 3.15 (gh-122931); Debian adds it to 3.13 and 3.14
    by patch, so its absence from another 3.13 build breaks no promise."""
    # Its own SOABI only: a free-threaded or debug build need not list the GIL release build's
    # `.cpython-313-<multiarch>.so` (nor the reverse); one flavour cannot load the other's version-specific files.
    parts = interp.soabi.split("-")  # cpython-313t-x86_64-linux-gnu
    own = f".cpython-{parts[1]}" if parts[0] == "cpython" and len(parts) > 1 else ""
    if suffix == ".abi3.so" and not interp.free_threaded:
        return LEVELS
    if suffix.startswith(".abi3-") and not interp.free_threaded and interp.minor >= ABI3T_FIRST:
        return LEVELS
    if suffix.startswith(".abi3t") and interp.minor >= ABI3T_FIRST:
        return ABI3T
    if own and (suffix.startswith(f"{own}-") or suffix == f"{own}.so") and suffix.endswith(".so"):
        return "PEP 3149"
    return ""


def _runtime(baseline: Surface, new: Surface) -> list[Broken]:
    """What the importer and installers of the new build refuse although the tag rules say it must accept."""
    a, b = baseline.interpreter, new.interpreter
    out = []
    for suffix in a.ext_suffixes:
        promise = suffix_promise(suffix, b)
        if suffix not in b.ext_suffixes and promise:
            out.append(Broken(promise, f"suffix {suffix}", f"in {a.id}'s EXTENSION_SUFFIXES, not in {new.id}'s"))
    have = set(b.supported_tags)
    if not have:
        return out  # no tags probed (packaging unavailable inside it): nothing to compare
    for text in a.supported_tags:
        if text in have:
            continue
        ok, why = tag_rule(Tag(*text.split("-")), b)
        if ok:
            peps = ", ".join(dict.fromkeys(re.findall(r"PEP \d+", why))) or "PEP 425"
            out.append(Broken(peps, f"tag {text}", f"{new.id} must accept it ({why}); its packaging.tags lists it not"))
    return out


def broken(baseline: Surface, new: Surface) -> tuple[Broken, ...]:
    """Every promise of *new* that the comparison with *baseline* shows broken, sorted."""
    return tuple(sorted({*_symbols(baseline, new), *_levels(baseline, new), *_runtime(baseline, new)}))


def compared(baseline: Surface, new: Surface) -> str:
    """What the comparison covered: the evidence behind "no promise broken"."""
    symbols = [e for e in new.symbols if e.applicable and e.added <= new.interpreter.minor]
    shared = [
        p.level
        for p in new.levels
        if p.ok and (mine := baseline.level(p.level)) is not None and mine.ok and _promised(p.level, baseline, new)
    ]
    items = sum(len(p.layouts) + len(p.constants) for p in new.levels if p.level in shared)
    tags = len(baseline.interpreter.supported_tags)
    return (
        f"{len(symbols)} stable-ABI symbols {new.id} promises; {items} layouts and constants at the levels both "
        f"compile ({', '.join(shared) or 'none'}); {len(baseline.interpreter.ext_suffixes)} suffixes and {tags} tags "
        f"of {baseline.id}"
    )


def unverified(baseline: Surface, new: Surface) -> tuple[str, ...]:
    """What could not be measured on either build, so the promise cannot be said to hold there (a level the
    baseline compiles at and the new build does not is broken, not unverified)."""
    notes = [f"{s.id}: its exported symbols could not be looked up" for s in (baseline, new) if s.lookup == "not run"]
    for probe in new.levels:
        theirs = baseline.level(probe.level)
        if not probe.ok and (theirs is None or not theirs.ok):
            notes.append(
                f"[{probe.level}] {new.id}'s probe failed ({probe.reason}) and {baseline.id} has none to compare"
            )
    return tuple(notes)
