"""What changed between two runs: regressions, fixes, new xpasses, cells added/removed, reasons, what was built."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from harness.infra import escape
from harness.model import Status, ext_suffix
from harness.run.records import Record

WAS_FINE = frozenset({Status.PASS.value, Status.XFAIL.value, Status.SKIP.value})
BROKEN = frozenset({Status.FAIL.value, Status.CRASH.value, Status.TIMEOUT.value, Status.ERROR.value})
# Exception class names as they appear in reasons and observations ("ModuleNotFoundError: No module ...").
EXCEPTION = re.compile(r"\b([A-Z][A-Za-z0-9_]*(?:Error|Exception|Warning|Exit|Interrupt|Fault))\b")


@dataclass(frozen=True)
class Change:
    """One cell present in both runs whose status or exception class changed."""

    cell: str
    before: str
    after: str
    reason: str  # the new run's reason
    before_reason: str = ""


@dataclass(frozen=True)
class Built:
    """What one build (case, target, build interpreter) produced, in both runs."""

    key: str  # case:target:build_python
    before: str
    after: str


@dataclass(frozen=True)
class Diff:
    regressions: tuple[Change, ...]
    fixes: tuple[Change, ...]
    new_xpasses: tuple[Change, ...]
    other_changes: tuple[Change, ...]  # any other status change (e.g. pass -> skip)
    reason_changes: tuple[Change, ...]  # same status, another exception class
    added: tuple[Change, ...]  # before = ""
    removed: tuple[Change, ...]  # after = ""
    produced: tuple[Built, ...]

    @property
    def clean(self) -> bool:
        return not any(getattr(self, name) for name in self.__dataclass_fields__)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def exception_classes(record: Record) -> tuple[str, ...]:
    """Exception class names in the reason and, as observed, in each load (not the messages: those vary
    by version)."""
    loads = record.observed.loads if record.observed else ()
    observed = {load.exception_type for load in loads if load.exception_type}
    return tuple(sorted(set(EXCEPTION.findall(record.reason)) | observed))


def produced_by(records: Sequence[Record]) -> dict[str, str]:
    """Per build (case:target:build_python): its wheel tags and extension suffixes, or that none was made."""
    out: dict[str, str] = {}
    for r in records:
        if r.build_python == "-" or r.stage == "plan":
            continue
        key = f"{r.case}:{r.target}:{r.build_python}"
        if r.wheel:
            tags = ", ".join(sorted(r.wheel_tags)) or "no tags"
            suffixes = ", ".join(sorted({ext_suffix(f) for f in r.ext_files})) or "no extension"
            out[key] = f"{tags} [{suffixes}]"
        else:
            out.setdefault(key, "no wheel")
    return out


def diff(baseline: Sequence[Record], new: Sequence[Record]) -> Diff:
    before = {r.cell: r for r in baseline}
    after = {r.cell: r for r in new}
    regressions, fixes, xpasses, other, reasons = [], [], [], [], []
    for cell in sorted(before.keys() & after.keys()):
        b, a = before[cell], after[cell]
        change = Change(cell, b.status, a.status, a.reason, b.reason)
        if b.status in WAS_FINE and a.status in BROKEN:
            regressions.append(change)
        elif b.status in BROKEN and a.status in {Status.PASS.value, Status.XFAIL.value}:
            fixes.append(change)
        elif a.status == Status.XPASS.value and b.status != a.status:
            xpasses.append(change)
        elif a.status != b.status:
            other.append(change)
        elif exception_classes(b) != exception_classes(a):
            reasons.append(change)
    added = [Change(c, "", after[c].status, after[c].reason) for c in sorted(after.keys() - before.keys())]
    xpasses += [c for c in added if c.after == Status.XPASS.value]
    removed = [Change(c, before[c].status, "", "", before[c].reason) for c in sorted(before.keys() - after.keys())]
    built_before, built_after = produced_by(baseline), produced_by(new)
    produced = [
        Built(key, built_before[key], built_after[key])
        for key in sorted(built_before.keys() & built_after.keys())
        if built_before[key] != built_after[key]
    ]
    return Diff(
        tuple(regressions),
        tuple(fixes),
        tuple(xpasses),
        tuple(other),
        tuple(reasons),
        tuple(added),
        tuple(removed),
        tuple(produced),
    )


SECTIONS = (
    ("regressions", "Regressions (was pass, xfail or skip; now fail, crash, timeout or error)"),
    ("fixes", "Fixes (was a problem, now pass or xfail)"),
    ("new_xpasses", "New xpasses (a known issue no longer bites: remove it from matrix.toml?)"),
    ("other_changes", "Other status changes"),
    ("reason_changes", "Same status, another exception class"),
    ("added", "Cells added"),
    ("removed", "Cells removed"),
)


def _line(c: Change, markdown: bool) -> str:
    """One change on one line: every value from the two runs' records escaped (a reason's newline too)."""
    esc = escape.markdown if markdown else escape.text
    cell = f"`{esc(c.cell)}`" if markdown else esc(c.cell)
    before, after = esc(c.before), esc(c.after)
    if not c.before:
        return f"{cell}: new, {after}: {esc(c.reason[:200])}"
    if not c.after:
        return f"{cell}: was {before}"
    why = esc(c.reason[:200])
    if c.before == c.after:
        old = esc(", ".join(EXCEPTION.findall(c.before_reason)) or "no exception")
        return f"{cell}: {after}, was {old}, now: {why}"
    return f"{cell}: {before} -> {after}: {why}"


def headline(d: Diff) -> str:
    counts = [(name, len(getattr(d, name))) for name, _ in SECTIONS] + [("produced changes", len(d.produced))]
    parts = [f"{n} {name.replace('_', ' ')}" for name, n in counts if n]
    return "no changes" if not parts else ", ".join(parts)


def text(d: Diff, limit: int = 50) -> str:
    lines = [f"diff: {headline(d)}"]
    for name, title in SECTIONS:
        items: Sequence[Change] = getattr(d, name)
        if items:
            lines.append(f"{title}: {len(items)}")
            lines += [f"  {_line(c, False)}" for c in items[:limit]]
            if len(items) > limit:
                lines.append(f"  ... and {len(items) - limit} more (--json for all)")
    if d.produced:
        lines.append(f"What a backend produced changed: {len(d.produced)}")
        lines += [escape.text(f"  {b.key}: {b.before} -> {b.after}") for b in d.produced[:limit]]
    return "\n".join(lines)


def markdown(d: Diff, baseline_id: str = "baseline") -> str:
    out = [f"## Changes since {escape.markdown(baseline_id)}", "", headline(d) + ".", ""]
    for name, title in SECTIONS:
        items: Sequence[Change] = getattr(d, name)
        if items:
            out += [f"### {title}: {len(items)}", ""]
            out += [f"- {_line(c, True)}" for c in items]
            out.append("")
    if d.produced:
        out += [f"### What a backend produced changed: {len(d.produced)}", ""]
        md = escape.markdown
        out += [f"- `{md(b.key)}`: {md(b.before)} -> {md(b.after)}" for b in d.produced]
        out.append("")
    return "\n".join(out)
