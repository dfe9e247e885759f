"""Verdicts derived again from a run's recorded observations, under the matrix.toml of today.

No interpreter is started: known issues added, removed or changed upstream re-judge last night's
run in a second, and the nightly history can be read under one set of rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from harness.errors import HarnessError
from harness.model import Cell, KnownIssue, Target
from harness.run.manifest import RunManifest
from harness.run.records import Record
from harness.verdict.judge import CellFacts, judge


@dataclass(frozen=True)
class Change:
    cell: str
    old: str  # status
    new: str
    reason: str


def targets_on_file(environment: RunManifest, current: Sequence[Target]) -> dict[str, Target]:
    """Today's targets, falling back to the run's own for a target matrix.toml no longer has."""
    targets = environment.targets_on_file()
    targets.update((t.name, t) for t in current)
    return targets


def rejudge(
    records: Sequence[Record],
    environment: RunManifest,
    targets: Sequence[Target],
    known_issues: Sequence[KnownIssue],
) -> tuple[list[Record], list[Change]]:
    """Every record with observations judged again; records without (planned skips) stay as they are."""
    interps = environment.interpreters_on_file()
    by_name = targets_on_file(environment, targets)
    out: list[Record] = []
    changes: list[Change] = []
    for r in records:
        if r.observed is None:
            out.append(r)
            continue
        run = interps.get(r.run_python)
        target = by_name.get(r.target)
        if run is None or target is None:
            missing = f"interpreter {r.run_python}" if run is None else f"target {r.target}"
            raise HarnessError(f"{r.cell}: {missing} is not in the run's environment.json; cannot re-judge")
        facts = CellFacts(
            cell=Cell.parse(r.cell), target=target, build=interps.get(r.build_python), run=run, observed=r.observed
        )
        new = msgspec.structs.replace(r, **judge(facts, known_issues).record_fields())
        if new.status != r.status:
            changes.append(Change(r.cell, r.status, new.status, new.reason))
        out.append(new)
    return out, changes
