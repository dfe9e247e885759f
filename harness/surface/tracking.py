"""ABI tracking: over the builds of one flavour, the last version that added to and the last that
changed what an extension built for a stable-ABI level relies on."""

from __future__ import annotations

import enum
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from harness.interpreters import providers
from harness.model import Interpreter
from harness.surface.changes import Change, compare, diff
from harness.surface.model import Level, Surface
from harness.surface.promise import promised_constants


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
    known: tuple[str, ...] = field(default=(), compare=False)  # differences that are no ABI change, and why

    def to_json(self) -> dict[str, Any]:
        return {
            "flavour": self.flavour.value,
            "level": self.level,
            "builds": list(self.builds),
            "last_addition_version": self.last_addition,
            "last_change_version": self.last_change or None,
            "evidence": list(self.evidence),
            "known": list(self.known),
        }


def milestones(
    surfaces: Sequence[Surface], discovered: Sequence[Interpreter] | None = None
) -> tuple[tuple[Milestone, ...], tuple[str, ...]]:
    """Per flavour and stable-ABI level, walk the CPython builds in version order and compare each with
    the one before it, restricted to what the level promises (symbols and constants added up to it, its
    layouts). Returns the milestones and notes (flavours with no build, builds left out); *discovered*,
    when given, tells a flavour that was only not selected from one no build of was found for."""
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
            notes.append(_absent_note(flavour, discovered))
            continue
        group.sort(key=lambda s: (s.interpreter.version, providers.rank(s.interpreter.provider), s.id))
        names = {p.level for s in group for p in s.levels if p.ok and not Level.parse(p.level).full}
        for name in sorted(names, key=Level.parse):
            chain = [s for s in group if (p := s.level(name)) is not None and p.ok]
            result.append(_walk(flavour, Level.parse(name), chain))
    return tuple(result), tuple(notes)


def _absent_note(flavour: Flavour, discovered: Sequence[Interpreter] | None) -> str:
    if discovered is None:
        return f"{flavour.value}: no build among those surveyed"
    ids = [i.id for i in discovered if i.is_cpython and Flavour.of(i) is flavour]
    if ids:
        return f"{flavour.value}: not selected ({', '.join(ids)} discovered; add --python ID)"
    return f"{flavour.value}: no build discovered, nothing measured"


def _walk(flavour: Flavour, level: Level, chain: Sequence[Surface]) -> Milestone:
    """One level's milestone over *chain* (its builds in version order)."""
    first = chain[0]
    addition, change = first.interpreter.version_str, ""
    add_why: tuple[str, ...] = (f"{first.id}: first build probed at this level",)
    change_why: tuple[str, ...] = ()
    known: list[str] = []
    for before, after in itertools.pairwise(chain):
        changes = diff(_restrict(before, level), _restrict(after, level), [level.name])
        adds = [c for c in changes if c.kind.is_addition]
        breaks = [c for c in changes if c.kind.is_break]
        known += [f"{before.id} -> {after.id}: {c.describe()}" for c in changes if c.note]
        if adds:
            addition = after.interpreter.version_str
            add_why = (f"{before.id} -> {after.id}", *(c.describe() for c in adds[:5]))
        if breaks:
            change = after.interpreter.version_str
            change_why = (f"{before.id} -> {after.id}", *(c.describe() for c in breaks[:5]))
    builds = tuple(s.id for s in chain)
    return Milestone(flavour, level.name, builds, addition, change, add_why + change_why, tuple(known))


def _restrict(s: Surface, level: Level) -> Surface:
    """*s* with only what *level* promises: symbols and constants added up to it (headers define
    newer ones unguarded, e.g. 3.15's slot ids; headers-only extras were never promised), the level's
    layouts (the probe lays out only the structs of the level already). Runtime facts are compared elsewhere."""
    promised = promised_constants(level)
    probes = tuple(
        replace(p, constants=tuple((k, v) for k, v in p.constants if k in promised)) if p.level == level.name else p
        for p in s.levels
    )
    return replace(s, symbols=tuple(x for x in s.symbols if x.added <= level.version), levels=probes)


@dataclass(frozen=True)
class FlavourLayouts:
    """The full (version-specific) ABI of two builds of one version but different flavours, compared."""

    version: str  # "3.14"
    base: str  # the GIL release build's id
    other: str  # the free-threaded or debug build's id
    changes: tuple[Change, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "base": self.base,
            "other": self.other,
            "changes": [c.to_json() for c in self.changes],
        }


def flavour_layouts(surfaces: Sequence[Surface]) -> tuple[FlavourLayouts, ...]:
    """Per version with a GIL release build, its full-ABI layouts against each other flavour's build."""
    out = []
    for minor in sorted({s.interpreter.minor for s in surfaces if s.interpreter.is_cpython}):
        name = Level(minor, full=True).name
        builds = [s for s in surfaces if s.interpreter.is_cpython and s.interpreter.minor == minor]
        layouts = {s.id: dict(p.layouts) for s in builds if (p := s.level(name)) is not None and p.ok}
        ranked = sorted(
            (s for s in builds if s.id in layouts), key=lambda s: (providers.rank(s.interpreter.provider), s.id)
        )
        gil = [s for s in ranked if Flavour.of(s.interpreter) is Flavour.GIL]
        for other in ranked if gil else ():
            if Flavour.of(other.interpreter) is Flavour.GIL:
                continue
            # The release build from the same provider when there is one (Debian's 3.13 beside its 3.13d).
            base = next((s for s in gil if s.interpreter.provider == other.interpreter.provider), gil[0])
            changes = compare(name, layouts[base.id], layouts[other.id], "layout")
            out.append(FlavourLayouts(f"{minor[0]}.{minor[1]}", base.id, other.id, tuple(changes)))
    return tuple(out)
