"""The abi-none target (py3-none wheels, nothing compiled against Python): planned once per case,
expected to work everywhere, judged on the recorded free-threaded 3.14 maturin/cffi cell."""

from __future__ import annotations

from pathlib import Path

from harness.cell.observe import Compiled, Observed
from harness.model import Case, Cell, Interpreter, Status, Target, TargetKind, TargetRecipe
from harness.run.plan import plan
from harness.schema.decode import convert
from harness.verdict import artifact, oracle
from harness.verdict.judge import CellFacts, judge
from tests.conftest import recorded, recorded_cell
from tests.unit.structs import replace

ABI_NONE = Target("abi-none", TargetKind.ABI_NONE, None, ("oldest",))
VS = Target("version-specific", TargetKind.VERSION_SPECIFIC, None, ("each",))
PLAT = "linux_x86_64"


def case(binding: str, *kinds: TargetKind) -> Case:
    recipes = tuple((k, TargetRecipe()) for k in kinds)
    return Case(backend="maturin", binding=binding, path=Path("/x"), description="d", notes="", recipes=recipes)


def test_built_once_run_everywhere_and_only_where_declared() -> None:
    everyone = [recorded(i) for i in ("cp38", "cp39", "cp312", "cp313", "cp314t")]
    cffi, pyo3 = case("cffi", TargetKind.ABI_NONE), case("pyo3", TargetKind.VERSION_SPECIFIC)
    result = plan([cffi, pyo3], [VS, ABI_NONE], everyone, everyone)
    assert [b.id for b in result.builds if b.target is ABI_NONE] == ["maturin/cffi:abi-none:cp38"]
    # pyo3 says nothing of abi-none: no row of skips; cffi has no version-specific recipe: skips
    assert not [s for s in result.skips if s.case is pyo3]
    assert {s.cell.target for s in result.skips} == {"version-specific"}
    assert result.total_cells == (1 + 5) * 5 + 5


def test_expected_on_pypy_and_free_threaded_within_requires_python() -> None:
    tags = [f"py3-none-{PLAT}"]
    for run in ("cp38", "cp314t", "cp315d"):
        assert oracle.expect(tags, recorded(run)).accept
    pypy = replace(recorded("cp313"), id="pp311", implementation="pypy")
    assert oracle.expect(tags, pypy).accept
    excluded = oracle.expect(tags, recorded("cp38"), requires_python=">=3.9")
    assert not excluded.accept
    assert excluded.rule.startswith("Requires-Python >=3.9 excludes 3.8")


def test_artifact_shape(cp313: Interpreter) -> None:
    lib = ["abitest_maturin_cffi/_native/lib_native.so"]
    zeros = Compiled(Py_LIMITED_API=0, Py_TARGET_ABI3T=0)
    assert artifact.problems(ABI_NONE, cp313, [f"py3-none-{PLAT}"], lib, zeros) == []
    (tag,) = artifact.problems(ABI_NONE, cp313, [f"cp313-cp313-{PLAT}"], lib, zeros)
    assert tag == "wheel tag cp313-cp313 is not the target's py3-none"
    (suffix,) = artifact.problems(ABI_NONE, cp313, [f"py3-none-{PLAT}"], ["m.cpython-313-x86_64-linux-gnu.so"], None)
    assert "suffix .cpython-313-x86_64-linux-gnu.so does not fit abi-none" in suffix


def test_recorded_free_threaded_cell_passes_as_abi_none() -> None:
    # Recorded as version-specific (then an xfail by design); as abi-none it is a plain pass.
    record = recorded_cell("maturin/cffi:version-specific:cp314t:cp314t")
    facts = CellFacts(
        cell=Cell("maturin/cffi", "abi-none", "cp314t", "cp314t"),
        target=ABI_NONE,
        build=recorded("cp314t"),
        run=recorded("cp314t"),
        observed=convert(record["observed"], Observed, source="recorded"),
    )
    verdict = judge(facts, [])
    assert (verdict.status, verdict.stage) == (Status.PASS, "threads")
    assert verdict.reason == "GIL stays disabled; 16000 concurrent calls correct"
    as_recorded = judge(replace(facts, target=VS, cell=Cell.parse(record["cell"])), [])
    assert (as_recorded.status, as_recorded.stage) == (Status.FAIL, "artifact")
