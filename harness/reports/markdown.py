"""Reports rebuilt from records alone: the terminal summary and the Markdown grid per case."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from harness.errors import DamagedResults
from harness.infra import escape
from harness.infra.escape import markdown as md
from harness.infra.paths import UnsafePath, within
from harness.model import Case, Status, TargetKind, ext_suffix
from harness.run.manifest import RunManifest
from harness.run.records import PREFERENCE_FILE, SURFACE_FILE, Record

SYMBOLS = {
    "pass": "✅",
    "refused": "🚫",
    "fail": "❌",
    "xfail": "⚠️",
    "xpass": "❗",
    "skip": "⏭️",
    "crash": "💥",
    "timeout": "⏱️",
    "error": "🛑",
}
LEGEND = (
    "✅ installed, imported, every call correct · 🚫 refused by the installer, as the tag rules require · "
    "❌ fail · 💥 crash · ⏱️ timeout · 🛑 error (harness or infrastructure) · ⚠️ xfail (known upstream issue) · "
    "❗ xpass (known issue no longer bites) · ⏭️ skip · blank: cell not in this run · "
    "after 🚫, the refused binary loaded anyway where no safety net applies: ✳️ loaded and worked, 💥 crashed."
)


def resolve_answers(record: Record) -> dict[str, bool]:
    """Each installer's dry-run answer (accepts?) as observed."""
    installers = record.observed.installers if record.observed else ()
    return {i.name: i.resolve.ok for i in installers if i.resolve}


def refused(record: Record) -> bool:
    answers = resolve_answers(record)
    return bool(answers) and not any(answers.values())


LOADS_ANYWAY = ("imports", "loads and works")  # findings of a refused wheel whose files worked all the same


def symbol(record: Record) -> str:
    if record.status == Status.PASS.value and refused(record):
        # A refused binary loaded anyway that crashed or worked is a finding: marked beside the 🚫.
        kinds = {f.kind for f in record.findings}
        mark = "💥" if kinds & {"crash", "timeout", "no report"} else ("✳️" if kinds & set(LOADS_ANYWAY) else "")
        return SYMBOLS["refused"] + mark
    return SYMBOLS[record.status]


def totals(records: Sequence[Record]) -> str:
    counts = Counter(r.status for r in records)
    parts = [f"{counts[s]} {s.value}" for s in Status if counts[s]]
    return f"{len(records)} cells: " + (", ".join(parts) if parts else "none")


def by_cell(records: Sequence[Record]) -> list[Record]:
    """The records in the order of their cells, not the order in which the cells finished: every list in
    the reports is drawn in this order, so two runs with the same results give the same files."""
    return sorted(records, key=lambda r: r.cell)


def problems(records: Sequence[Record]) -> list[Record]:
    return [r for r in by_cell(records) if Status(r.status).is_problem]


def free_threading_note(environment: RunManifest) -> str | None:
    interps = environment.interpreters
    if interps and not any(i.free_threaded for i in interps):
        return (
            "No free-threaded interpreter found: abi3t rows untested on free-threading, and no "
            "free-threaded column exists. Add one with `uv python install 3.15t` or `--python PATH`."
        )
    return None


def terminal_summary(records: Sequence[Record], environment: RunManifest, run_dir: str, limit: int = 40) -> str:
    lines = [totals(records)]
    bad = problems(records)
    if bad:
        lines.append(f"problems ({len(bad)}):")
        for r in bad[:limit]:
            lines.append(f"  {r.status:<7} {escape.text(r.cell)}: {escape.text(r.reason[:160])}")
        if len(bad) > limit:
            lines.append(f"  ... and {len(bad) - limit} more in report.md")
    xpasses = [r for r in records if r.status == Status.XPASS.value]
    if xpasses:
        links = sorted({r.known_issue or "" for r in xpasses})
        lines.append(f"known issues that no longer bite (remove from matrix.toml?): {escape.text(', '.join(links))}")
    disagreements = installer_disagreements(records)
    if disagreements:
        lines.append(f"installer disagreements ({len(disagreements)}):")
        lines += [f"  {escape.text(r.cell)}: {escape.text(why)}" for r, why in disagreements[:limit]]
    found = finding_counts(records)
    if found:
        shown = ", ".join(f"{n} {kind}" for kind, n in sorted(found.items()))
        lines.append(f"loaded anyway (findings, not problems): {shown}")
    remembered = {r.build_log for r in records if r.stage == "build" and r.build_cached}
    if remembered:
        lines.append(
            f"failed builds remembered from an earlier run, not compiled again: {len(remembered)} "
            "(--rebuild tries them)"
        )
    note = free_threading_note(environment)
    if note:
        lines.append(note)
    lines.append(f"results: {run_dir}/results.jsonl")
    lines.append(f"report:  {run_dir}/report.md")
    return "\n".join(lines)


def installer_disagreements(records: Sequence[Record]) -> list[tuple[Record, str]]:
    """Cells where the installers (and packaging.tags) did not all give the same answer."""
    found = []
    for r in by_cell(records):
        answers = resolve_answers(r)
        if r.packaging_accepts is not None:
            answers["packaging.tags"] = r.packaging_accepts
        if len(set(answers.values())) > 1:
            found.append((r, ", ".join(f"{n} {'accepts' if ok else 'refuses'}" for n, ok in answers.items())))
    return found


def produced(records: Sequence[Record], columns: Sequence[str] = ()) -> list[str]:
    """Per case and target: the tag and file suffix each build actually produced (or why none)."""
    seen: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for r in records:
        if r.wheel:
            tag = r.wheel.split("-", 2)[-1].removesuffix(".whl").rsplit("-", 1)[0]
            suffixes = ", ".join(sorted({ext_suffix(f) for f in r.ext_files})) or "no extension"
            seen[(r.case, r.target)][r.build_python] = f"`{tag}` {suffixes}"
        elif r.stage == "build":
            seen[(r.case, r.target)][r.build_python] = "build failed"
        elif r.stage == "plan":
            seen[(r.case, r.target)].setdefault(r.build_python, "not built")
    targets = sorted({t for _, t in seen})
    order = {name: n for n, name in enumerate(columns)}
    lines = ["| case | " + " | ".join(targets) + " |", "|---" * (len(targets) + 1) + "|"]
    for case in sorted({c for c, _ in seen}):
        cells = []
        for target in targets:
            builds = seen.get((case, target), {})
            ordered = sorted(builds.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
            cells.append("<br>".join(f"{b}: {what}" if b != "-" else what for b, what in ordered))
        lines.append(f"| {case} | " + " | ".join(cells) + " |")
    return lines


CLAIMS_INTRO = (
    "Per wheel (`check`): the interpreters its tags and Requires-Python admit (installers must take it), "
    "those where it really installed and imported (and passed --test), those it claims and fails, and "
    "those that refuse it where its files loaded anyway (a finding: the tags could claim more)."
)


def claims(records: Sequence[Record]) -> list[str]:
    """`check` runs: per wheel, where its tags say it works against where it really works."""
    rows: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    by_version = sorted(records, key=lambda r: ([int(n) for n in re.findall(r"\d+", r.run_python)], r.run_python))
    for r in by_version:
        if r.stage == "plan":
            continue
        row = rows[(r.case, r.target)]
        if r.expected.startswith("install+work"):
            row["claimed"].append(r.run_python)
            row["works" if r.status == Status.PASS.value else "broken"].append(
                r.run_python if r.status == Status.PASS.value else f"{r.run_python} ({r.status})"
            )
        elif r.stage == "build":
            row["broken"].append(f"{r.run_python} ({r.status} at {r.stage})")
        elif any(f.kind in LOADS_ANYWAY for f in r.findings):
            row["anyway"].append(r.run_python)
    lines = [
        "| distribution | wheel | tags say it works on | works on | claimed, fails | refused, loads anyway |",
        "|---|---|---|---|---|---|",
    ]
    for (case, target), row in sorted(rows.items()):
        shown = [", ".join(row[k]) or "-" for k in ("claimed", "works", "broken", "anyway")]
        lines.append(f"| {case} | `{target}` | " + " | ".join(shown) + " |")
    return lines


def wheels_section(records: Sequence[Record], environment: RunManifest, columns: Sequence[str]) -> list[str]:
    """What each backend produced (the matrix), or where each wheel works (`check`)."""
    if environment.is_check:
        return ["", "## Where each wheel works", "", CLAIMS_INTRO, "", *claims(records)]
    intro = "Per target, the wheel tag (without platform) and extension suffix each build interpreter gave."
    return ["", "## What each backend produced", "", intro, "", *produced(records, columns)]


def _row_key(r: Record) -> tuple[str, str, str]:
    return r.target, r.wheel or "", r.build_python


def markdown(records: Sequence[Record], environment: RunManifest, surface: Sequence[str] = ()) -> str:
    """The run's report; *surface* is an optional "Surface" section (surface.report_section)."""
    columns = [i.id for i in environment.interpreters] or sorted({r.run_python for r in records})
    out = _heading(records, environment)
    out += wheels_section(records, environment, columns)
    out += ["", LEGEND, ""]
    out += _case_tables(records, environment, columns)
    out += _lists(records)
    if surface:
        out += ["", *surface]
    return "\n".join(out) + "\n"


def _heading(records: Sequence[Record], environment: RunManifest) -> list[str]:
    """Title, totals, the free-threading note and the interpreters table."""
    interps = environment.interpreters
    out = [f"# ABI matrix, run {environment.run_id or '?'}", ""]
    out.append(
        f"{totals(records)}. Harness {environment.harness_version or '?'}, "
        f"installer {environment.installer or '?'}, started {environment.started or '?'}."
    )
    out.append("")
    note = free_threading_note(environment)
    if note:
        out += [f"> **{note}**", ""]
    out += ["## Interpreters", "", "| id | version | build | provider | path |", "|---|---|---|---|---|"]
    for i in interps:
        build = ("free-threaded" if i.free_threaded else "GIL") + (", debug" if i.debug else "")
        out.append(f"| {i.id} | {i.implementation} {i.version} | {build} | {i.provider} | `{i.path}` |")
    excluded = environment.excluded
    if excluded:
        out += ["", "Found but not used:", ""]
        out += [f"- `{where}`: {why}" for where, why in excluded]
    return out


def _case_tables(records: Sequence[Record], environment: RunManifest, columns: list[str]) -> list[str]:
    """One section per case: a row per (target, wheel, build interpreter), a column per run interpreter."""
    out: list[str] = []
    by_case: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_case[r.case].append(r)
    descriptions = {c.id: c.description for c in environment.cases}
    order = {name: n for n, name in enumerate(columns)}
    target_order = {name: n for n, name in enumerate(environment.target_names)}
    for case in sorted(by_case):
        out += [f"## {case}", ""]
        if descriptions.get(case):
            out += [descriptions[case], ""]
        rows: dict[tuple[str, str, str], dict[str, Record]] = defaultdict(dict)
        for r in by_case[case]:
            rows[_row_key(r)][r.run_python] = r
        out.append("| target | wheel tag | built on | " + " | ".join(columns) + " |")
        out.append("|---|---|---|" + "---|" * len(columns))
        for key in sorted(rows, key=lambda k: (target_order.get(k[0], 99), order.get(k[2], 99), k[1])):
            target, wheel, built_on = key
            tag = f"`{md(wheel.split('-', 2)[-1].removesuffix('.whl'))}`" if wheel else "no wheel"
            cells = [symbol(rows[key][c]) if c in rows[key] else "" for c in columns]
            out.append(f"| {md(target)} | {tag} | {md(built_on)} | " + " | ".join(cells) + " |")
        out.append("")
    return out


def _lists(records: Sequence[Record]) -> list[str]:
    """Problems, installer disagreements, refused binaries loaded anyway, known issues and skips."""
    out: list[str] = []
    bad = problems(records)
    out += [f"## Problems ({len(bad)})", ""]
    out += [
        f"- `{md(r.cell)}` **{r.status}** at {md(r.stage)}: {md(r.reason)}"
        + (f" ({escape.markdown_link('log', r.log)})" if escape.run_path(r.log) else "")
        for r in bad
    ] or ["None."]
    disagreements = installer_disagreements(records)
    if disagreements:
        out += ["", f"## Installer disagreements ({len(disagreements)})", ""]
        out += [f"- `{md(r.cell)}`: {md(why)}" for r, why in disagreements]
    out += loaded_anyway(records)
    xfails = [r for r in by_cell(records) if r.status == Status.XFAIL.value]
    if xfails:
        out += ["", f"## Known issues ({len(xfails)} cells)", ""]
        out += [f"- `{md(r.cell)}`: {md(r.reason)}" for r in xfails]
    skips: dict[str, list[str]] = defaultdict(list)
    for r in by_cell(records):
        if r.status == Status.SKIP.value:
            skips[r.reason].append(r.cell)
    if skips:
        out += ["", "## Skips", ""]
        out += [
            f"- {md(reason)} ({len(cells)} cells: {', '.join(f'`{md(c)}`' for c in cells[:6])}"
            f"{', ...' if len(cells) > 6 else ''})"
            for reason, cells in sorted(skips.items())
        ]
    return out


def loaded_anyway(records: Sequence[Record]) -> list[str]:
    """Refused binaries loaded anyway where CPython promised no refusal: findings, not problems."""
    groups: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in by_cell(records):
        for f in r.findings:
            groups[(f.route, f.kind)].append(r)
    if not groups:
        return []
    out = [
        "",
        "## Loaded anyway",
        "",
        "Refused wheels whose files were loaded anyway where no safety net had to refuse them "
        "(`sys_path`: the file's suffix is one the interpreter lists; `by_path`: loaded with "
        "ExtensionFileLoader, and no `Py_mod_abi` check applies). What the binary did is a finding "
        "about ABI compatibility, counted apart from problems.",
        "",
        "| route | what happened | cells | examples |",
        "|---|---|---|---|",
    ]
    for (route, kind), rs in sorted(groups.items()):
        shown = ", ".join(f"`{md(r.cell)}`" for r in rs[:3]) + (", ..." if len(rs) > 3 else "")
        out.append(f"| {md(route)} | {md(kind)} | {len(rs)} | {shown} |")
    crashes = [(r, f) for r in by_cell(records) for f in r.findings if f.kind in ("crash", "timeout", "no report")]
    if crashes:
        out += ["", "Crashes and hangs:", ""]
        out += [f"- `{md(r.cell)}` ({md(f.route)}): {md(f.kind)}: {md(f.detail)}" for r, f in crashes]
    return out


def finding_counts(records: Sequence[Record]) -> Counter[str]:
    return Counter(str(f.kind) for r in records for f in r.findings)


def _surface_lines(path: Path) -> list[str]:
    """surface.md of a run directory, which may come from another machine: read only when it is a file
    inside the directory (a symlink to /etc/shadow is not), as UTF-8 text."""
    if not path.is_file():
        return []
    try:
        within(path.parent, path)
        return path.read_text(encoding="utf-8").splitlines()
    except UnsafePath as exc:
        raise DamagedResults(f"{exc}; not read") from None
    except UnicodeDecodeError as exc:
        raise DamagedResults(f"{path}: not UTF-8 text (byte {exc.start}); remove it or run again") from None
    except OSError as exc:
        raise DamagedResults(f"{path}: cannot read: {exc.strerror or exc}") from None


def run_sections(run_dir: Path) -> list[str]:
    """The extra report sections kept in a run directory: the Surface, and the Preference table."""
    from harness.preference import judge as preference  # noqa: PLC0415  (only runs that carry a preference.json need it)

    lines = _surface_lines(run_dir / SURFACE_FILE)
    pref = run_dir / PREFERENCE_FILE
    if pref.is_file():
        lines += ["", *preference.markdown(preference.Result.read(pref))]
    return lines


CASES_BEGIN = "<!-- cases:begin (python -m harness cases --markdown) -->"
CASES_END = "<!-- cases:end -->"


def case_table(cases: Sequence[Case]) -> str:
    """The README's case table, generated from the case.toml files."""
    kinds = list(TargetKind)
    lines = ["| case | " + " | ".join(k.value for k in kinds) + " | what it builds |", "|---" * (len(kinds) + 2) + "|"]
    for case in cases:
        marks = ["yes" if case.recipe(k) else "no" for k in kinds]
        build = f" Builds on {', '.join(p.value for p in case.build_providers)} only." if case.build_providers else ""
        lines.append(f"| `{md(case.id)}` | " + " | ".join(marks) + f" | {md(case.description)}{build} |")
    return "\n".join([CASES_BEGIN, *lines, CASES_END])
