"""history.json: what the nightly carries forward from night to night (harness/reports/history.py writes it).

Small on purpose: per night the counts and the few cells worth naming, and every cell's status as one
letter of a string aligned with the file's cell list (about 4 kB a night for the default matrix).
"""

from __future__ import annotations

from typing import Literal

import msgspec

HISTORY_FILE = "history.json"


class Night(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    run_id: str
    started: str
    counts: dict[str, int]  # per status as the overview shows it (pass, refused, fail, ..., skip)
    problems: dict[str, str]  # cell -> fail, crash, timeout or error
    new_xpasses: list[str]  # cells that became xpass since the baseline
    findings: dict[str, int]  # refused binaries loaded anyway, per kind of finding
    installer_changes: list[str]  # what pip and uv chose differently since the baseline
    harness_version: str
    tools: dict[str, str]  # installer and build backends, name -> version(s)
    statuses: str  # one letter per cell of History.cells (history.CODES), "." where absent


class History(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    format: Literal["abi-harness history"]
    version: Literal[1]
    cells: list[str]
    nights: list[Night]  # oldest first
