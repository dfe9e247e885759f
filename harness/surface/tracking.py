"""ABI tracking: over the builds of one flavour, the last version that added to and the last that
changed what an extension built for a stable-ABI level relies on."""

from __future__ import annotations

import enum
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.interpreters import providers
from harness.model import Interpreter
from harness.surface.changes import diff
from harness.surface.model import Level, Surface, SymbolEntry


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
