"""The gate's one verdict on a new interpreter build and its short report: terminal text, Markdown, JUnit, JSON.

Only what concerns the new build is listed: its cells (other builds' wheels it must accept, its own wheels
where their tags let them run) and the promises its surface breaks against the baseline. Pure: the result
in, text out (`to_json` for --json and gate.json).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.infra import escape
from harness.infra.escape import markdown as md
from harness.model import Status
from harness.reports.markdown import totals
from harness.run.records import Record
from harness.surface.breaks import Broken

PASSED, FAILED = "promises kept", "promise broken"
_CHECKS = (("symbols", "symbol "), ("levels", "["), ("runtime", ("suffix ", "tag ")))


@dataclass(frozen=True)
class GateResult:
    new: str  # the new build's id
    new_described: str
    baseline: str
    baseline_described: str
    records: tuple[Record, ...]  # the gate's cells
    surface: tuple[Broken, ...]  # promises its surface breaks against the baseline
    unverified: tuple[str, ...]  # what could not be measured
    run_dir: str
    compared: str = ""  # what the surface comparison covered
    baseline_note: str = ""  # the baseline is of another flavour (free-threaded, debug): what that limits

    @property
    def cell_problems(self) -> list[Record]:
        return sorted((r for r in self.records if Status(r.status).is_problem), key=lambda r: r.cell)

    @property
    def holds(self) -> bool:
        """Every promise checked and kept: no problem cell, no broken surface promise, nothing unmeasured."""
        return not self.cell_problems and not self.surface and not self.unverified

    @property
    def exit_code(self) -> int:
        return 0 if self.holds else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "new_described": self.new_described,
            "baseline": self.baseline,
            "baseline_described": self.baseline_described,
            "verdict": PASSED if self.holds else FAILED,
            "run_dir": self.run_dir,
            "cells": totals(self.records),
            "cell_problems": [cell_line(r) for r in self.cell_problems],
            "surface": [b.to_json() for b in self.surface],
            "unverified": list(self.unverified),
            "surface_compared": self.compared,
            **({"baseline_note": self.baseline_note} if self.baseline_note else {}),
        }


def promise_of(record: Record) -> str:
    """The PEPs behind a cell's expectation ("PEP 384, PEP 425"), from the oracle's rule."""
    return ", ".join(dict.fromkeys(re.findall(r"PEP \d+", record.expected_rule))) or "tag rules"


def role(record: Record, new: str) -> str:
    if record.build_python == new and record.run_python == new:
        return "its own wheel"
    if record.build_python == new:
        return f"its wheel on {record.run_python}"
    return f"{record.build_python}'s wheel on it"


def cell_line(record: Record, new: str = "") -> str:
    where = f" ({role(record, new)})" if new else ""
    return f"[{promise_of(record)}] {record.cell}{where}: {record.status} at {record.stage}: {record.reason}"


def _cell_counts(result: GateResult) -> list[str]:
    theirs = [r for r in result.records if r.build_python != result.new]
    mine = [r for r in result.records if r.build_python == result.new]
    return [
        f"wheels of other builds it must accept, run on it: {totals(theirs)}",
        f"its own wheels, run where their tags allow: {totals(mine)}",
    ]


def text(result: GateResult) -> str:
    """The terminal report."""
    lines = [
        f"gate {result.new_described}",
        f"  against {result.baseline_described}",
        *([f"  NOTE {result.baseline_note}"] if result.baseline_note else []),
        *(f"  {line}" for line in _cell_counts(result)),
        f"  surface against {result.baseline}: {len(result.surface)} promises broken",
        *([f"  compared: {result.compared}"] if result.compared else []),
    ]
    for record in result.cell_problems:
        lines.append(f"BROKEN {cell_line(record, result.new)}")
    lines += [f"BROKEN [{b.promise}] {b.subject}: {b.detail}" for b in result.surface]
    lines += [f"NOT VERIFIED {note}" for note in result.unverified]
    lines.append(f"evidence: {result.run_dir} (results.jsonl, logs/, gate.md, gate-junit.xml, gate.json)")
    lines.append(f"verdict: {PASSED if result.holds else FAILED} ({result.new} against {result.baseline})")
    return "\n".join(escape.text(line) for line in lines)  # ids, reasons, descriptions from tools and files


def markdown(result: GateResult) -> str:
    verdict = "✅ every promise holds" if result.holds else "❌ a promise is broken"
    lines = [
        f"# Gate: {md(result.new)} against {md(result.baseline)}: {verdict}",
        "",
        f"- new build: {md(result.new_described)}",
        f"- baseline: {md(result.baseline_described)}",
        *([f"- **baseline of another flavour**: {md(result.baseline_note)}"] if result.baseline_note else []),
        *(f"- {md(line)}" for line in _cell_counts(result)),
        f"- evidence: `{md(result.run_dir)}` (each cell's record and log)",
        "",
    ]
    if result.cell_problems:
        lines += ["## Cells", "", "| promise | cell | role | status | stage | reason |", "|---|---|---|---|---|---|"]
        for r in result.cell_problems:
            promise, where = md(promise_of(r)), md(role(r, result.new))
            lines.append(f"| {promise} | `{md(r.cell)}` | {where} | {md(r.status)} | {md(r.stage)} | {md(r.reason)} |")
        lines.append("")
    lines += ["## Surface against the baseline", ""]
    if result.surface:
        lines += ["| promise | what | detail |", "|---|---|---|"]
        lines += [f"| {md(b.promise)} | `{md(b.subject)}` | {md(b.detail)} |" for b in result.surface]
    else:
        base = md(result.baseline)
        lines.append(f"No stable-ABI symbol, limited-API layout or constant, suffix or tag of {base} lost.")
    if result.compared:
        lines += ["", f"Compared: {md(result.compared)}."]
    if result.unverified:
        lines += ["", "## Not verified", "", *(f"- {md(note)}" for note in result.unverified)]
    return "\n".join(lines) + "\n"


def _surface_case(suite: ET.Element, name: str, broken: Sequence[Broken]) -> None:
    case = ET.SubElement(suite, "testcase", classname="surface", name=name, time="0")
    if broken:
        failure = ET.SubElement(case, "failure", type="broken", message=f"{len(broken)} promises broken")
        failure.text = "\n".join(f"[{b.promise}] {b.subject}: {b.detail}" for b in broken)


def junit(result: GateResult) -> str:
    """One testcase per cell (classname = case) and one per surface check (symbols, levels, runtime)."""
    problems = {r.cell for r in result.cell_problems}
    by_check = {name: [b for b in result.surface if b.subject.startswith(prefix)] for name, prefix in _CHECKS}
    failures = len(problems) + sum(1 for found in by_check.values() if found) + bool(result.unverified)
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"gate {result.new} against {result.baseline}",
        tests=str(len(result.records) + len(_CHECKS) + 1),
        failures=str(failures),
        errors="0",
        skipped=str(sum(r.status == Status.SKIP.value for r in result.records)),
    )
    for r in sorted(result.records, key=lambda r: r.cell):
        name = f"{r.target}/{r.build_python}/{r.run_python}"
        case = ET.SubElement(suite, "testcase", classname=r.case, name=name, time=f"{r.duration_s:.3f}")
        if r.cell in problems:
            failure = ET.SubElement(case, "failure", type=r.status, message=f"{r.status} at {r.stage}: {r.reason}")
            failure.text = cell_line(r, result.new)
        elif r.status == Status.SKIP.value:
            ET.SubElement(case, "skipped", message=r.reason)
    for name, found in by_check.items():
        _surface_case(suite, name, found)
    verified = ET.SubElement(suite, "testcase", classname="surface", name="measured", time="0")
    if result.unverified:
        ET.SubElement(verified, "failure", type="not-verified", message="; ".join(result.unverified))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
