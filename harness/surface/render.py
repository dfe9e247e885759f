"""Surfaces as text for the terminal and as the Markdown "Surface" section of a run's report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.infra import escape
from harness.infra.escape import markdown as md
from harness.model import Interpreter, Version
from harness.surface.changes import Change, ChangeKind, compare, value_text
from harness.surface.measure import collect
from harness.surface.model import Level, LevelProbe, Surface
from harness.surface.promise import no_levels_reason
from harness.surface.tracking import Flavour, flavour_layouts, milestones


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
    ok = [p for p in s.levels if p.ok and not Level.parse(p.level).full]
    rows = [f"    level {p.level}: {p.reason}" for p in s.levels if not p.ok]
    if not any(not Level.parse(p.level).full for p in s.levels):
        rows.append(f"    {no_levels_reason(s.interpreter) or 'no stable-ABI level probed'}")
    top = max(ok, key=lambda p: (not Level.parse(p.level).abi3t, Level.parse(p.level)), default=None)
    rows += full_lines(s, top)
    if top is None:
        return rows
    layouts = dict(top.layouts)
    structs_seen = sorted({k.split(".")[0] for k in layouts})
    rows.append(f"    level {top.level} (in full):")
    for struct in structs_seen:
        members = [f"{k.split('.', 1)[1]}@{value_text(v)}" for k, v in layouts.items() if k.startswith(struct + ".")]
        rows.append(f"      {struct}: size {value_text(layouts.get(struct))}; " + ", ".join(members))
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
        changes = compare(p.level, dict(top.layouts), dict(p.layouts), "layout")
        changes += compare(p.level, dict(top.constants), dict(p.constants), "constant")
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


def full_lines(s: Surface, top: LevelProbe | None = None) -> list[str]:
    """The build's own full-ABI layouts (version-specific: what differs between flavours shows here):
    in full when the build has no stable-ABI level, else as their differences from level *top*."""
    rows = []
    for p in s.levels:
        if not p.ok or not Level.parse(p.level).full:
            continue
        full = {k: v for k, v in p.layouts if v is not None}
        if top is None:
            rows.append(f"    level {p.level} (full ABI, no Py_LIMITED_API): layouts")
            rows += _struct_rows(full)
            continue
        stable = {k: v for k, v in top.layouts if v is not None}
        differs = [f"{k} {stable[k]}->{v}" for k, v in full.items() if k in stable and stable[k] != v]
        extra = [f"{k}@{v}" for k, v in full.items() if k not in stable]
        text = f"    level {p.level} (full ABI, no Py_LIMITED_API): as {top.level} where both lay a struct out"
        text += f"; differs: {', '.join(differs)}" if differs else ""
        rows.append(text + (f"; plus {', '.join(extra)}" if extra else ""))
    return rows


def _struct_rows(layouts: Mapping[str, int | None]) -> list[str]:
    rows = []
    for struct in sorted({k.split(".")[0] for k in layouts}):
        members = [
            f"{k.split('.', 1)[1]}@{value_text(v)}"
            for k, v in layouts.items()
            if k.startswith(struct + ".") and v is not None
        ]
        rows.append(f"      {struct}: size {value_text(layouts.get(struct))}; " + ", ".join(members))
    return rows


def text(surfaces: Sequence[Surface], discovered: Sequence[Interpreter] | None = None) -> str:
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
    out += milestone_lines(surfaces, discovered)
    out += flavour_lines(surfaces)
    return escape.text("\n".join(out), newlines=True)  # ids, symbols and findings from probes: no control sequences


def flavour_lines(surfaces: Sequence[Surface]) -> list[str]:
    """The full-ABI layouts of each version's GIL release build against its other flavours' builds."""
    out = ["Full-ABI layouts across flavours (version-specific wheels: cpXY vs cpXYt, cpXYd)"]
    compared = flavour_layouts(surfaces)
    for f in compared:
        out.append(f"  {f.version}: {f.base} -> {f.other}: " + ("same layouts" if not f.changes else ""))
        out += [f"      {c.describe()}" for c in f.changes]
    if not any(Flavour.of(s.interpreter) is Flavour.FREE_THREADED for s in surfaces):
        out.append("  no free-threaded build among these: its full-ABI layouts are not compared")
    return out if len(out) > 1 else []


def milestone_lines(surfaces: Sequence[Surface], discovered: Sequence[Interpreter] | None = None) -> list[str]:
    found, notes = milestones(surfaces, discovered)
    out = ["ABI tracking over the builds above: last ABI addition / last ABI change version, per flavour and level"]
    for m in found:
        change = m.last_change or "none seen"
        out.append(
            f"  {m.flavour.value:<13} level {m.level:<10} addition {m.last_addition:<8} change {change:<9} "
            f"({' '.join(m.builds)})"
        )
        out += [f"      {e}" for e in m.evidence]
        out += [f"      no ABI change: {k}" for k in m.known]
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
        return escape.text("\n".join(out), newlines=True)
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
    return escape.text("\n".join(out), newlines=True)


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
        shown = ", ".join(f"`{md(m)}`" for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
        levels = ", ".join(md(p.level) if p.ok else f"~~{md(p.level)}~~" for p in s.levels) or "-"
        out.append(
            f"| {md(s.id)} | {md(s.promise)} | {len(applicable) - len(missing)}/{len(applicable)} | "
            f"{shown or '-'} | {levels} | {len(s.findings)} |"
        )
    return [*out, *_milestone_table(surfaces), ""]


def _milestone_table(surfaces: Sequence[Surface]) -> list[str]:
    found, notes = milestones(surfaces)
    out = [
        "",
        "Last ABI addition / last ABI change version per flavour and stable-ABI level (over the builds above):",
        "",
        "| flavour | level | last addition | last change | builds |",
        "|---|---|---|---|---|",
    ]
    for m in found:
        change = m.last_change or "none seen"
        builds = md(", ".join(m.builds))
        out.append(f"| {m.flavour.value} | {md(m.level)} | {md(m.last_addition)} | {md(change)} | {builds} |")
    known = dict.fromkeys(k.split(": ", 1)[1] for m in found for k in m.known)  # once, not once per level
    out += [f"- {md(n)}" for n in notes]
    out += [f"- no ABI change: {md(k)}" for k in known]
    for f in flavour_layouts(surfaces):
        shown = "; ".join(f"{md(c.name)} {md(c.old)} -> {md(c.new)}" for c in f.changes) or "same layouts"
        out.append(f"- full-ABI layouts {md(f.version)}, {md(f.base)} -> {md(f.other)}: {shown}")
    return out
