"""The ABI surface of one interpreter build, measured from the build itself, and what changed between builds.

Three kinds of facts per interpreter:

- symbols: every stable-ABI function and data symbol promised up to its version (abi3info, generated
  from CPython's Misc/stable_abi.toml), looked up with ctypes inside the interpreter
  (`resources/surface_symbols.py`), cross-checked with its own `test.test_stable_abi_ctypes` list;
- layouts and constants: a C probe (`resources/surface_probe.c`) compiled against its own headers once per
  stable-ABI level (`Py_LIMITED_API=3`, 3.9 ... its version, `Py_TARGET_ABI3T` from 3.15), printing
  sizeof/offsetof of the structs whose layout the stable ABI fixes and the values of its constants;
- the runtime facts discovery already probed (SOABI, EXTENSION_SUFFIXES, accepted tags).

Gaps (PyPy's cpyext, a missing test package, a probe that does not compile) are findings with
reasons, never errors. `changes.diff` compares two surfaces; `tracking.milestones` turns the builds of one flavour
into the "last ABI addition" and "last ABI change" versions per level (the seeds' ABI-tracking idea).

Modules, along the data flow: `model` (the recorded facts), `promise` (what the stable ABI promises),
`probe` (the C probe), `measure` (measuring and caching one build), `changes` (diff), `tracking`
(milestones), `render` (terminal text and the report section).
"""

from __future__ import annotations

from harness.surface.changes import Change, ChangeKind, diff
from harness.surface.measure import collect
from harness.surface.model import (
    ABI3T_FIRST,
    SURFACE_VERSION,
    Finding,
    FindingKind,
    Level,
    LevelProbe,
    Surface,
    SymbolEntry,
    levels_for,
)
from harness.surface.render import diff_text, milestone_lines, report_section, section, text
from harness.surface.tracking import Flavour, FlavourLayouts, Milestone, flavour_layouts, milestones

__all__ = [
    "ABI3T_FIRST",
    "SURFACE_VERSION",
    "Change",
    "ChangeKind",
    "Finding",
    "FindingKind",
    "Flavour",
    "FlavourLayouts",
    "Level",
    "LevelProbe",
    "Milestone",
    "Surface",
    "SymbolEntry",
    "collect",
    "diff",
    "diff_text",
    "flavour_layouts",
    "levels_for",
    "milestone_lines",
    "milestones",
    "report_section",
    "section",
    "text",
]
