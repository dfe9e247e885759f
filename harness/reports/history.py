"""The nightly's history: one Night per merged run, carried forward from the baseline's history.json.

`extend` adds tonight to the baseline's history (or, when the baseline has none, to a night made from the
baseline's own records); `text` is what `python -m harness history RUN` prints; `plot` is the page's SVG.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import msgspec

from harness.errors import ConfigError
from harness.infra import escape
from harness.model import Status
from harness.reports import files
from harness.reports.markdown import SYMBOLS, finding_counts
from harness.reports.overview import SEVERITY, display_status
from harness.run.manifest import RunManifest
from harness.run.records import Record
from harness.schema.decode import read_json
from harness.schema.history import HISTORY_FILE, History, Night

KEEP = 60  # nights kept in the file
SHOWN = 14  # nights plotted, listed and shown as a cell's strip
CODES = {
    "pass": "p",
    "refused": "r",
    "fail": "f",
    "crash": "c",
    "timeout": "t",
    "error": "e",
    "xfail": "x",
    "xpass": "X",
    "skip": "s",
}
STATUS_OF = {code: status for status, code in CODES.items()}


def tools(records: Sequence[Record], environment: RunManifest) -> dict[str, str]:
    """The installer and each build tool with the version(s) the run used."""
    seen: dict[str, set[str]] = {}
    for r in records:
        for name, version in r.build_tools.items():
            seen.setdefault(name, set()).add(str(version))
    out = {name: ", ".join(sorted(versions)) for name, versions in sorted(seen.items())}
    return {"installer": environment.installer or "?", **out}


def night(
    records: Sequence[Record],
    environment: RunManifest,
    new_xpasses: Sequence[str] | None = None,
    installer_changes: Sequence[str] = (),
) -> tuple[Night, dict[str, str]]:
    """Tonight's entry and every cell's status letter. Without a diff (*new_xpasses* None), every xpass
    counts as new: there was nothing before it."""
    shown = {r.cell: display_status(r) for r in records}
    xpasses = [r.cell for r in records if r.status == Status.XPASS.value] if new_xpasses is None else new_xpasses
    entry = Night(
        run_id=environment.run_id or "?",
        started=environment.started or "?",
        counts={s: n for s, n in sorted(Counter(shown.values()).items(), key=lambda sn: SEVERITY.index(sn[0]))},
        problems={r.cell: r.status for r in sorted(records, key=lambda r: r.cell) if Status(r.status).is_problem},
        new_xpasses=sorted(xpasses),
        findings=dict(sorted(finding_counts(records).items())),
        installer_changes=list(installer_changes),
        harness_version=environment.harness_version or "?",
        tools=tools(records, environment),
        statuses="",
    )
    return entry, {cell: CODES[s] for cell, s in shown.items()}


def extend(previous: History | None, entry: Night, codes: dict[str, str]) -> History:
    """*previous* with tonight appended (a rerun of the same run id replaces it), the oldest nights dropped
    past KEEP, and the cell list rebuilt to the cells the kept nights have."""
    nights = [(n, letters(previous, n)) for n in previous.nights] if previous is not None else []
    nights = [(n, c) for n, c in nights if n.run_id != entry.run_id] + [(entry, codes)]
    nights = nights[-KEEP:]
    cells = sorted({cell for _, c in nights for cell in c})
    return History(
        format="abi-harness history",
        version=1,
        cells=cells,
        nights=[msgspec.structs.replace(n, statuses="".join(c.get(cell, ".") for cell in cells)) for n, c in nights],
    )


def letters(history: History, entry: Night) -> dict[str, str]:
    """A night's status letter per cell (absent cells left out)."""
    return {cell: code for cell, code in zip(history.cells, entry.statuses, strict=False) if code != "."}


def read(run_dir: Path) -> History | None:
    """The run's history.json, None when it has none; a damaged one is DamagedResults (exit 3)."""
    path = run_dir / HISTORY_FILE
    return read_json(path, History) if path.is_file() else None


def write(run_dir: Path, history: History) -> Path:
    return files.write(
        run_dir, HISTORY_FILE, msgspec.json.format(msgspec.json.encode(history), indent=1).decode() + "\n"
    )


def required(run_dir: Path) -> History:
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir}: not a run directory")
    found = read(run_dir)
    if found is None:
        raise ConfigError(f"{run_dir}: no {HISTORY_FILE} (the nightly's merge job writes one into its merged run)")
    return found


def strips(history: History, last: int = SHOWN) -> dict[str, str]:
    """Per cell, its status letters over the last nights, oldest first ("." where it was not run)."""
    nights = history.nights[-last:]
    return {
        cell: "".join(n.statuses[i] if i < len(n.statuses) else "." for n in nights)
        for i, cell in enumerate(history.cells)
    }


def _changed_tools(before: Night | None, entry: Night) -> str:
    if before is None:
        return ", ".join([f"harness {entry.harness_version}", *(f"{k} {v}" for k, v in entry.tools.items())])
    changed = [f"{k} {before.tools.get(k, '-')} -> {v}" for k, v in entry.tools.items() if before.tools.get(k) != v]
    if before.harness_version != entry.harness_version:
        changed.insert(0, f"harness {before.harness_version} -> {entry.harness_version}")
    return "; ".join(changed)


def rows(history: History, last: int = SHOWN) -> list[dict[str, str]]:
    """One row per night, newest first: what the terminal and the page both list."""
    previous_nights: list[Night | None] = [None, *history.nights[:-1]]
    out = []
    for previous, n in zip(previous_nights[-last:], history.nights[-last:], strict=True):
        out.append(
            {
                "night": n.run_id,
                "counts": ", ".join(f"{c} {s}" for s, c in n.counts.items()),
                "problems": str(len(n.problems)),
                "new xpasses": str(len(n.new_xpasses)),
                "findings": ", ".join(f"{c} {k}" for k, c in n.findings.items()) or "-",
                "installer choices": str(max(len(n.installer_changes) - 1, 0)) if n.installer_changes else "-",
                "versions": _changed_tools(previous, n) or "unchanged",
            }
        )
    return out[::-1]


def strip_symbols(codes: str) -> str:
    return " ".join(SYMBOLS[STATUS_OF[c]] if c in STATUS_OF else "·" for c in codes)


def text(history: History, last: int = SHOWN) -> str:
    """The history as `python -m harness history RUN` prints it."""
    table = rows(history, last)
    lines = [f"history: {len(history.nights)} nights, the last {len(table)} newest first"]
    for row in table:
        lines.append(f"  {row.pop('night')}: " + "; ".join(f"{k}: {v}" for k, v in row.items()))
    tonight = history.nights[-1]
    trail = strips(history, last)
    if tonight.problems:
        lines.append(f"problem cells tonight ({len(tonight.problems)}), their last nights oldest first:")
        lines += [f"  {strip_symbols(trail[cell])}  {cell}" for cell in tonight.problems]
    if tonight.new_xpasses:
        lines.append(f"new xpasses tonight ({len(tonight.new_xpasses)}): " + ", ".join(tonight.new_xpasses))
    lines += [f"  {line}" for line in tonight.installer_changes]
    return escape.text("\n".join(lines), newlines=True)  # ids and messages from files: no control sequences


PLOT_W, PLOT_H, LEFT, RIGHT, TOP, BOTTOM = 460, 160, 34, 96, 8, 34


def _y(count: int, top: int) -> float:
    """Log scale (counts run from a few fails to thousands of passes), 0 on the axis."""
    return TOP + (PLOT_H - TOP - BOTTOM) * (1 - math.log10(1 + count) / math.log10(1 + top))


def plot(history: History, last: int = SHOWN) -> str:
    """An SVG line per status: cells per night over the last nights, each line named at its end."""
    nights = history.nights[-last:]
    top = max(max(n.counts.values(), default=0) for n in nights) or 1
    step = (PLOT_W - LEFT - RIGHT) / max(len(nights) - 1, 1)
    xs = [LEFT + step * i for i in range(len(nights))]
    out = [
        f"<svg id='history-plot' xmlns='http://www.w3.org/2000/svg' width='{PLOT_W}' height='{PLOT_H}' "
        f"viewBox='0 0 {PLOT_W} {PLOT_H}' role='img' aria-label='cells per status, night by night'>"
    ]
    for tick in (t for t in (0, 10, 100, 1000, 10000) if t <= top):
        y = _y(tick, top)
        out.append(f"<line class='grid' x1='{LEFT}' x2='{PLOT_W - RIGHT}' y1='{y:.1f}' y2='{y:.1f}'/>")
        out.append(f"<text class='tick' x='{LEFT - 4}' y='{y + 3:.1f}' text-anchor='end'>{tick}</text>")
    for i, n in enumerate(nights):
        if len(nights) <= 7 or i in (0, len(nights) - 1):
            label = escape.html(n.started[5:16].replace("T", " "))
            out.append(
                f"<text class='tick' x='{xs[i]:.1f}' y='{PLOT_H - BOTTOM + 14}' text-anchor='middle'>{label}</text>"
            )
    out.append(f"<text class='tick' x='{LEFT}' y='{PLOT_H - 4}'>cells per night (log scale), oldest left</text>")
    ends: list[tuple[float, str, int]] = []
    for status in SEVERITY:
        counts = [n.counts.get(status, 0) for n in nights]
        if not any(counts):
            continue
        points = " ".join(f"{x:.1f},{_y(c, top):.1f}" for x, c in zip(xs, counts, strict=True))
        out.append(f"<polyline class='l-{status}' points='{points}'/>")
        out += [
            f"<circle class='h-{status}' cx='{x:.1f}' cy='{_y(c, top):.1f}' r='2.5'>"
            f"<title>{escape.html(n.run_id)}: {c} {status}</title></circle>"
            for x, c, n in zip(xs, counts, nights, strict=True)
        ]
        ends.append((_y(counts[-1], top), status, counts[-1]))
    out += _end_labels(ends, PLOT_W - RIGHT + 6)
    out.append("</svg>")
    return "".join(out)


def _end_labels(ends: list[tuple[float, str, int]], x: float) -> list[str]:
    """Each line's name and last count at its end, pushed apart so that none overlap."""
    out, floor = [], 0.0
    for y, status, count in sorted(ends):
        floor = max(y + 3, floor + 10)
        out.append(f"<text class='end t-{status}' x='{x:.1f}' y='{floor:.1f}'>{count} {status}</text>")
    return out


def section(history: History, last: int = SHOWN) -> str:
    """The page's history: the plot and the nights' table, newest first."""
    table = rows(history, last)
    head = "".join(f"<th>{escape.html(k)}</th>" for k in table[0])
    body = "".join("<tr>" + "".join(f"<td>{escape.html(v)}</td>" for v in row.values()) + "</tr>" for row in table)
    return (
        f"<section id='history'><h3>History: {len(history.nights)} nights</h3>{plot(history, last)}"
        f"<details><summary>the last {len(table)} nights</summary><table class='nights'><thead><tr>{head}</tr>"
        f"</thead><tbody>{body}</tbody></table></details></section>"
    )
