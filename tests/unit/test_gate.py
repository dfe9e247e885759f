"""gate: which cells concern a new build, its default baseline, which surface differences break a promise,
and the one verdict, on recorded interpreter facts and recorded surfaces (tests/fixtures/)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.model import Case, Interpreter, Provider, Target, TargetKind, TargetRecipe
from harness.reports import gate as report
from harness.run.gate import default_baseline, gate_plan
from harness.run.plan import plan
from harness.run.records import SCHEMA_VERSION, Record
from harness.surface import LevelProbe, Surface, breaks
from tests.conftest import recorded

SURFACES = Path(__file__).parent.parent / "fixtures" / "surfaces"
VS = Target("version-specific", TargetKind.VERSION_SPECIFIC, None, ("each",))
ABI3 = Target("abi3", TargetKind.ABI3, (3, 9), ("oldest", "newest"))
CASE = Case(
    backend="setuptools",
    binding="c-api",
    path=Path("/x"),
    description="d",
    notes="",
    recipes=((TargetKind.VERSION_SPECIFIC, TargetRecipe()), (TargetKind.ABI3, TargetRecipe())),
)


def surface(name: str) -> Surface:
    return Surface.decode((SURFACES / f"{name}.json").read_bytes(), source=f"{name}.json")


@pytest.fixture(scope="module")
def debian313() -> Interpreter:
    """Debian's 3.13.18 beside pyenv's 3.13.0 (recorded), as discovery names it."""
    return replace(recorded("cp313"), id="cp313-debian", version=(3, 13, 18), provider=Provider("debian"))


@pytest.fixture(scope="module")
def everyone(debian313: Interpreter) -> list[Interpreter]:
    return [recorded(i) for i in ("cp39", "cp312", "cp313", "cp314", "cp315", "cp315d")] + [debian313]


def by_id(interps: list[Interpreter], interp_id: str) -> Interpreter:
    return next(i for i in interps if i.id == interp_id)


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("cp315", "cp314"),  # no other 3.15 release build: the newest of the previous minor
        ("cp314", "cp313-debian"),  # the newest 3.13, not pyenv's older 3.13.0
        ("cp313", "cp313-debian"),  # a patch-level pair: another build of the same minor
        ("cp315d", "cp315"),  # no other debug 3.15 or 3.14 here: a release build of the same minor
    ],
)
def test_default_baseline(everyone: list[Interpreter], new: str, expected: str) -> None:
    assert default_baseline(by_id(everyone, new), everyone).id == expected


def test_default_baseline_prefers_the_same_flavour(everyone: list[Interpreter]) -> None:
    # A debug build is held against the previous debug build before a release build of its own minor.
    debug314 = replace(recorded("cp314"), id="cp314d", debug=True)
    assert default_baseline(by_id(everyone, "cp315d"), [*everyone, debug314]).id == "cp314d"


def test_no_baseline_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="--baseline"):
        default_baseline(recorded("cp39"), [recorded("cp39"), recorded("cp315")])


def cells(everyone: list[Interpreter], new: str) -> set[str]:
    full = plan([CASE], [VS, ABI3], everyone, everyone)
    gated = gate_plan(full, by_id(everyone, new), everyone)
    assert gated.total_cells == sum(len(gated.runners(b)) for b in gated.builds)
    return {str(b.cell(r)) for b in gated.builds for r in gated.runners(b)}


def test_gate_cells_of_a_new_minor(everyone: list[Interpreter]) -> None:
    got = cells(everyone, "cp315")
    # Another build's wheels it must accept: abi3 from the oldest builder; no version-specific wheel of 3.14.
    assert "setuptools/c-api:abi3:cp39:cp315" in got
    others_vs = {c for c in got if c.startswith("setuptools/c-api:version-specific:") and ":cp315:" not in c}
    assert not others_vs
    # Its own wheels where their tags say they may run: cp39-abi3 everywhere from 3.9 on, its version-specific
    # wheel on itself and on its debug build (debug builds load release extensions).
    own_abi3 = {c.rsplit(":", 1)[1] for c in got if c.startswith("setuptools/c-api:abi3:cp315:")}
    assert own_abi3 == {"cp39", "cp312", "cp313", "cp313-debian", "cp314", "cp315", "cp315d"}
    own_vs = {c.rsplit(":", 1)[1] for c in got if c.startswith("setuptools/c-api:version-specific:cp315:")}
    assert own_vs == {"cp315", "cp315d"}
    assert not any(c.endswith(":cp39") and ":cp315:" not in c for c in got)  # nothing of others elsewhere


def test_gate_cells_of_a_patch_release(everyone: list[Interpreter]) -> None:
    got = cells(everyone, "cp313")
    assert "setuptools/c-api:version-specific:cp313-debian:cp313" in got  # same minor: must accept
    assert "setuptools/c-api:version-specific:cp313:cp313-debian" in got
    assert "setuptools/c-api:version-specific:cp312:cp313" not in got


def without_symbol(s: Surface, name: str) -> Surface:
    """*s* with one exported stable-ABI symbol gone: a build that dropped it."""
    assert any(e.name == name and e.present for e in s.symbols)
    return replace(s, symbols=tuple(replace(e, found_as="") if e.name == name else e for e in s.symbols))


def test_recorded_releases_keep_their_promises() -> None:
    assert breaks.broken(surface("cp314"), surface("cp315")) == ()
    assert breaks.unverified(surface("cp314"), surface("cp315")) == ()
    evidence = breaks.compared(surface("cp314"), surface("cp315"))
    assert "levels both compile (3, 3.9, 3.10, 3.11, 3.12, 3.13, 3.14)" in evidence


def test_a_removed_symbol_breaks_pep_652_and_the_gate_exits_1() -> None:
    new = without_symbol(surface("cp315"), "PyCFunction_New")
    found = breaks.broken(surface("cp314"), new)
    assert [(b.promise, b.subject) for b in found] == [("PEP 652", "symbol PyCFunction_New")]
    assert "exported by cp314" in found[0].detail
    result = report.GateResult("cp315", "cp315 (...)", "cp314", "cp314 (...)", (), found, (), "/tmp/run")
    assert result.exit_code == 1
    assert "BROKEN [PEP 652] symbol PyCFunction_New" in report.text(result)
    assert "`symbol PyCFunction_New`" in report.markdown(result)
    suite = ET.fromstring(report.junit(result)).find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "1"


def test_a_symbol_newer_than_the_build_is_not_its_promise() -> None:
    old = surface("cp314")
    newer = next(e for e in surface("cp315").symbols if e.added == (3, 15))
    unknown = replace(newer, found_as="")
    assert breaks.broken(old, replace(old, symbols=(*old.symbols, replace(unknown, added=(3, 15))))) == ()


def with_constant(s: Surface, level: str, name: str, value: int) -> Surface:
    levels = tuple(
        replace(p, constants=tuple((k, value if k == name else v) for k, v in p.constants)) if p.level == level else p
        for p in s.levels
    )
    return replace(s, levels=levels)


def test_a_changed_constant_names_its_level_and_pep() -> None:
    old, new = surface("cp314"), surface("cp315")
    value = dict(next(p for p in new.levels if p.level == "3.9").constants)["METH_VARARGS"]
    found = breaks.broken(old, with_constant(new, "3.9", "METH_VARARGS", (value or 0) + 1000))
    assert [(b.promise, b.subject) for b in found] == [("PEP 384", "[3.9] constant METH_VARARGS")]


def test_a_level_that_no_longer_compiles_is_broken() -> None:
    old, new = surface("cp314"), surface("cp315")
    failed = tuple(LevelProbe("3.12", False, "Python.h: error") if p.level == "3.12" else p for p in new.levels)
    found = breaks.broken(old, replace(new, levels=failed))
    assert [(b.promise, b.subject) for b in found] == [("PEP 384", "[3.12] limited API level")]
    assert "Python.h: error" in found[0].detail


def test_a_lost_tag_or_suffix_the_rules_demand_is_broken() -> None:
    old, new = surface("cp314"), surface("cp315")
    lost = "cp39-abi3-linux_x86_64"
    assert lost in old.interpreter.supported_tags
    interp = replace(
        new.interpreter,
        supported_tags=tuple(t for t in new.interpreter.supported_tags if t != lost),
        ext_suffixes=tuple(s for s in new.interpreter.ext_suffixes if s != ".abi3.so"),
    )
    found = {(b.promise, b.subject) for b in breaks.broken(old, replace(new, interpreter=interp))}
    assert found == {("PEP 384, PEP 425", f"tag {lost}"), ("PEP 384", "suffix .abi3.so")}


def test_a_distro_suffix_is_no_promise_of_another_build() -> None:
    """Debian's 3.13 lists .abi3-x86_64-linux-gnu.so by patch; upstream's 3.13.0 does not, and need not
    (upstream lists it from 3.15, gh-122931). A 3.15 build that drops it breaks PEP 384's promise."""
    old, new = surface("cp314"), surface("cp315")
    debian = replace(old.interpreter, ext_suffixes=(*old.interpreter.ext_suffixes, ".abi3-x86_64-linux-gnu.so"))
    assert breaks.suffix_promise(".abi3-x86_64-linux-gnu.so", replace(debian, version=(3, 13, 0))) == ""
    assert breaks.suffix_promise(".abi3-x86_64-linux-gnu.so", new.interpreter) == "PEP 384"
    assert breaks.suffix_promise(".cpython-315-x86_64-linux-gnu.so", new.interpreter) == "PEP 3149"
    dropped = replace(new.interpreter, ext_suffixes=tuple(s for s in new.interpreter.ext_suffixes if "abi3-" not in s))
    found = breaks.broken(replace(old, interpreter=debian), replace(new, interpreter=dropped))
    assert [(b.promise, b.subject) for b in found] == [("PEP 384", "suffix .abi3-x86_64-linux-gnu.so")]


def record(status: str, build: str, run: str, rule: str) -> Record:
    return Record(
        run_id="r",
        cell=f"setuptools/c-api:abi3:{build}:{run}",
        case="setuptools/c-api",
        backend="setuptools",
        binding="c-api",
        target="abi3",
        target_kind=TargetKind.ABI3,
        build_python=build,
        run_python=run,
        status=status,  # type: ignore[arg-type]
        reason="ImportError: undefined symbol: PyFoo",
        stage="import",
        expected="install+work",
        expected_rule=rule,
        schema_version=SCHEMA_VERSION,
    )


def test_a_failed_cell_names_the_promise_and_whose_wheel() -> None:
    rule = "cp39-abi3: stable ABI works on every later GIL CPython (PEP 384, PEP 425)"
    bad = record("fail", "cp39", "cp315", rule)
    result = report.GateResult("cp315", "", "cp314", "", (bad, record("pass", "cp315", "cp39", rule)), (), (), "d")
    assert result.exit_code == 1
    text = report.text(result)
    assert "BROKEN [PEP 384, PEP 425] setuptools/c-api:abi3:cp39:cp315 (cp39's wheel on it)" in text
    assert "its own wheels, run where their tags allow: 1 cells: 1 pass" in text
    kept = report.GateResult("cp315", "", "cp314", "", (record("xfail", "cp39", "cp315", rule),), (), (), "d")
    assert kept.exit_code == 0
    assert json.loads(json.dumps(kept.to_json()))["verdict"] == report.PASSED


def test_the_command_exits_1_naming_the_removed_symbol(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m harness gate` end to end on recorded facts: Debian's 3.15.2 and 3.14.10 as discovery found
    them, their recorded surfaces with one stable-ABI symbol gone from 3.15's; the cells' pipeline is left
    out (no interpreter runs here), so the verdict rests on the surface alone."""
    from harness.__main__ import main  # noqa: PLC0415
    from harness.interpreters.discover import Discovery  # noqa: PLC0415
    from harness.workflows import gate as workflow  # noqa: PLC0415

    found = Discovery((recorded("cp314"), recorded("cp315")), ())
    surfaces = {"cp314": surface("cp314"), "cp315": without_symbol(surface("cp315"), "PyModule_AddObjectRef")}
    monkeypatch.setattr(workflow, "discover", lambda *_: found)
    monkeypatch.setattr(workflow, "collect", lambda interp, _: surfaces[interp.id])
    monkeypatch.setattr(workflow, "run_plan", lambda *_: None)
    code = main(["gate", "--python", "cp315", "--cache-dir", str(tmp_path), "--results", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 1
    assert "BROKEN [PEP 652] symbol PyModule_AddObjectRef" in out
    assert "verdict: promise broken (cp315 against cp314)" in out
    (run_dir,) = (tmp_path / "r").iterdir()
    assert "PyModule_AddObjectRef" in (run_dir / "gate.md").read_text()
    assert json.loads((run_dir / "gate.json").read_text())["verdict"] == report.FAILED
