"""The HTML page's one-screen overview, drawn here as static SVG and HTML (it paints before any script runs):
a heatmap of the whole matrix and a compact grid of what each backend produced."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.infra import escape
from harness.model import Interpreter, Status, Target, ext_suffix
from harness.reports.markdown import SYMBOLS, refused
from harness.run.manifest import RunManifest
from harness.run.records import Record
from harness.verdict import artifact

# Worst first: a heatmap square standing for several cells (one per build interpreter) shows the worst.
# "refused" is a pass whose wheel every installer refused, as the tag rules require.
SEVERITY = ("error", "crash", "timeout", "fail", "xpass", "xfail", "refused", "pass", "skip")
LABELS = {
    "pass": "pass",
    "refused": "refused as required",
    "fail": "fail",
    "crash": "crash",
    "timeout": "timeout",
    "error": "error",
    "xfail": "xfail (known issue)",
    "xpass": "xpass",
    "skip": "skip",
}
ROW_H, COL_W, CASE_W, TARGET_W, HEAD_H = 8, 20, 180, 70, 54  # the default matrix's 75 rows: 660 px


def display_status(r: Record) -> str:
    return "refused" if r.status == Status.PASS.value and refused(r) else r.status


def legend() -> str:
    """Swatches with the grids' symbols, so a colour is never the only way to tell statuses apart."""
    items = [f"<span class='key'><i class='sw h-{s}'></i>{SYMBOLS[s]} {LABELS[s]}</span>" for s in SEVERITY]
    items.append("<span class='key'><i class='sw find'></i> dot: refused binary loaded anyway (findings)</span>")
    return "<p class='legend'>" + " ".join(items) + "</p>"


@dataclass(frozen=True)
class Square:
    """One heatmap square: a (case, target, run interpreter) and the cells it stands for."""

    status: str
    first: int  # index (in the page's sorted cells) of the worst cell: the click jumps to it
    cells: int
    findings: bool


def squares(records: Sequence[Record]) -> dict[tuple[str, str, str], Square]:
    """Per (case, target, run interpreter): the worst status over its build interpreters."""
    index = {r.cell: i for i, r in enumerate(sorted(records, key=lambda r: r.cell))}
    groups: dict[tuple[str, str, str], list[Record]] = defaultdict(list)
    for r in records:
        groups[(r.case, r.target, r.run_python)].append(r)
    out = {}
    for key, rs in groups.items():
        worst = min(rs, key=lambda r: (SEVERITY.index(display_status(r)), r.cell))
        out[key] = Square(display_status(worst), index[worst.cell], len(rs), any(r.findings for r in rs))
    return out


def heatmap(records: Sequence[Record], columns: Sequence[str], targets: Sequence[str]) -> str:
    """An SVG: a row per case and target, a column per run interpreter; a square links to its cell."""
    found = squares(records)
    torder = {t: n for n, t in enumerate(targets)}
    rows = sorted({(c, t) for c, t, _ in found}, key=lambda ct: (ct[0], torder.get(ct[1], len(torder)), ct[1]))
    width = CASE_W + TARGET_W + COL_W * len(columns) + 12  # room for the last column's slanted name
    height = HEAD_H + ROW_H * len(rows) + 1
    out = [
        f"<svg id='heatmap' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='status of every cell'>"
    ]
    for n, col in enumerate(columns):
        x = CASE_W + TARGET_W + COL_W * n + COL_W // 2
        out.append(f"<text class='col' transform='translate({x},{HEAD_H - 4}) rotate(-60)'>{escape.html(col)}</text>")
    y, previous = HEAD_H, ""
    for case, target in rows:
        if case != previous:  # a case's rows begin under a rule, with its name
            out.append(f"<line class='rule' x1='0' x2='{width}' y1='{y - 0.5}' y2='{y - 0.5}'/>")
            out.append(f"<text class='case' x='0' y='{y + ROW_H - 1}'>{escape.html(case)}</text>")
            previous = case
        out.append(f"<text class='tgt' x='{CASE_W}' y='{y + ROW_H - 1}'>{escape.html(target)}</text>")
        out += _row(found, case, target, columns, y)
        y += ROW_H
    out.append("</svg>")
    return "".join(out)


def _row(
    found: dict[tuple[str, str, str], Square], case: str, target: str, columns: Sequence[str], y: int
) -> list[str]:
    out = []
    for n, col in enumerate(columns):
        sq = found.get((case, target, col))
        if sq is None:
            continue
        x = CASE_W + TARGET_W + COL_W * n
        what = f"{case} {target} on {col}: {LABELS[sq.status]}" + (f" (worst of {sq.cells})" if sq.cells > 1 else "")
        dot = f"<circle class='find' cx='{x + COL_W // 2 - 1}' cy='{y + ROW_H // 2}' r='2'/>" if sq.findings else ""
        out.append(
            f"<a href='#cell-{sq.first}'><rect class='h-{sq.status}' x='{x}' y='{y}' width='{COL_W - 2}' "
            f"height='{ROW_H - 1}'><title>{escape.html(what)}</title></rect>{dot}</a>"
        )
    return out


@dataclass(frozen=True)
class Build:
    """What one build interpreter produced for a (case, target), and whether it is what the target asks for."""

    build_python: str
    fit: str  # fits, misfit, failed, unknown (no facts about the build interpreter)
    what: str  # tag and suffixes, or why nothing was built
    problems: tuple[str, ...] = ()


def _facts(environment: RunManifest) -> tuple[dict[str, Target], dict[str, Interpreter]]:
    """The targets and the (run and build-only) interpreters the environment describes (decoded, so
    typed); one it does not describe is left out, and the grid says "unknown" there."""
    return environment.targets_on_file(), environment.interpreters_on_file()


def builds(records: Iterable[Record], environment: RunManifest) -> dict[tuple[str, str], dict[str, Build]]:
    """Per (case, target): per build interpreter, what it produced (one record per build says it)."""
    targets, interps = _facts(environment)
    out: dict[tuple[str, str], dict[str, Build]] = defaultdict(dict)
    for r in sorted(records, key=lambda r: r.cell):
        known = out.get((r.case, r.target), {}).get(r.build_python)  # a failed build may have succeeded on retry
        if r.build_python == "-" or (known is not None and known.fit != "failed"):
            continue
        if not r.wheel:
            if r.stage == "build":
                out[(r.case, r.target)][r.build_python] = Build(
                    r.build_python, "failed", f"build failed: {r.reason[:300]}"
                )
            continue
        tag = r.wheel.split("-", 2)[-1].removesuffix(".whl").rsplit("-", 1)[0]
        what = f"{tag} " + (", ".join(sorted({ext_suffix(f) for f in r.ext_files})) or "no extension")
        target, build = targets.get(r.target), interps.get(r.build_python)
        if target is None or build is None:
            out[(r.case, r.target)][r.build_python] = Build(r.build_python, "unknown", what)
            continue
        problems = tuple(artifact.problems(target, build, r.wheel_tags, r.ext_files, None))
        fit = "misfit" if problems else "fits"
        out[(r.case, r.target)][r.build_python] = Build(r.build_python, fit, what, problems)
    return out


FIT = {
    "fits": "tag and suffix fit the target",
    "misfit": "does not fit",
    "failed": "build failed",
    "unknown": "not judged",
}


def produced_grid(records: Sequence[Record], environment: RunManifest, columns: Sequence[str]) -> str:
    """A table, a row per case, a column per target: a square per build interpreter, coloured by whether
    its wheel's tag and extension suffix fit the target; a click on a row's squares opens the details."""
    found = builds(records, environment)
    order = {c: n for n, c in enumerate(columns)}
    names = environment.target_names
    targets = [t for t in names if any(k[1] == t for k in found)]
    targets += sorted({t for _, t in found} - set(targets))
    head = "".join(f"<th>{escape.html(t)}</th>" for t in targets)
    rows = []
    for case in sorted({c for c, _ in found}):
        tds = []
        for target in targets:
            made = sorted(
                found.get((case, target), {}).values(), key=lambda b: (order.get(b.build_python, 99), b.build_python)
            )
            tds.append(f"<td>{_produced_cell(made)}</td>" if made else "<td></td>")
        rows.append(f"<tr><th>{escape.html(case)}</th>{''.join(tds)}</tr>")
    keys = " ".join(f"<span class='key'><i class='sw p-{k}'></i>{v}</span>" for k, v in FIT.items())
    return (
        f"<p class='legend'>A square per build interpreter: {keys}. Click a row of squares for tags and suffixes.</p>"
        f"<table id='produced' class='produced'><thead><tr><th>case</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _produced_cell(made: Sequence[Build]) -> str:
    marks = "".join(f"<i class='sw p-{b.fit}' title='{escape.html(f'{b.build_python}: {b.what}')}'></i>" for b in made)
    lines = "".join(
        f"<li class='p-{b.fit}-text'><b>{escape.html(b.build_python)}</b>: <code>{escape.html(b.what)}</code>"
        + (f" ({escape.html('; '.join(b.problems))})" if b.problems else f" ({FIT[b.fit]})")
        + "</li>"
        for b in made
    )
    return f"<details><summary>{marks}</summary><ul>{lines}</ul></details>"
