"""Expand (cases x targets x build interpreters x run interpreters); what cannot run is a skip with its cause."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet

from harness.errors import ConfigError
from harness.interpreters import providers
from harness.model import AnySpec, BuildSpec, Case, Cell, Interpreter, Target, TargetKind

ABI3T_FIRST = (3, 15)  # PEP 803: Py_TARGET_ABI3T below 0x030f0000 is a compile error


@dataclass(frozen=True)
class PlannedSkip:
    cell: Cell
    case: Case
    target: Target
    reason: str


@dataclass(frozen=True)
class Plan:
    builds: tuple[AnySpec, ...]  # BuildSpec for the matrix, WheelSpec for `check`
    skips: tuple[PlannedSkip, ...]
    run_pythons: tuple[Interpreter, ...]
    # A build's own run interpreters where it runs on fewer than all (the gate's cells), by build id.
    only: tuple[tuple[str, tuple[Interpreter, ...]], ...] = ()

    def runners(self, spec: AnySpec) -> tuple[Interpreter, ...]:
        """The interpreters the wheel of *spec* runs on."""
        return next((runs for build_id, runs in self.only if build_id == spec.id), self.run_pythons)

    @property
    def total_cells(self) -> int:
        return sum(len(self.runners(b)) for b in self.builds) + len(self.skips)


def restrict(plan: Plan, keep: Callable[[BuildSpec, Interpreter], bool], runners: Sequence[Interpreter]) -> Plan:
    """Only the cells (build, run interpreter) *keep* selects, run interpreters taken from *runners*;
    builds left without a cell and every planned skip are dropped (they concern no selected cell)."""
    specs = [spec for spec in plan.builds if isinstance(spec, BuildSpec)]  # the gate plans the matrix's wheels
    chosen = [(spec, tuple(r for r in runners if keep(spec, r))) for spec in specs]
    chosen = [(spec, runs) for spec, runs in chosen if runs]
    return Plan(
        tuple(spec for spec, _ in chosen),
        (),
        tuple(runners),
        tuple((spec.id, runs) for spec, runs in chosen),
    )


def can_build(kind: TargetKind, target: Target, interp: Interpreter) -> bool:
    """Whether *interp* is able to compile for the target at all."""
    if not interp.is_cpython:
        return False  # PyPy has no stable ABI; version-specific PyPy builds are not a target yet
    floor = target.min_python or (0, 0)
    if kind.version_free:
        return True
    if kind is TargetKind.ABI3:
        return not interp.free_threaded and interp.minor >= floor
    return interp.minor >= max(floor, ABI3T_FIRST)


def python_allowed(case: Case, interp: Interpreter) -> bool:
    return not case.requires_python or SpecifierSet(case.requires_python).contains(interp.version_str)


def requirement(target: Target) -> str:
    """Human wording of can_build, for skip reasons."""
    floor = target.min_python or (0, 0)
    abi3t_floor = ".".join(map(str, max(floor, ABI3T_FIRST)))
    return {
        TargetKind.VERSION_SPECIFIC: "any CPython",
        TargetKind.ABI_NONE: "any CPython",
        TargetKind.ABI3: f"a GIL CPython >= {'.'.join(map(str, floor))}",
        TargetKind.ABI3T: f"a CPython >= {abi3t_floor}",
        TargetKind.ABI3_ABI3T: f"a CPython >= {abi3t_floor}",
    }[target.kind]


def declares(case: Case, kind: TargetKind) -> bool:
    """An ABI-independent wheel is what a binding makes, not an ABI a case could target: a case that
    says nothing of abi-none gets no abi-none row (not a row of skips)."""
    return kind is not TargetKind.ABI_NONE or case.recipe(kind) is not None or kind in dict(case.unsupported)


def builders(target: Target, everyone: Sequence[Interpreter], runners: Sequence[Interpreter]) -> list[Interpreter]:
    """Resolve a target's build_on selectors: each (run column), oldest, newest, or id globs."""
    eligible = [i for i in everyone if can_build(target.kind, target, i)]
    allowed = {i.id for i in everyone}
    # Release builds before debug builds, then discovery order, for a stable choice.
    ordered = sorted(eligible, key=lambda i: (i.version, i.debug, i.free_threaded, providers.rank(i.provider), i.id))
    chosen: dict[str, Interpreter] = {}
    for selector in target.build_on:
        if selector == "each":
            picks = [i for i in runners if i.id in allowed and can_build(target.kind, target, i)]
        elif selector == "oldest":
            picks = ordered[:1]
        elif selector == "newest":
            newest = [i for i in ordered if i.minor == ordered[-1].minor] if ordered else []
            picks = newest[:1]
        else:
            picks = [i for i in ordered if fnmatch.fnmatchcase(i.id, selector)]
        chosen.update((i.id, i) for i in picks)
    return sorted(chosen.values(), key=lambda i: (i.version, i.debug, i.free_threaded, i.id))


def plan(
    cases: Sequence[Case],
    targets: Sequence[Target],
    everyone: Sequence[Interpreter],
    runners: Sequence[Interpreter],
    case_globs: Sequence[str] = (),
    target_names: Sequence[str] = (),
) -> Plan:
    selected_cases = [c for c in cases if not case_globs or any(fnmatch.fnmatchcase(c.id, g) for g in case_globs)]
    if not selected_cases:
        ids = ", ".join(c.id for c in cases) or "none"
        raise ConfigError(f"--case {' '.join(case_globs)}: no case matched; cases: {ids}")
    unknown = [t for t in target_names if t not in {x.name for x in targets}]
    if unknown:
        names = ", ".join(t.name for t in targets)
        raise ConfigError(f"--target {', '.join(unknown)}: not in matrix.toml [targets]; targets: {names}")
    selected_targets = [t for t in targets if not target_names or t.name in target_names]
    if not runners:
        raise ConfigError("no interpreter to run on: discovery found none; add one with --python PATH")

    builds: list[BuildSpec] = []
    skips: list[PlannedSkip] = []
    for case in selected_cases:
        for target in selected_targets:
            if not declares(case, target.kind):
                continue
            unsupported = case.unsupported_reason(target.kind)
            # A case restricted to some providers picks its oldest/newest among those only.
            allowed = [i for i in everyone if not case.build_providers or i.provider in case.build_providers]
            build_pythons = [] if unsupported else builders(target, allowed, runners)
            # requires-python: the project says it does not build there (nanobind needs 3.9+)
            outside = [b for b in build_pythons if not python_allowed(case, b)]
            for b in outside:
                reason = f"case requires-python {case.requires_python} excludes build interpreter {b.id}"
                skips += [PlannedSkip(Cell(case.id, target.name, b.id, r.id), case, target, reason) for r in runners]
            build_pythons = [b for b in build_pythons if b not in outside]
            if outside and not build_pythons:
                continue
            if unsupported or not build_pythons:
                only = ", ".join(p.value for p in case.build_providers)
                if unsupported:
                    reason = f"case does not support {target.kind.value}: {unsupported}"
                elif case.build_providers:
                    reason = (
                        f"no {only} interpreter to build {target.name} on ({case.build_reason}); "
                        "provision one with `nox -s provision`"
                    )
                else:
                    reason = (
                        f"no interpreter to build {target.name} on: it needs {requirement(target)} "
                        f"matching build_on {list(target.build_on)}; have {', '.join(i.id for i in everyone)}"
                    )
                skips += [PlannedSkip(Cell(case.id, target.name, "-", r.id), case, target, reason) for r in runners]
                continue
            builds += [BuildSpec(case, target, b) for b in build_pythons]
    return Plan(tuple(builds), tuple(skips), tuple(runners))
