"""Measuring one build's surface (symbols looked up inside it, the C probe per level), cached by the
interpreter binary's identity and the probes' sources."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import abi3info  # type: ignore[import-untyped]
import msgspec

from harness.errors import HarnessError
from harness.infra import atomic, proc, rootfs
from harness.model import Interpreter
from harness.schema.decode import decode_json
from harness.surface.model import (
    SURFACE_VERSION,
    Finding,
    FindingKind,
    Level,
    LevelProbe,
    Surface,
    SymbolEntry,
    levels_for,
)
from harness.surface.probe import probe_template, run_probe
from harness.surface.promise import Promised, constants, known_gap, promise_for, promised_symbols

SYMBOLS_TIMEOUT_S = 120


def symbols_script() -> str:
    return resources.files("harness.resources").joinpath("surface_symbols.py").read_text()


def _identity_key(interp: Interpreter) -> str:
    """Interpreter binary identity + everything that decides what its surface records."""
    real = os.path.realpath(interp.host_path)
    st = os.stat(real)
    raw = "|".join(
        (
            interp.root,
            interp.path,
            real,
            str(st.st_mtime_ns),
            str(st.st_size),
            str(SURFACE_VERSION),
            symbols_script(),
            probe_template(),
            str(getattr(abi3info, "__version__", len(abi3info.FUNCTIONS))),
        )
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def collect(interp: Interpreter, cache: Path) -> Surface:
    """The surface of *interp*, cached by its binary identity and the probes' sources."""
    cached = cache / "surface" / f"{_identity_key(interp)}.json"
    with contextlib.suppress(OSError, HarnessError):  # missing, unreadable or no surface: measure again
        surface = Surface.decode(cached.read_bytes(), source=cached)
        if surface.id == interp.id:
            return surface
        return Surface(interp, *_fields_after_interpreter(surface))
    surface = _measure(interp, cache)
    atomic.write_text(cached, json.dumps(surface.to_json(), indent=1))
    return surface


def _fields_after_interpreter(s: Surface) -> tuple[Any, ...]:
    return (s.promise, s.lookup, s.ctypes_list, s.symbols, s.levels, s.findings, s.version)


def _measure(interp: Interpreter, cache: Path) -> Surface:
    promise, findings = promise_for(interp)
    wanted = promised_symbols(interp.minor)
    looked = lookup_symbols(interp, wanted, cache)
    data = looked if isinstance(looked, SymbolLookup) else None
    if data is None:
        findings.append(Finding(FindingKind.PROBE_FAILED, f"symbol lookup did not run: {looked}"))
    found = data.found if data else {}
    macros = data.feature_macros if data else {}
    symbols = tuple(
        SymbolEntry(p.name, p.kind, p.added, found.get(p.name, ""), p.ifdef, not p.ifdef or bool(macros.get(p.ifdef)))
        for p in wanted
    )
    if data:
        findings += _missing_findings(interp, symbols)
    ctypes_list, list_findings = _list_findings(interp, symbols, data)
    findings += list_findings
    include_dirs = [d for d in (data.include, data.platinclude) if d] if data else []
    probes = tuple(run_probe(interp, level, include_dirs, cache) for level in levels_for(interp))
    findings += _probe_findings(interp, probes)
    lookup = data.lookup if data else "not run"
    return Surface(interp, promise, lookup, ctypes_list, symbols, probes, tuple(findings))


class SymbolLookup(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The last stdout line of resources/surface_symbols.py: every key is always written."""

    lookup: str  # how the symbols were looked up ("ctypes.pythonapi", "ctypes.CDLL(libpython...)")
    found: dict[str, str]  # symbol -> the name it is exported under ("" when not exported)
    feature_macros: dict[str, bool]
    feature_macros_source: str
    ctypes_list: tuple[str, ...] | None  # the interpreter's own test_stable_abi_ctypes names, if shipped
    ctypes_list_source: str
    include: str
    platinclude: str


def lookup_symbols(interp: Interpreter, wanted: Sequence[Promised], cache: Path) -> SymbolLookup | str:
    """The symbol script's answer inside *interp*, or why there is none (it failed, or its answer does
    not fit: said as the surface's probe-failed finding)."""
    argv = [interp.path, "-I", "-c", symbols_script()]
    if interp.root:
        argv = rootfs.command(interp.root, argv, [cache])
    out = proc.run(argv, timeout=SYMBOLS_TIMEOUT_S, stdin=json.dumps(sorted(p.name for p in wanted)))
    if not out.ok or not out.stdout.strip():
        return proc.last_line(out.stderr or out.stdout, prefer_errors=True)
    return symbol_lookup(out.stdout)


def symbol_lookup(stdout: str) -> SymbolLookup | str:
    """The script's answer (its last line), or the field that does not fit."""
    try:
        last = stdout.strip().splitlines()[-1]
        return decode_json(last, SymbolLookup, source="surface_symbols.py's answer", error=HarnessError)
    except HarnessError as exc:
        return str(exc)


def _missing_findings(interp: Interpreter, symbols: Sequence[SymbolEntry]) -> list[Finding]:
    removal = "an ABI removal" if interp.is_cpython else "not provided by cpyext"
    findings = []
    for s in symbols:
        if not s.applicable or s.present:
            continue
        gap = known_gap(s.name, interp, "not exported")
        if gap is not None:
            findings.append(Finding(FindingKind.KNOWN_GAP, gap.describe()))
            continue
        added = f"{s.added[0]}.{s.added[1]}"
        findings.append(
            Finding(FindingKind.MISSING_SYMBOL, f"{s.name} ({s.kind}, stable ABI since {added}): {removal}")
        )
    return findings


def _list_findings(
    interp: Interpreter, symbols: Sequence[SymbolEntry], data: SymbolLookup | None
) -> tuple[str, list[Finding]]:
    """Where the cross-check list came from, and where it and abi3info disagree (known gaps apart)."""
    if data is None:
        return "none: not looked at", []
    listed, source = data.ctypes_list, data.ctypes_list_source
    if listed is None:
        return f"none: {source}", [Finding(FindingKind.NO_LIST, f"no cross-check list: {source}")]
    found = data.found
    expected = {s.name for s in symbols if s.applicable}
    findings = []
    for name in sorted(set(listed) - expected):
        state = "exported" if found.get(name) else "NOT exported"
        message = f"{name}: in the interpreter's own list, not in abi3info ({state})"
        findings.append(Finding(FindingKind.LIST_DISAGREES, message))
    for name in sorted(expected - set(listed)):
        gap = known_gap(name, interp, "not in its own list")
        if gap is not None:
            findings.append(Finding(FindingKind.KNOWN_GAP, gap.describe()))
        else:
            findings.append(
                Finding(FindingKind.LIST_DISAGREES, f"{name}: in abi3info, not in the interpreter's own list")
            )
    return f"{source} ({len(listed)} names)", findings


def _probe_findings(interp: Interpreter, probes: Iterable[LevelProbe]) -> list[Finding]:
    findings = []
    promised_consts = dict(constants())
    for p in probes:
        if not p.ok:
            findings.append(Finding(FindingKind.PROBE_FAILED, f"level {p.level}: {p.reason}"))
            continue
        level = Level.parse(p.level)
        if level.full:  # what the full ABI lacks (ob_refcnt on free-threading, ob_tid on GIL) is no gap
            continue
        for name, value in p.constants:
            added = promised_consts.get(name)
            if value is None and added is not None and added <= level.version:
                findings.append(
                    Finding(
                        FindingKind.ABSENT_ITEM,
                        f"level {p.level}: constant {name} (stable ABI since {added[0]}.{added[1]}) is not defined",
                    )
                )
        for item, why in p.absent:
            if item not in promised_consts:
                findings.append(Finding(FindingKind.ABSENT_ITEM, f"level {p.level}: {item} does not compile: {why}"))
    return findings
