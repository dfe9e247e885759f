"""Static symbol audit of a wheel, once per wheel: abi3audit for abi3, the harness's own rules for abi3t,
both for abi3.abi3t.

A finding may carry the Python version it needs (a stable-ABI symbol added later than the wheel's
baseline): it then fails only the cells on older interpreters the wheel claims.
"""

from __future__ import annotations

import contextlib
import json
import sys
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Annotated, Literal

import abi3info  # type: ignore[import-untyped]
import msgspec
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection
from elftools.elf.sections import SymbolTableSection

from harness.build.audit_result import Audit, Finding
from harness.errors import HarnessError
from harness.infra import atomic, proc
from harness.schema.decode import decode_json

ABI3T_FIRST = (3, 15)


class CachedAudit(Audit, frozen=True, forbid_unknown_fields=True):
    """The audit cache beside a wheel: an audit and the rules' version it was made under."""

    rules: str = ""


def audit_wheel(wheel: Path, tags: tuple[str, ...], cache_file: Path) -> Audit:
    """Audit *wheel* (cached beside it, keyed by the audit rules' version)."""
    with contextlib.suppress(OSError, ValueError):  # missing or unreadable (msgspec's errors too): audit again
        cached = msgspec.json.decode(cache_file.read_bytes(), type=CachedAudit, strict=True)
        if cached.rules == _rules_version():
            return Audit(cached.tool, cached.findings, cached.applicable, cached.platform)
    abis = {t.split("-")[1] for t in tags}
    if abis >= {"abi3", "abi3t"}:
        # abi3.abi3t makes two claims: abi3audit checks the abi3 half (the tool users run, reading the
        # cp315 baseline from the tag), our rules the abi3t half abi3audit does not know (PEP 793
        # entry point, no PyInit_). A symbol outside the stable ABI is then named by both.
        first, second = _abi3audit(wheel), _abi3t_rules(wheel)
        result = Audit(f"{first.tool} + {second.tool}", first.findings + second.findings, True)
    elif "abi3t" in abis:
        result = _abi3t_rules(wheel)
    elif "abi3" in abis:
        result = _abi3audit(wheel)
    else:
        result = Audit("none: not a stable-ABI wheel", (), False)
    result = msgspec.structs.replace(result, platform=dict(sorted(platform_needs(wheel).items())))
    cached = CachedAudit(result.tool, result.findings, result.applicable, result.platform, rules=_rules_version())
    with contextlib.suppress(OSError):  # a read-only cache only costs a re-audit
        atomic.write_text(cache_file, json.dumps(msgspec.to_builtins(cached), indent=1))
    return result


def _rules_version() -> str:
    # 3: a module's own PyModExport_<name> is no abi3audit finding; abi3.abi3t gets abi3audit too.
    return f"3/abi3info {getattr(abi3info, '__version__', '?')}"


def _abi3audit(wheel: Path) -> Audit:
    out = proc.run([sys.executable, "-m", "abi3audit", "--report", str(wheel)], timeout=300)
    return abi3audit_audit(out)


def abi3audit_audit(out: proc.Outcome) -> Audit:
    """abi3audit's answer as an audit: its findings, or why there are none (the tool said what)."""
    try:
        report = decode_json(out.stdout, Abi3auditReport, source="abi3audit --report", error=HarnessError)
    except HarnessError as exc:  # no report (it failed), or one in a form this harness does not read
        said = str(exc) if out.stdout.lstrip().startswith("{") else (out.stderr or out.stdout).strip()[-200:]
        return Audit(f"abi3audit failed: {said}", (), True)
    return Audit("abi3audit", abi3audit_findings(report), True)


class _SoResult(msgspec.Struct, frozen=True):
    baseline: str  # the wheel tag's version, "3.15"
    non_abi3_symbols: tuple[str, ...]
    future_abi3_objects: dict[str, Annotated[str, msgspec.Meta(pattern=r"^\d+\.\d+")]]  # symbol: "3.13"


class _SoAudit(msgspec.Struct, frozen=True):
    name: str  # the extension file's name
    result: _SoResult


class _WheelAudit(msgspec.Struct, frozen=True):
    kind: Literal["wheel"]  # the harness audits wheel files only
    wheel: tuple[_SoAudit, ...]


class Abi3auditReport(msgspec.Struct, frozen=True):
    """The parts of `abi3audit --report` JSON (0.0.26) the harness reads; its other keys are not declared."""

    specs: dict[str, _WheelAudit]


def own_modexport(file: str) -> str:
    """The PEP 793 entry point an extension file must export: PyModExport_ + its module name."""
    return "PyModExport_" + file.rsplit("/", 1)[-1].split(".", 1)[0]


def abi3audit_findings(report: Abi3auditReport) -> tuple[Finding, ...]:
    """Findings from `abi3audit --report` JSON.

    abi3audit (0.0.26) knows no PEP 793: it lists every Py-prefixed dynamic symbol outside the stable
    ABI, including the module's own PyModExport_<name> entry point, which the module defines and the
    interpreter looks up by name (like PyInit_<name>, which abi3audit already leaves alone). That one
    symbol is dropped; every other non-abi3 symbol, another module's PyModExport_ included, counts.
    """
    findings = []
    for spec in report.specs.values():
        for so in spec.wheel:
            name, result = so.name, so.result
            for symbol in result.non_abi3_symbols:
                if symbol == own_modexport(name):
                    continue
                findings.append(Finding(name, f"{symbol} is not part of the stable ABI (abi3audit)"))
            for symbol, version in sorted(result.future_abi3_objects.items()):
                major, minor = (int(p) for p in version.split(".")[:2])
                baseline = result.baseline
                message = f"{symbol} joined the stable ABI in {version}, after the wheel's {baseline} (abi3audit)"
                findings.append(Finding(name, message, (major, minor)))
    return tuple(findings)


def _abi3t_rules(wheel: Path) -> Audit:
    """PEP 803 rules abi3audit does not know yet: PyModExport entry point, 3.15 stable ABI symbols only."""
    stable = {s.name: f.added for s, f in abi3info.FUNCTIONS.items()}
    stable.update({s.name: d.added for s, d in abi3info.DATAS.items()})
    findings = []
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if not name.endswith(".so"):
                continue
            exported, imported = _dynamic_symbols(zf.read(name))
            if own_modexport(name) not in exported:
                findings.append(Finding(name, f"exports no {own_modexport(name)}: abi3t modules need PEP 793 export"))
            for symbol in sorted(s for s in exported if s.startswith("PyInit_")):
                findings.append(Finding(name, f"exports {symbol}: the legacy PyModuleDef path is not abi3t"))
            for symbol in sorted(s for s in imported if s.startswith(("Py", "_Py"))):
                added = stable.get(symbol)
                if added is None:
                    findings.append(Finding(name, f"{symbol} is not part of the stable ABI"))
                elif (added.major, added.minor) > ABI3T_FIRST:
                    findings.append(
                        Finding(
                            name,
                            f"{symbol} joined the stable ABI in {added.major}.{added.minor}",
                            (added.major, added.minor),
                        )
                    )
    return Audit("harness abi3t rules (abi3info)", tuple(findings), True)


def _dynamic_symbols(data: bytes) -> tuple[set[str], set[str]]:
    """(defined and exported, undefined) names in an ELF shared object's dynamic symbol table."""
    elf = ELFFile(BytesIO(data))
    table = elf.get_section_by_name(".dynsym")
    exported: set[str] = set()
    imported: set[str] = set()
    if not isinstance(table, SymbolTableSection):
        return exported, imported
    for symbol in table.iter_symbols():
        if not symbol.name:
            continue
        if symbol["st_shndx"] == "SHN_UNDEF":
            imported.add(symbol.name)
        elif symbol["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK"):
            exported.add(symbol.name)
    return exported, imported


def platform_needs(wheel: Path) -> dict[str, str]:
    """The newest GLIBC_/GLIBCXX_/CXXABI_ symbol version the wheel's shared objects require."""
    newest: dict[str, tuple[int, ...]] = {}
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if not name.endswith(".so"):
                continue
            elf = ELFFile(BytesIO(zf.read(name)))
            section = elf.get_section_by_name(".gnu.version_r")
            if not isinstance(section, GNUVerNeedSection):
                continue
            for _, auxiliaries in section.iter_versions():
                for aux in auxiliaries:
                    library, _, version = aux.name.partition("_")
                    parts = tuple(int(p) for p in version.split(".") if p.isdigit())
                    if library in ("GLIBC", "GLIBCXX", "CXXABI") and parts > newest.get(library, ()):
                        newest[library] = parts
    return {lib: ".".join(map(str, v)) for lib, v in sorted(newest.items())}
