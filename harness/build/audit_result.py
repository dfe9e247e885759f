"""What a wheel's audit found: the typed result build/audit.py produces and a record's `observed.audit` keeps.

Apart from the audit itself (ELF parsing, abi3audit), so the judge reads it without either.
"""

from __future__ import annotations

import msgspec


class Finding(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    file: str
    message: str
    needs: tuple[int, int] | None = None  # fails only below this version; None: fails everywhere


class Audit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A wheel's audit, as recorded in `observed.audit` (and, with its rules' version, in the audit cache)."""

    tool: str  # what looked: "abi3audit 0.0.26", "harness abi3t rules", or why nothing did
    findings: tuple[Finding, ...]
    applicable: bool  # False for version-specific wheels: nothing to audit
    # The newest symbol version each system library must provide (auditwheel's view of the
    # wheel's real platform), e.g. {"GLIBC": "2.34", "GLIBCXX": "3.4.32", "CXXABI": "1.3.15"}.
    platform: dict[str, str] = {}
