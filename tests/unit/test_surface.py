"""Surface diff and ABI-tracking numbers over recorded surfaces (real `python -m harness surface --json`
output of local builds, saved under tests/fixtures/surfaces/)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness import surface
from harness.errors import HarnessError
from harness.interpreters import providers
from harness.model import Provider
from harness.surface import ChangeKind, FindingKind, Flavour, Level, LevelProbe, Surface, breaks
from harness.surface.measure import SymbolLookup, _list_findings, _missing_findings, symbol_lookup, symbols_script
from harness.surface.probe import blamed_items, parse_probe_output, render_probe
from harness.surface.promise import promise_for, structs
from harness.surface.render import level_lines

FIXTURES = Path(__file__).parent.parent / "fixtures" / "surfaces"


def load(name: str) -> Surface:
    return Surface.decode((FIXTURES / f"{name}.json").read_bytes(), source=f"{name}.json")


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


@pytest.mark.parametrize("name", ["cp38", "cp39", "cp310", "cp311", "cp314", "cp314d", "cp314t", "cp315", "pp311"])
def test_recorded_surfaces_round_trip(name: str) -> None:
    s = load(name)
    assert Surface.decode(json.dumps(s.to_json()).encode(), source="surface.json") == s


def test_diff_cp314_cp315_shows_what_315_added() -> None:
    cp314, cp315 = load("cp314"), load("cp315")
    added = changes_of(cp314, cp315, ChangeKind.SYMBOL_ADDED)
    assert ("", "PyABIInfo_Check") in added
    assert ("", "PyModule_FromSlotsAndSpec") in added
    assert added[("", "PyCriticalSection_Begin")].new == "stable ABI since 3.15"
    assert not changes_of(cp314, cp315, ChangeKind.SYMBOL_REMOVED)
    levels = changes_of(cp314, cp315, ChangeKind.LEVEL_ADDED)
    assert set(levels) == {("3.15", "probe level"), ("abi3t-3.15", "probe level"), ("full-3.15", "probe level")}
    assert ("", ".abi3t.so") in changes_of(cp314, cp315, ChangeKind.SUFFIX_ADDED)
    # 3.15's headers define the new module slot at the 3.14 level too: an addition, with its value.
    assert changes_of(cp314, cp315, ChangeKind.CONSTANT_ADDED)[("3.14", "Py_mod_abi")].new == "109"


def test_the_version_tag_flag_leaving_tpflags_default_is_a_no_op() -> None:
    """Py_TPFLAGS_DEFAULT at Py_LIMITED_API=3: 3.9 headers bake in HAVE_VERSION_TAG, 3.10 headers 0;
    the flag does nothing since 3.10 (bpo-42747), so the value change is no ABI change."""
    cp39, cp310 = load("cp39"), load("cp310")
    assert not changes_of(cp39, cp310, ChangeKind.CONSTANT_CHANGED)
    change = changes_of(cp39, cp310, ChangeKind.CONSTANT_NO_OP)[("3", "Py_TPFLAGS_DEFAULT")]
    assert (change.old, change.new) == ("262144", "0")
    assert "bpo-42747" in change.note
    assert not change.kind.is_break
    assert not change.kind.is_addition


def test_diff_reports_a_constant_changed_at_the_same_level_with_both_values() -> None:
    """Any other bit of Py_TPFLAGS_DEFAULT changing is an ABI change."""
    cp310 = load("cp310")
    heap = with_value(cp310, "3", "Py_TPFLAGS_DEFAULT", 1 << 9)  # Py_TPFLAGS_HEAPTYPE
    change = changes_of(cp310, heap, ChangeKind.CONSTANT_CHANGED)[("3", "Py_TPFLAGS_DEFAULT")]
    assert (change.old, change.new, change.note) == ("0", "512", "")
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


GIL_BUILDS = ("cp38", "cp39", "cp310", "cp311", "cp314", "cp315")


def test_milestones_over_recorded_gil_builds_read_no_change() -> None:
    """Over the local GIL builds, no level saw a change of what it promises, and nothing was added to a
    level after its first build: the 3.10 no-op flag, 3.9's missing PyCFunction_New and 3.15's unguarded
    slot ids are no ABI change or addition."""
    found, notes = surface.milestones([*map(load, GIL_BUILDS), load("pp311")])
    by_level = {(m.flavour, m.level): m for m in found}
    level3 = by_level[(Flavour.GIL, "3")]
    assert level3.builds == GIL_BUILDS
    for m in found:
        assert m.last_change == "", (m.level, m.evidence)
        assert m.last_addition == load(m.builds[0]).interpreter.version_str, (m.level, m.evidence)
    assert by_level[(Flavour.GIL, "3.15")].builds == ("cp315",)
    assert not any(m.level.startswith("full-") for m in found)
    assert not any(m.flavour is Flavour.DEBUG for m in found)
    assert "debug: no build among those surveyed" in notes
    assert any(n.startswith("pp311: pypy is left out") for n in notes)


def test_milestones_show_what_was_no_abi_change_and_why() -> None:
    found, _ = surface.milestones([load("cp38"), load("cp39"), load("cp310")])
    by_level = {m.level: m for m in found}
    assert any("Py_TPFLAGS_DEFAULT" in k and "bpo-42747" in k for k in by_level["3"].known)
    assert not any("PyCFunction_New" in k for k in by_level["3"].known)  # stable ABI since 3.4: not at level 3
    known_39 = by_level["3.9"].known
    assert any(k.startswith("cp39 -> cp310: known-gap") and "gh-87405" in k for k in known_39)


def test_constants_count_only_at_the_levels_that_promise_them() -> None:
    """3.15's headers define the 3.15 slot ids at level 3.14 (an addition in a plain diff), but the level
    does not promise them; headers-only extras such as Py_TPFLAGS_IMMUTABLETYPE are never promised."""
    cp314, cp315 = load("cp314"), load("cp315")
    assert ("3.14", "Py_mod_abi") in changes_of(cp314, cp315, ChangeKind.CONSTANT_ADDED)
    found, _ = surface.milestones([cp314, cp315])
    assert {m.level: m for m in found}["3.14"].last_addition == "3.14.10"
    immutable = with_value(cp315, "3", "Py_TPFLAGS_IMMUTABLETYPE", 1)
    found, _ = surface.milestones([cp314, immutable])
    assert {m.level: m for m in found}["3"].last_change == ""
    varargs = with_value(cp315, "3", "METH_VARARGS", 2)
    found, _ = surface.milestones([cp314, varargs])
    assert {m.level: m for m in found}["3"].last_change == "3.15.2"


def test_notes_tell_a_flavour_not_selected_from_one_not_discovered() -> None:
    cp314, cp314t = load("cp314"), load("cp314t")
    _, notes = surface.milestones([cp314], [cp314.interpreter, cp314t.interpreter])
    assert "free-threaded: not selected (cp314t discovered; add --python ID)" in notes
    assert "debug: no build discovered, nothing measured" in notes


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
    assert [level.name for level in surface.levels_for(cp315t)] == ["abi3t-3.15", "full-3.15"]
    promise, findings = promise_for(cp315t)
    assert promise.startswith("abi3t")
    assert [f.kind for f in findings] == [FindingKind.ABI3T_RULES]
    assert Flavour.of(cp315t) is Flavour.FREE_THREADED
    cp314t = load("cp314t").interpreter
    assert [level.name for level in surface.levels_for(cp314t)] == ["full-3.14"]
    assert [f.kind for f in promise_for(cp314t)[1]] == [FindingKind.NOT_STABLE_ABI]


def test_levels_of_a_gil_build() -> None:
    names = [level.name for level in surface.levels_for(load("cp315").interpreter)]
    assert names == ["3", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "abi3t-3.15", "full-3.15"]
    assert [level.name for level in surface.levels_for(load("cp39").interpreter)] == ["3", "3.9", "full-3.9"]
    assert [level.name for level in surface.levels_for(load("pp311").interpreter)] == ["3", "3.9", "3.10", "3.11"]
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
    assert any(line.startswith("| GIL release | 3.14 | 3.14.10 | none seen |") for line in lines)


def test_cp39_missing_pycfunction_new_is_a_known_gap_not_a_removal() -> None:
    cp38, cp39 = load("cp38"), load("cp39")
    assert not changes_of(cp38, cp39, ChangeKind.SYMBOL_REMOVED)
    gap = changes_of(cp38, cp39, ChangeKind.KNOWN_GAP)[("", "PyCFunction_New")]
    assert (gap.new, gap.kind.is_break) == ("missing", False)
    assert "gh-87405" in gap.note
    assert ("", "PyCFunction_New") in changes_of(cp39, load("cp310"), ChangeKind.KNOWN_GAP)
    findings = _missing_findings(cp39.interpreter, cp39.symbols)
    assert [f.kind for f in findings] == [FindingKind.KNOWN_GAP]
    assert findings[0].message.startswith("PyCFunction_New not exported (gh-87405)")
    # The same gap on another version is no longer known: a removal.
    cp310_lacking = replace(cp39, interpreter=load("cp310").interpreter)
    assert ("", "PyCFunction_New") in changes_of(cp38, cp310_lacking, ChangeKind.SYMBOL_REMOVED)
    assert [f.kind for f in _missing_findings(cp310_lacking.interpreter, cp39.symbols)] == [FindingKind.MISSING_SYMBOL]


def test_the_ctypes_list_omissions_of_311_and_312_are_known() -> None:
    """cp311's own test_stable_abi_ctypes list lacks PyModule_Create2 and PyModule_FromDefAndSpec2 on
    purpose (bpo-44133); the same omission on 3.13 would be a disagreement."""
    cp311 = load("cp311")
    assert [f.kind for f in cp311.findings] == [FindingKind.KNOWN_GAP, FindingKind.KNOWN_GAP]
    omitted = {"PyModule_Create2", "PyModule_FromDefAndSpec2"}
    data = SymbolLookup(
        lookup=cp311.lookup,
        found={s.name: s.found_as for s in cp311.symbols},
        feature_macros={},
        feature_macros_source="",
        ctypes_list=tuple(s.name for s in cp311.symbols if s.applicable and s.name not in omitted),
        ctypes_list_source="test.test_stable_abi_ctypes",
        include="",
        platinclude="",
    )
    _, findings = _list_findings(cp311.interpreter, cp311.symbols, data)
    assert [(f.kind, f.message.split(" ")[0]) for f in findings] == [
        (FindingKind.KNOWN_GAP, "PyModule_Create2"),
        (FindingKind.KNOWN_GAP, "PyModule_FromDefAndSpec2"),
    ]
    assert all("bpo-44133" in f.message for f in findings)
    _, findings = _list_findings(load("cp314").interpreter, cp311.symbols, data)
    assert {f.kind for f in findings} == {FindingKind.LIST_DISAGREES}


def test_pypy_exports_the_filesystem_encoding_under_its_own_alias() -> None:
    entry = next(s for s in load("pp311").symbols if s.name == "Py_FileSystemDefaultEncoding")
    assert entry.found_as == "_PyPy_FileSystemDefaultEncoding"
    script: dict[str, Any] = {"__name__": "surface_symbols"}
    exec(symbols_script(), script)  # the functions only: main() runs as __main__ alone
    script["sys"] = SimpleNamespace(implementation=SimpleNamespace(name="pypy"))
    assert "_PyPy_FileSystemDefaultEncoding" in script["candidates"]("Py_FileSystemDefaultEncoding")
    assert script["candidates"]("PyArg_Parse") == ["PyArg_Parse", "PyPyArg_Parse"]


def test_a_free_threaded_314_says_why_it_has_no_stable_abi_level_and_shows_its_full_layouts() -> None:
    lines = level_lines(load("cp314t"))
    assert any("Python.h refuses Py_LIMITED_API" in line and "gh-111506" in line for line in lines)
    assert "    level full-3.14 (full ABI, no Py_LIMITED_API): layouts" in lines
    assert any(line.startswith("      PyObject: size 32; ") and "ob_type@24" in line for line in lines)
    assert not any("refuses" in line for line in level_lines(load("cp314")))


def test_full_abi_layouts_differ_between_free_threaded_and_gil_314() -> None:
    """Measured: PyObject 16 bytes with ob_type at 8 on GIL 3.14, 32 with ob_type at 24 free-threaded;
    PyModuleDef 104 and 120. The debug build lays them out as the release build does."""
    cp314, cp314d, cp314t = load("cp314"), load("cp314d"), load("cp314t")
    changed = changes_of(cp314, cp314t, ChangeKind.LAYOUT_CHANGED)
    for key, old, new in (("PyObject", "16", "32"), ("PyObject.ob_type", "8", "24"), ("PyModuleDef", "104", "120")):
        assert (changed[("full-3.14", key)].old, changed[("full-3.14", key)].new) == (old, new)
    assert ("full-3.14", "PyObject.ob_refcnt") in changes_of(cp314, cp314t, ChangeKind.LAYOUT_REMOVED)
    compared = {f.other: f for f in surface.flavour_layouts([cp314t, cp314d, cp314, load("cp315")])}
    assert set(compared) == {"cp314d", "cp314t"}
    assert compared["cp314d"].changes == ()
    assert compared["cp314t"].base == "cp314"
    assert {c.name for c in compared["cp314t"].changes} >= {"PyObject", "PyObject.ob_type", "PyModuleDef"}
    section = surface.section([cp314, cp314t])
    assert any(
        line.startswith("- full-ABI layouts 3.14, cp314 -> cp314t: ") and "PyObject 16 -> 32" in line
        for line in section
    )


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        (("symbols", 0, "added"), "3.x", "symbols[0].added: expected str matching"),
        (("levels", 0, "layouts"), {"PyObject": "big"}, "levels[0].layouts[...]: expected int | null, got str"),
        (("findings", 0), {"kind": "odd", "message": ""}, "findings[0].kind: expected one of missing-symbol"),
        (("interpreter", "version"), "3.x.y", "interpreter.version: expected str matching"),
    ],
)
def test_a_recorded_surface_that_does_not_fit_names_the_field(
    path: tuple[str | int, ...], value: object, says: str
) -> None:
    """The surface cache is decoded through SurfaceFile: an entry that does not fit is measured again."""
    data = json.loads((FIXTURES / "cp315.json").read_text())
    here = data
    for step in path[:-1]:
        here = here[step]
    if isinstance(here, list) and not here:
        pytest.skip("the recorded surface has no such entry")
    here[path[-1]] = value
    with pytest.raises(HarnessError, match=re.escape(f"cp315.json: {says}")):
        Surface.decode(json.dumps(data).encode(), source="cp315.json")


def test_the_gate_holds_full_abi_layouts_only_between_builds_of_one_soabi() -> None:
    cp314, cp314t = load("cp314"), load("cp314t")
    assert not any(b.subject.startswith("[full-") for b in breaks.broken(cp314, cp314t))
    size = dict(cp314.level("full-3.14").layouts)["PyObject"]  # type: ignore[union-attr]
    grown = with_value(cp314, "full-3.14", "PyObject", (size or 0) + 16, layout=True)
    found = {(b.promise, b.subject) for b in breaks.broken(cp314, grown)}
    assert ("PEP 3149", "[full-3.14] struct PyObject") in found


def test_the_gate_does_not_hold_the_no_op_version_tag_bit_against_310() -> None:
    found = breaks.broken(load("cp39"), load("cp310"))
    assert not any("Py_TPFLAGS_DEFAULT" in b.subject for b in found)


def test_a_flavour_is_compared_with_the_release_build_of_its_own_provider() -> None:
    """Debian's 3.14d against Debian's 3.14, not against another provider's 3.14 that ranks first."""
    cp314, cp314d = load("cp314"), load("cp314d")
    other = replace(cp314, interpreter=replace(cp314.interpreter, id="cp314-uv", provider=Provider("uv")))
    assert providers.rank(Provider("uv")) < providers.rank(cp314.interpreter.provider)
    (compared,) = surface.flavour_layouts([other, cp314d, cp314])
    assert (compared.base, compared.other) == ("cp314", "cp314d")


# Recorded: resources/surface_symbols.py run by pyenv's CPython 3.12.1 with four wanted names on stdin
# (PyCFunction_New, PyModule_Create2, Py_FileSystemDefaultEncoding, PyType_GetName).
SYMBOLS_CP312 = (FIXTURES / "symbols-cp312.out").read_text()


def test_the_recorded_symbol_answer_is_read_whole() -> None:
    answer = symbol_lookup(SYMBOLS_CP312)
    assert isinstance(answer, SymbolLookup)
    plain = json.loads(SYMBOLS_CP312.strip().splitlines()[-1])
    assert answer.found == plain["found"]
    assert answer.found["PyCFunction_New"] == "PyCFunction_New"
    assert answer.ctypes_list == tuple(plain["ctypes_list"])
    assert (answer.include, answer.lookup) == (plain["include"], plain["lookup"])


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        ({"found": ["PyCFunction_New"]}, "found: expected object, got array"),
        ({"found": {"PyCFunction_New": True}}, "found[...]: expected str, got bool"),
        ({"feature_macros": {"HAVE_FORK": "yes"}}, "feature_macros[...]: expected bool, got str"),
        ({"ctypes_list": "PyCFunction_New"}, "ctypes_list: expected array | null, got str"),
        ({"include": None}, "include: expected str, got null"),
    ],
)
def test_a_symbol_answer_that_does_not_fit_is_why_the_lookup_did_not_run(damage: dict[str, Any], named: str) -> None:
    plain = json.loads(SYMBOLS_CP312.strip().splitlines()[-1])
    said = symbol_lookup(json.dumps({**plain, **damage}))
    assert isinstance(said, str)
    assert said.startswith("surface_symbols.py's answer: ")
    assert named in said
    assert isinstance(symbol_lookup("Traceback (most recent call last):\n"), str)
