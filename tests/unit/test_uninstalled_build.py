"""A CPython run from its build tree (`./python` after `make`, not installed): what the probe reports and
how discovery, the reuse key and the gate's baseline treat it. The facts are the real probe output of two
build trees of CPython 3.13.15 (tests/fixtures/build-trees/README.md): an in-tree GIL build and an
out-of-tree free-threaded one (`../configure --disable-gil` in build-ft/)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import pytest

from harness.cell.reuse import interpreter_files
from harness.config.matrix import load_matrix
from harness.interpreters import providers
from harness.interpreters.discover import ProbeFacts, assign_ids, from_probe
from harness.interpreters.providers import Candidate
from harness.model import Interpreter, Provider, Status
from harness.reports import gate as report
from harness.run.gate import default_baseline, flavour_note
from harness.surface import breaks
from harness.verdict.judge import find_known_issue
from tests.conftest import REPO, recorded

BUILD_TREES = Path(__file__).parent.parent / "fixtures" / "build-trees"


def probe_facts(name: str) -> dict[str, Any]:
    """The probe's JSON line as the build tree's `./python` printed it."""
    facts: dict[str, Any] = json.loads((BUILD_TREES / f"{name}.probe.json").read_text())
    return facts


def built(name: str, **changes: object) -> Interpreter:
    """The build tree as discovery makes it of an explicit `--python PATH` (optionally with facts changed)."""
    facts = {**probe_facts(name), **changes}
    return from_probe(Candidate(str(facts["executable"]), Provider("explicit")), msgspec.convert(facts, ProbeFacts))


def test_the_probe_reports_an_installed_interpreter_as_installed() -> None:
    """The real probe, run by this interpreter (installed): no build directory."""
    source = resources.files("harness.resources").joinpath("probe.py").read_text()
    out = subprocess.run([sys.executable, "-I", "-c", source], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1])["build_dir"] == ""


@pytest.mark.parametrize("name", ["cp313-build", "cp313t-build"])
def test_a_build_tree_reports_where_make_left_it(name: str) -> None:
    """sysconfig.is_python_build() inside the tree: the build directory is the executable's; sys.prefix is
    only the configured /usr/local, where nothing was installed."""
    facts = probe_facts(name)
    assert facts["build_dir"] == str(Path(str(facts["executable"])).parent)
    assert facts["prefix"] == facts["base_prefix"] == "/usr/local"
    assert "not installed" in built(name).describe()


def test_the_free_threaded_tree_is_out_of_tree() -> None:
    """Its build directory (pyconfig.h) is not its source tree (Include/): the case the headers split for."""
    gil, ft = probe_facts("cp313-build"), probe_facts("cp313t-build")
    assert Path(str(ft["build_dir"])).name == "build-ft"
    assert (ft["free_threaded"], ft["soabi"]) == (True, "cpython-313t-x86_64-linux-gnu")
    assert (gil["free_threaded"], gil["soabi"]) == (False, "cpython-313-x86_64-linux-gnu")
    # 3.13t's importer still looks for .abi3.so files, though its Python.h refuses the limited API.
    assert ft["ext_suffixes"] == [".cpython-313t-x86_64-linux-gnu.so", ".abi3.so", ".so"]


def test_build_trees_never_take_an_installed_interpreters_id() -> None:
    """pyenv's 3.13.0 keeps cp313 (its [[known_issue]]s and history stay its own); the trees are -build."""
    pyenv313 = replace(recorded("cp313"), id="")
    found = {i.path: i.id for i in assign_ids([built("cp313-build"), built("cp313t-build"), pyenv313])}
    assert found[pyenv313.path] == "cp313"
    assert found[str(probe_facts("cp313-build")["executable"])] == "cp313-build"
    assert found[str(probe_facts("cp313t-build")["executable"])] == "cp313t-build"


def test_two_build_trees_of_one_checkout_are_columns_of_their_own() -> None:
    """Same version, prefix and SOABI: only the build directory keeps them apart (else discovery would
    call them one installation). The second tree is the recorded one moved to build-pgo/."""
    first = built("cp313-build")
    moved = built(
        "cp313-build", build_dir=f"{first.build_dir}/build-pgo", executable=f"{first.build_dir}/build-pgo/python"
    )
    found = assign_ids([first, moved])
    assert sorted(i.id for i in found) == ["cp313-build", "cp313-build-2"]


def test_installed_interpreters_keep_their_recorded_form() -> None:
    """No build_dir key where there is none: records and reuse keys of installed interpreters do not change."""
    assert "build_dir" not in recorded("cp315").to_json()
    tree = replace(built("cp313-build"), id="cp313-build")
    assert Interpreter.from_json(tree.to_json()).build_dir == tree.build_dir


def test_the_reuse_key_covers_the_libpython_make_left_in_the_build_tree(tmp_path: Path) -> None:
    """An --enable-shared build's python is a stub; its libpython beside it is what a rebuild changes."""
    (tmp_path / "python").write_bytes(b"exe")
    (tmp_path / "libpython3.13.so.1.0").write_bytes(b"lib")
    interp = built("cp313-build", build_dir=str(tmp_path), executable=str(tmp_path / "python"))
    assert str(tmp_path / "libpython3.13.so.1.0") in interpreter_files(interp)


@pytest.fixture
def machine() -> list[Interpreter]:
    """The two build trees beside the recorded installed interpreters (a free-threaded 3.14 among them)."""
    installed = [recorded(i) for i in ("cp312", "cp313", "cp314", "cp314t", "cp315")]
    return [
        *installed,
        replace(built("cp313-build"), id="cp313-build"),
        replace(built("cp313t-build"), id="cp313t-build"),
    ]


def by_id(interps: list[Interpreter], interp_id: str) -> Interpreter:
    return next(i for i in interps if i.id == interp_id)


def test_a_gil_build_tree_is_held_against_its_installed_minor(machine: list[Interpreter]) -> None:
    new = by_id(machine, "cp313-build")
    baseline = default_baseline(new, machine)
    assert baseline.id == "cp313"  # a patch-level pair with the installed 3.13, not the free-threaded tree
    assert flavour_note(new, baseline, machine) == ""


def test_a_free_threaded_tree_without_a_free_threaded_baseline_says_so(machine: list[Interpreter]) -> None:
    """No free-threaded 3.13 or older: the GIL 3.13 is the baseline, and the note says what that limits
    (a newer free-threaded 3.14 is no baseline for 3.13)."""
    new = by_id(machine, "cp313t-build")
    baseline = default_baseline(new, machine)
    assert baseline.id == "cp313-build"  # the newest 3.13: 3.13.15 over pyenv's 3.13.0
    note = flavour_note(new, baseline, machine)
    assert "GIL build" in note
    assert "no other free-threaded CPython of 3.13 or older was found" in note
    assert "full-ABI layouts" in note


def test_a_free_threaded_baseline_is_preferred_when_there_is_one(machine: list[Interpreter]) -> None:
    ft313 = replace(built("cp313t-build"), id="cp313t", build_dir="", version=(3, 13, 5), provider=Provider("uv"))
    new = by_id(machine, "cp313t-build")
    assert default_baseline(new, [*machine, ft313]).id == "cp313t"
    # A GIL baseline chosen with --baseline is compared all the same, and the note names the one skipped.
    assert "other free-threaded builds found: cp313t" in flavour_note(new, recorded("cp313"), [*machine, ft313])


def test_a_flavour_need_not_list_another_flavours_version_specific_suffix() -> None:
    """The free-threaded tree lists .cpython-313t-*.so, not the GIL build's .cpython-313-*.so: no promise
    (PEP 3149 names each build's own SOABI); dropping its own would be one."""
    gil, ft = built("cp313-build"), built("cp313t-build")
    assert breaks.suffix_promise(".cpython-313-x86_64-linux-gnu.so", ft) == ""
    assert breaks.suffix_promise(".cpython-313t-x86_64-linux-gnu.so", ft) == "PEP 3149"
    assert breaks.suffix_promise(".cpython-313-x86_64-linux-gnu.so", gil) == "PEP 3149"
    assert breaks.suffix_promise(".cpython-313d-x86_64-linux-gnu.so", gil) == ""


def test_the_gate_report_says_the_baseline_is_of_another_flavour(machine: list[Interpreter]) -> None:
    new, baseline = by_id(machine, "cp313t-build"), by_id(machine, "cp313")
    note = flavour_note(new, baseline, machine)
    result = report.GateResult(new.id, new.describe(), baseline.id, baseline.describe(), (), (), (), "d", "", note)
    assert f"  NOTE {note}" in report.text(result).splitlines()
    assert "**baseline of another flavour**" in report.markdown(result)
    assert result.to_json()["baseline_note"] == note
    same = replace(result, baseline_note="")
    assert "baseline_note" not in same.to_json()
    assert "NOTE" not in report.text(same)


def test_matrix_toml_names_the_build_tree_issues_first() -> None:
    """The repository's [[known_issue]]s: a meson-python build on a build tree is gh-127724 (before the
    abi3-tagging entry that also covers cp31x ids), on an installed 3.13 it is nothing; cffi on the
    free-threaded tree expects the install step's error."""
    matrix = load_matrix(REPO / "matrix.toml", providers.names())
    issue = find_known_issue(matrix.known_issues, "meson-python/c-api", "abi3", "cp313-build", "cp313-build")
    assert issue is not None
    assert issue.link.endswith("/127724")
    assert find_known_issue(matrix.known_issues, "meson-python/c-api", "version-specific", "cp313", "cp313") is None
    cffi = find_known_issue(matrix.known_issues, "maturin/cffi", "abi-none", "cp38", "cp313t-build")
    assert cffi is not None
    assert cffi.status is Status.ERROR
    assert find_known_issue(matrix.known_issues, "maturin/cffi", "abi-none", "cp38", "cp314t") is None
