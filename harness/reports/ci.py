"""What CI systems read: JUnit XML (one testcase per cell) and the GitHub step summary."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from harness.infra.escape import markdown as md
from harness.model import Status
from harness.reports import diff as diffs
from harness.reports.markdown import free_threading_note, problems, totals
from harness.run.manifest import InterpreterEntry, RunManifest
from harness.run.records import Record


def junit(records: Sequence[Record], environment: RunManifest) -> str:
    """classname = case, name = target/build/run; problems fail, skips skip, xfails pass with a property."""
    ordered = sorted(records, key=lambda r: r.cell)
    failures = sum(Status(r.status).is_problem for r in ordered)
    skipped = sum(r.status == Status.SKIP.value for r in ordered)
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"abi-harness {environment.run_id or '?'}",
        tests=str(len(ordered)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{sum(r.duration_s for r in ordered):.3f}",
    )
    for r in ordered:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=r.case,
            name=f"{r.target}/{r.build_python}/{r.run_python}",
            time=f"{r.duration_s:.3f}",
        )
        props = ET.SubElement(case, "properties")
        ET.SubElement(props, "property", name="status", value=r.status)
        if r.status == Status.XFAIL.value:
            ET.SubElement(props, "property", name="xfail", value=r.known_issue or r.reason)
        if r.log:
            ET.SubElement(props, "property", name="log", value=r.log)
        if Status(r.status).is_problem:
            failure = ET.SubElement(case, "failure", type=r.status, message=f"{r.status} at {r.stage}: {r.reason}")
            failure.text = f"{r.cell}\nexpected: {r.expected} ({r.expected_rule})\n{r.reason}"
        elif r.status == Status.SKIP.value:
            ET.SubElement(case, "skipped", message=r.reason)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def missing_free_threaded(environment: RunManifest) -> list[str]:
    """Versions with a GIL column and no free-threaded one among the interpreters that could have one (3.13+)."""
    interps = environment.interpreters

    def minor(i: InterpreterEntry) -> tuple[int, ...]:
        return tuple(int(p) for p in i.version.split(".")[:2])

    versions = {minor(i) for i in interps if i.implementation == "cpython"}
    free = {minor(i) for i in interps if i.free_threaded}
    return [f"{v[0]}.{v[1]}t" for v in sorted(versions - free) if v >= (3, 13)]


def step_summary(
    records: Sequence[Record], environment: RunManifest, change: diffs.Diff | None = None, limit: int = 20
) -> str:
    """Short Markdown for $GITHUB_STEP_SUMMARY: totals, regressions, xpasses, missing free-threaded columns."""
    # Markdown GitHub renders: every value from a record or the manifest through the one escape
    out = [f"### ABI matrix {md(environment.run_id or '?')}", "", totals(records) + "."]
    if change is not None:
        out += ["", f"Since the baseline: {md(diffs.headline(change))}."]
        if change.regressions:
            out += ["", f"**Regressions ({len(change.regressions)})**", ""]
            out += [
                f"- `{md(c.cell)}`: {md(c.before)} -> {md(c.after)}: {md(c.reason[:160])}"
                for c in change.regressions[:limit]
            ]
            if len(change.regressions) > limit:
                out.append(f"- ... and {len(change.regressions) - limit} more in the HTML report")
    xpasses = [r for r in records if r.status == Status.XPASS.value]
    if xpasses:
        links = sorted({r.known_issue or "?" for r in xpasses})
        out += ["", f"**xpass ({len(xpasses)} cells)**: known issues that no longer bite: {md(', '.join(links))}"]
    bad = [r for r in problems(records) if r.status != Status.XPASS.value]
    if bad:
        out += ["", f"Problems: {len(bad)} cells (see the HTML report)."]
    missing = missing_free_threaded(environment)
    if missing:
        out += ["", f"Missing free-threaded columns: {md(', '.join(missing))} (abi3t untested on them)."]
    elif free_threading_note(environment):
        out += ["", "No free-threaded interpreter: abi3t untested on free-threading."]
    return "\n".join(out) + "\n"


def append_step_summary(text: str) -> Path | None:
    """Append to $GITHUB_STEP_SUMMARY when GitHub Actions set it; the path written, or None."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    with Path(target).open("a", encoding="utf-8") as f:
        f.write(text + "\n")
    return Path(target)
