"""Does the wheel match its target? Tag, file suffix and compiled macro values (issue: consistency)."""

from __future__ import annotations

from dataclasses import replace

import msgspec
import pytest

from harness.cell.observe import Compiled
from harness.model import Interpreter, Status, Target, TargetKind, Verdict
from harness.verdict import artifact

VS = Target("version-specific", TargetKind.VERSION_SPECIFIC, None, ())
ABI3 = Target("abi3", TargetKind.ABI3, (3, 9), ())
ABI3T = Target("abi3t", TargetKind.ABI3T, (3, 15), ())
BOTH = Target("abi3.abi3t", TargetKind.ABI3_ABI3T, (3, 15), ())
PLAT = "linux_x86_64"
FACTS_39 = Compiled(Py_LIMITED_API=0x03090000, Py_TARGET_ABI3T=0)
FACTS_T = Compiled(Py_LIMITED_API=0x030F0000, Py_TARGET_ABI3T=0x030F0000)


def test_good_abi3(cp313: Interpreter) -> None:
    assert artifact.problems(ABI3, cp313, [f"cp39-abi3-{PLAT}"], ["m.abi3.so"], FACTS_39) == []


def test_abi3_tagged_for_the_build_interpreter(cp313: Interpreter) -> None:
    (problem,) = artifact.problems(ABI3, cp313, [f"cp313-abi3-{PLAT}"], ["m.abi3.so"], FACTS_39)
    assert problem == "wheel tag cp313-abi3 is not the target's cp39-abi3"


def test_multiarch_abi3_suffix_only_for_315_baselines(cp315: Interpreter) -> None:
    (problem,) = artifact.problems(ABI3, cp315, [f"cp39-abi3-{PLAT}"], ["m.abi3-x86_64-linux-gnu.so"], None)
    assert "suffix .abi3-x86_64-linux-gnu.so does not fit abi3" in problem
    abi3_315 = replace(ABI3, min_python=(3, 15))
    facts = Compiled(Py_LIMITED_API=0x030F0000, Py_TARGET_ABI3T=0)
    assert artifact.problems(abi3_315, cp315, [f"cp315-abi3-{PLAT}"], ["m.abi3-x86_64-linux-gnu.so"], facts) == []


def test_version_specific_with_limited_api_compiled_in(cp38: Interpreter) -> None:
    facts = Compiled(Py_LIMITED_API=1, Py_TARGET_ABI3T=0)
    (problem,) = artifact.problems(VS, cp38, [f"cp38-cp38-{PLAT}"], ["p/_n.cpython-38-x86_64-linux-gnu.so"], facts)
    assert problem == "compiled Py_LIMITED_API=1 Py_TARGET_ABI3T=0, target wants Py_LIMITED_API 0 and Py_TARGET_ABI3T 0"


def test_version_specific_debug_and_free_threaded_abi(cp315: Interpreter, cp315t: Interpreter) -> None:
    debug = replace(cp315, debug=True, ext_suffixes=(".cpython-315d-x86_64-linux-gnu.so", ".so"))
    ok = artifact.problems(VS, debug, [f"cp315-cp315d-{PLAT}"], ["m.cpython-315d-x86_64-linux-gnu.so"], None)
    assert ok == []
    assert artifact.problems(VS, cp315t, [f"cp315-cp315-{PLAT}"], ["m.cpython-315t-x86_64-linux-gnu.so"], None)


def test_abi3_wheel_with_a_version_specific_file(cp313: Interpreter) -> None:
    """nanobind once dropped STABLE_ABI silently and shipped a version-specific .so in an abi3 wheel."""
    problems = artifact.problems(ABI3, cp313, [f"cp39-abi3-{PLAT}"], ["m.cpython-313-x86_64-linux-gnu.so"], None)
    assert problems == [
        "m.cpython-313-x86_64-linux-gnu.so: suffix .cpython-313-x86_64-linux-gnu.so does not fit "
        "abi3 (expected .abi3.so: interpreters before 3.15 know no other abi3 suffix)"
    ]


@pytest.mark.parametrize(
    ("target", "tags"),
    [(ABI3T, [f"cp315-abi3t-{PLAT}"]), (BOTH, [f"cp315-abi3-{PLAT}", f"cp315-abi3t-{PLAT}"])],
)
def test_abi3t_kinds(cp315: Interpreter, target: Target, tags: list[str]) -> None:
    assert artifact.problems(target, cp315, tags, ["m.abi3t.so"], FACTS_T) == []
    # the headers keep the lower Py_LIMITED_API when both are defined (pyabi.h): still abi3t
    lower = Compiled(Py_LIMITED_API=0x03090000, Py_TARGET_ABI3T=0x030F0000)
    assert artifact.problems(target, cp315, tags, ["m.abi3t.so"], lower) == []
    problems = artifact.problems(
        target, cp315, tags, ["m.abi3.so"], msgspec.structs.replace(FACTS_T, Py_TARGET_ABI3T=0)
    )
    assert len(problems) == 2  # wrong suffix and no Py_TARGET_ABI3T


def test_abi3t_only_tag_for_compressed_target(cp315: Interpreter) -> None:
    (problem,) = artifact.problems(BOTH, cp315, [f"cp315-abi3t-{PLAT}"], ["m.abi3t.so"], FACTS_T)
    assert problem == "wheel tag cp315-abi3t is not the target's cp315-abi3.abi3t"


def test_problems_fail_a_passing_cell_and_annotate_others() -> None:
    passed = artifact.with_problems(Verdict(Status.PASS, "imported", "call"), ["bad tag"])
    assert passed.status is Status.FAIL
    assert passed.stage == "artifact"
    assert passed.reason.startswith("wheel does not match its target: bad tag")
    crashed = artifact.with_problems(Verdict(Status.CRASH, "SIGSEGV", "import"), ["bad tag"])
    assert crashed.status is Status.CRASH
    assert "bad tag" in crashed.reason
    assert artifact.with_problems(Verdict(Status.PASS, "ok", "call"), []).status is Status.PASS
