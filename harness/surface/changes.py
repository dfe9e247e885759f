"""What differs between two surfaces: symbols, layouts and constants per level, runtime facts."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from harness.surface.model import Level, Surface
from harness.surface.promise import known_gap, no_op_change


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
    CONSTANT_NO_OP = "constant-no-op"  # a value that differs only in bits the runtime ignores (note says which)
    KNOWN_GAP = "known-gap"  # a symbol CPython knowingly leaves out on one of the two versions (note: reference)

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
    note: str = ""  # why a difference is not an ABI change (a no-op bit, a known gap)

    def describe(self) -> str:
        where = f"[{self.level}] " if self.level else ""
        values = f": {self.old} -> {self.new}" if self.old and self.new else f": {self.old or self.new}"
        values = "" if values == ": " else values
        note = f" ({self.note})" if self.note else ""
        return f"{self.kind.value:<17} {where}{self.name}{values}{note}"

    def to_json(self) -> dict[str, str]:
        out = {"kind": self.kind.value, "level": self.level, "name": self.name, "old": self.old, "new": self.new}
        return out | ({"note": self.note} if self.note else {})


def value_text(value: int | None) -> str:
    return "absent" if value is None else str(value)


def diff(a: Surface, b: Surface, levels: Sequence[str] | None = None) -> tuple[Change, ...]:
    """What differs from *a* to *b*: symbols, and layouts/constants at every level both probed."""
    changes = _symbol_changes(a, b)
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
        changes += compare(name, dict(pa.layouts), dict(pb.layouts), "layout")
        changes += compare(name, dict(pa.constants), dict(pb.constants), "constant")
    ia, ib = a.interpreter, b.interpreter
    if ia.soabi != ib.soabi:
        changes.append(Change(ChangeKind.SOABI_CHANGED, "", "SOABI", ia.soabi, ib.soabi))
    changes += [Change(ChangeKind.SUFFIX_ADDED, "", s) for s in ib.ext_suffixes if s not in ia.ext_suffixes]
    changes += [Change(ChangeKind.SUFFIX_REMOVED, "", s) for s in ia.ext_suffixes if s not in ib.ext_suffixes]
    tags_a, tags_b = set(ia.supported_tags), set(ib.supported_tags)
    changes += [Change(ChangeKind.TAG_ADDED, "", t) for t in ib.supported_tags if t not in tags_a]
    changes += [Change(ChangeKind.TAG_REMOVED, "", t) for t in ia.supported_tags if t not in tags_b]
    return tuple(changes)


def _symbol_changes(a: Surface, b: Surface) -> list[Change]:
    """Symbols one build exports and the other lacks; a gap CPython knowingly left is said as such."""
    changes: list[Change] = []
    added_in = {s.name: s.added for s in (*a.symbols, *b.symbols)}
    have_a, have_b = a.present(), b.present()
    for name in sorted(have_b - have_a):
        since = f"stable ABI since {'.'.join(map(str, added_in[name]))}"
        gap = known_gap(name, a.interpreter, "not exported")
        if gap is not None:
            changes.append(Change(ChangeKind.KNOWN_GAP, "", name, "missing", "exported again", gap.reference))
        else:
            changes.append(Change(ChangeKind.SYMBOL_ADDED, "", name, "", since))
    for name in sorted(have_a - have_b):
        since = f"stable ABI since {'.'.join(map(str, added_in[name]))}"
        gap = known_gap(name, b.interpreter, "not exported")
        if gap is not None:
            changes.append(Change(ChangeKind.KNOWN_GAP, "", name, since, "missing", gap.describe()))
        else:
            changes.append(Change(ChangeKind.SYMBOL_REMOVED, "", name, since, "missing"))
    return changes


def compare(level: str, old: dict[str, int | None], new: dict[str, int | None], what: str) -> list[Change]:
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
            out.append(Change(kinds[0], level, name, "absent", value_text(after)))
        elif after is None:
            out.append(Change(kinds[1], level, name, value_text(before), "absent"))
        elif what == "constant" and (no_op := no_op_change(name, before, after)):
            out.append(Change(ChangeKind.CONSTANT_NO_OP, level, name, value_text(before), value_text(after), no_op))
        else:
            out.append(Change(kinds[2], level, name, value_text(before), value_text(after)))
    return out
