"""Surface diff and ABI-tracking numbers over recorded surfaces (real `python -m harness surface --json`
output of local builds, saved under tests/fixtures/surfaces/)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from harness import surface
from harness.surface import ChangeKind, FindingKind, Flavour, Level, LevelProbe, Surface
from harness.surface.probe import blamed_items, parse_probe_output, render_probe
from harness.surface.promise import promise_for, structs

FIXTURES = Path(__file__).parent.parent / "fixtures" / "surfaces"


def load(name: str) -> Surface:
    return Surface.from_json(json.loads((FIXTURES / f"{name}.json").read_text()))


def changes_of(a: Surface, b: Surface, kind: ChangeKind) -> dict[tuple[str, str], surface.Change]:
    return {(c.level, c.name): c for c in surface.diff(a, b) if c.kind is kind}


def with_value(s: Surface, level: str, name: str, value: int | None, *, layout: bool = False) -> Surface:
    """*s* with one recorded layout or constant value replaced: a build that changed it."""
    levels = []
    for probe in s.levels:
        if probe.level != level:
            levels.append(probe)
            continue
        values = dict(probe.layouts if layout else probe.constants)
        assert name in values
        values[name] = value
        changed = tuple(sorted(values.items()))
        levels.append(replace(probe, layouts=changed) if layout else replace(probe, constants=changed))
    return replace(s, levels=tuple(levels))


@pytest.mark.parametrize("name", ["cp39", "cp310", "cp314", "cp315", "pp311"])
def test_recorded_surfaces_round_trip(name: str) -> None:
    s = load(name)
    assert Surface.from_json(json.loads(json.dumps(s.to_json()))) == s


def test_diff_cp314_cp315_shows_what_315_added() -> None:
    cp314, cp315 = load("cp314"), load("cp315")
    added = changes_of(cp314, cp315, ChangeKind.SYMBOL_ADDED)
    assert ("", "PyABIInfo_Check") in added
    assert ("", "PyModule_FromSlotsAndSpec") in added
    assert added[("", "PyCriticalSection_Begin")].new == "stable ABI since 3.15"
    assert not changes_of(cp314, cp315, ChangeKind.SYMBOL_REMOVED)
    levels = changes_of(cp314, cp315, ChangeKind.LEVEL_ADDED)
    assert set(levels) == {("3.15", "probe level"), ("abi3t-3.15", "probe level")}
    assert ("", ".abi3t.so") in changes_of(cp314, cp315, ChangeKind.SUFFIX_ADDED)
    # 3.15's headers define the new module slot at the 3.14 level too: an addition, with its value.
    assert changes_of(cp314, cp315, ChangeKind.CONSTANT_ADDED)[("3.14", "Py_mod_abi")].new == "109"


def test_diff_reports_a_constant_changed_at_the_same_level_with_both_values() -> None:
    """Py_TPFLAGS_DEFAULT at Py_LIMITED_API=3: 3.9 headers bake in HAVE_VERSION_TAG, 3.10 headers 0."""
    changed = changes_of(load("cp39"), load("cp310"), ChangeKind.CONSTANT_CHANGED)
    change = changed[("3", "Py_TPFLAGS_DEFAULT")]
    assert (change.old, change.new) == ("262144", "0")
    assert change.kind.is_break


def test_diff_reports_a_layout_change_with_both_values() -> None:
    cp315 = load("cp315")
    size = dict(cp315.level("3.9").layouts)["PyType_Spec"]  # type: ignore[union-attr]
    grown = with_value(cp315, "3.9", "PyType_Spec", (size or 0) + 8, layout=True)
    changed = changes_of(cp315, grown, ChangeKind.LAYOUT_CHANGED)
    assert set(changed) == {("3.9", "PyType_Spec")}
    assert (changed[("3.9", "PyType_Spec")].old, changed[("3.9", "PyType_Spec")].new) == (str(size), str(size + 8))


def test_diff_of_a_surface_with_itself_is_empty() -> None:
    assert surface.diff(load("cp315"), load("cp315")) == ()


def test_a_symbol_an_older_build_promised_and_a_newer_lacks_is_a_removal() -> None:
    cp314 = load("cp314")
    lacking = replace(
        cp314, symbols=tuple(replace(x, found_as="") if x.name == "PyType_FromSpec" else x for x in cp314.symbols)
    )
    removed = changes_of(cp314, lacking, ChangeKind.SYMBOL_REMOVED)
    assert removed[("", "PyType_FromSpec")].old == "stable ABI since 3.2"
    assert removed[("", "PyType_FromSpec")].kind.is_break


def test_milestones_over_recorded_gil_builds() -> None:
    found, notes = surface.milestones([load("cp39"), load("cp310"), load("cp314"), load("cp315"), load("pp311")])
    by_level = {(m.flavour, m.level): m for m in found}
    level3 = by_level[(Flavour.GIL, "3")]
    assert level3.builds == ("cp39", "cp310", "cp314", "cp315")
    assert level3.last_change == "3.10.13"  # Py_TPFLAGS_DEFAULT, see above
    assert level3.last_addition == "3.15.2"  # 3.15 headers expose new constants at level 3
    assert by_level[(Flavour.GIL, "3.10")].last_change == ""
    assert by_level[(Flavour.GIL, "3.15")].last_addition == "3.15.2"
    assert by_level[(Flavour.GIL, "3.15")].builds == ("cp315",)
    assert not any(m.flavour is Flavour.DEBUG for m in found)
    assert "debug: no build discovered, nothing measured" in notes
    assert "free-threaded: no build discovered, nothing measured" in notes
    assert any(n.startswith("pp311: pypy is left out") for n in notes)


def test_a_layout_change_moves_the_last_change_version() -> None:
    cp314, cp315 = load("cp314"), load("cp315")
    size = dict(cp315.level("3.12").layouts)["PyMethodDef"]  # type: ignore[union-attr]
    changed = with_value(cp315, "3.12", "PyMethodDef", (size or 0) * 2, layout=True)
    found, _ = surface.milestones([cp314, changed])
    level = {m.level: m for m in found}["3.12"]
    assert level.last_change == "3.15.2"
    assert any("layout-changed" in e and "PyMethodDef" in e for e in level.evidence)


def test_pypy_missing_symbols_are_findings_with_reasons() -> None:
    pp311 = load("pp311")
    kinds = {f.kind for f in pp311.findings}
    assert FindingKind.NOT_STABLE_ABI in kinds
    missing = [f.message for f in pp311.findings if f.kind is FindingKind.MISSING_SYMBOL]
    assert missing
    assert all(m.endswith("not provided by cpyext") for m in missing)
    assert len(missing) == len([x for x in pp311.symbols if x.applicable and not x.present])


def test_free_threaded_builds_are_held_against_abi3t() -> None:
    """No free-threaded build on this machine: the rules run on recorded facts of the 3.15 GIL build."""
    cp315t = replace(load("cp315").interpreter, free_threaded=True)
    assert [level.name for level in surface.levels_for(cp315t)] == ["abi3t-3.15"]
    promise, findings = promise_for(cp315t)
    assert promise.startswith("abi3t")
    assert [f.kind for f in findings] == [FindingKind.ABI3T_RULES]
    assert Flavour.of(cp315t) is Flavour.FREE_THREADED
    cp314t = replace(load("cp314").interpreter, free_threaded=True)
    assert surface.levels_for(cp314t) == ()
    assert [f.kind for f in promise_for(cp314t)[1]] == [FindingKind.NOT_STABLE_ABI]


def test_levels_of_a_gil_build() -> None:
    names = [level.name for level in surface.levels_for(load("cp315").interpreter)]
    assert names == ["3", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "abi3t-3.15"]
    assert [level.name for level in surface.levels_for(load("cp39").interpreter)] == ["3", "3.9"]
    for name in names:
        assert Level.parse(name).name == name


def test_abi3t_level_leaves_out_structs_abi3t_makes_opaque() -> None:
    assert "PyModuleDef" in structs(Level((3, 15)))
    opaque = {"PyModuleDef", "PyModuleDef_Base", "PyObject", "PyVarObject"}
    assert not opaque & set(structs(Level((3, 15), abi3t=True)))
    assert "Py_buffer" not in structs(Level((3, 10)))


def test_probe_source_lines_map_to_items_and_compiler_errors_blame_them() -> None:
    source, owners = render_probe(Level((3, 9)))
    lines = source.split("\n")
    for number, item in owners.items():
        assert item.split(".")[-1] in lines[number - 1]
    number = next(n for n, item in owners.items() if item == "PyMemberDef.doc")
    error = "invalid use of incomplete typedef 'PyMemberDef'"
    stderr = f"probe.c: In function 'main':\nprobe.c:{number}:5: error: {error}\n"
    assert blamed_items(stderr, owners) == {"PyMemberDef.doc": error}


def test_probe_output_parses_into_values_and_absent_items() -> None:
    out = "size PyType_Slot 16\noffset PyType_Slot.pfunc 8\nconst Py_tp_new 65\nconst Py_mod_gil absent\n"
    probe = parse_probe_output("3.12", out, {"PyMemberDef": "incomplete type"})
    assert isinstance(probe, LevelProbe)
    assert dict(probe.layouts) == {"PyType_Slot": 16, "PyType_Slot.pfunc": 8, "PyMemberDef": None}
    assert dict(probe.constants) == {"Py_tp_new": 65, "Py_mod_gil": None}


def test_report_section_lists_each_build_and_the_numbers() -> None:
    lines = surface.section([load("cp314"), load("cp315"), load("pp311")])
    assert lines[0] == "## Surface"
    assert any(line.startswith("| cp315 | abi3 up to 3.15 |") for line in lines)
    assert any(line.startswith("| pp311 |") and "`" in line for line in lines)
    assert any(line.startswith("| GIL release | 3.14 | 3.15.2 |") for line in lines)
