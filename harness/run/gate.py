"""The cells a new interpreter build answers for: a restriction of the matrix's plan, chosen by the tag rules.

A gate of NEW runs (1) every wheel the matrix builds on another interpreter that NEW must accept (abi3 of
each stable-ABI baseline, abi3t on a free-threaded NEW, version-specific wheels of its own minor), on NEW;
and (2) every wheel built on NEW, on each interpreter that must accept it. What must be accepted is the
oracle's answer for the tags the target asks for, so no wheel is built only to learn that it is not needed.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.errors import ConfigError
from harness.interpreters import providers
from harness.model import BuildSpec, Interpreter
from harness.run.plan import Plan, restrict
from harness.verdict.artifact import target_tags
from harness.verdict.oracle import expect


def must_accept(spec: BuildSpec, run: Interpreter) -> bool:
    """Whether the tag rules (and the case's Requires-Python) say *run* must accept the wheel of *spec*."""
    tags = target_tags(spec.target, spec.python)
    return expect(tags, run, requires_python=spec.case.requires_python).accept


def gate_plan(full: Plan, new: Interpreter, everyone: Sequence[Interpreter]) -> Plan:
    """The cells of *full* (planned with every interpreter as a run column) that concern *new*."""

    def keep(spec: BuildSpec, run: Interpreter) -> bool:
        if spec.python.id == new.id:
            return must_accept(spec, run)
        return run.id == new.id and must_accept(spec, new)

    return restrict(full, keep, everyone)


def default_baseline(new: Interpreter, everyone: Sequence[Interpreter]) -> Interpreter:
    """The release NEW must stay compatible with: the newest other build of its own minor (a patch-level
    pair, e.g. pyenv's 3.13.0 against Debian's 3.13.18), else the newest of the previous minor; of the same
    flavour (free-threaded, then debug) where one exists, else of another (`flavour_note` says so)."""
    others = [i for i in everyone if i.is_cpython and i.id != new.id]
    threading = [i for i in others if i.free_threaded == new.free_threaded]
    same_flavour = [i for i in threading if i.debug == new.debug]
    # Across flavours, a build of NEW's debug-ness: a free-threaded release build against a GIL release one.
    for pool in (same_flavour, threading, [i for i in others if i.debug == new.debug], others):
        same_minor = [i for i in pool if i.minor == new.minor]
        older = [i for i in pool if i.minor < new.minor]
        newest_minor = max((i.minor for i in older), default=None)
        for found in (same_minor, [i for i in older if i.minor == newest_minor]):
            if found:
                return max(found, key=lambda i: (i.version, -providers.rank(i.provider), i.id))
    have = ", ".join(i.id for i in everyone) or "none"
    raise ConfigError(
        f"--baseline: no CPython of {new.minor[0]}.{new.minor[1]} or an older minor to compare {new.id} with "
        f"(found: {have}); give one with --baseline ID"
    )


def _flavour(interp: Interpreter) -> str:
    return ("free-threaded" if interp.free_threaded else "GIL") + (" debug" if interp.debug else "")


def flavour_note(new: Interpreter, baseline: Interpreter, everyone: Sequence[Interpreter]) -> str:
    """Empty when both builds are of one flavour; else what the gate compares across flavours, and why
    (no build of NEW's flavour found, or --baseline chose another)."""
    if (new.free_threaded, new.debug) == (baseline.free_threaded, baseline.debug):
        return ""
    kin = [
        i.id
        for i in everyone
        if i.is_cpython
        and i.id != new.id
        and (i.free_threaded, i.debug) == (new.free_threaded, new.debug)
        and i.minor <= new.minor
    ]
    why = (
        f"other {_flavour(new)} builds found: {', '.join(kin)}"
        if kin
        else f"no other {_flavour(new)} CPython of {new.minor[0]}.{new.minor[1]} or older was found"
    )
    return (
        f"the baseline {baseline.id} is a {_flavour(baseline)} build, {new.id} a {_flavour(new)} one ({why}): "
        "compared only what holds across flavours (the stable-ABI symbols and levels that "
        f"{new.id} promises, the suffixes and tags the tag rules make it accept); the full-ABI layouts "
        "of two flavours differ by design and are not compared"
    )
