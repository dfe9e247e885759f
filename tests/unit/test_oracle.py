"""One test per tag rule; each asserts the rule's decision and that it names its source."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.model import Interpreter, KnownIssue, Status, Verdict
from harness.verdict import judge, oracle

LINUX = "linux_x86_64"


def expect(tags: list[str], interp: Interpreter) -> tuple[bool, str]:
    e = oracle.expect(tags, interp)
    return e.accept, e.rule


def test_abi3_on_same_and_later_gil(cp39: Interpreter, cp313: Interpreter, cp315: Interpreter) -> None:
    for interp in (cp39, cp313, cp315):
        ok, rule = expect([f"cp39-abi3-{LINUX}"], interp)
        assert ok, rule
        assert "PEP 384" in rule


def test_abi3_refused_on_older(cp38: Interpreter, cp39: Interpreter) -> None:
    assert expect([f"cp39-abi3-{LINUX}"], cp38) == (False, "cp39-abi3: stable ABI 3.9 is newer than 3.8 (PEP 384)")
    ok, _ = expect([f"cp312-abi3-{LINUX}"], cp39)
    assert not ok


def test_abi3_refused_on_free_threaded(cp315t: Interpreter) -> None:
    ok, rule = expect([f"cp39-abi3-{LINUX}"], cp315t)
    assert not ok
    assert "free-threaded" in rule
    assert "PEP 803" in rule


def test_abi3t_only_on_free_threaded(cp315: Interpreter, cp315t: Interpreter) -> None:
    ok, rule = expect([f"cp315-abi3t-{LINUX}"], cp315)
    assert not ok
    assert "GIL" in rule
    assert expect([f"cp315-abi3t-{LINUX}"], cp315t)[0]


def test_abi3t_newer_than_interpreter(cp315t: Interpreter) -> None:
    older = replace(cp315t, version=(3, 14, 0))
    ok, rule = expect([f"cp315-abi3t-{LINUX}"], older)
    assert not ok
    assert "newer than 3.14" in rule


def test_compressed_abi3_abi3t_on_both(cp315: Interpreter, cp315t: Interpreter, cp313: Interpreter) -> None:
    tags = [f"cp315-abi3-{LINUX}", f"cp315-abi3t-{LINUX}"]
    assert expect(tags, cp315)[0]
    assert expect(tags, cp315t)[0]
    assert not expect(tags, cp313)[0]


def test_version_specific_exact(cp312: Interpreter, cp313: Interpreter) -> None:
    ok, rule = expect([f"cp312-cp312-{LINUX}"], cp312)
    assert ok
    assert "PEP 3149" in rule
    ok, rule = expect([f"cp312-cp312-{LINUX}"], cp313)
    assert not ok
    assert "3.12 only" in rule


def test_version_specific_gil_vs_free_threaded(cp315: Interpreter, cp315t: Interpreter) -> None:
    assert not expect([f"cp315-cp315-{LINUX}"], cp315t)[0]
    assert not expect([f"cp315-cp315t-{LINUX}"], cp315)[0]
    assert expect([f"cp315-cp315t-{LINUX}"], cp315t)[0]


def test_debug_interpreter_loads_release_abi(cp313: Interpreter) -> None:
    debug = replace(cp313, debug=True)
    ok, rule = expect([f"cp313-cp313-{LINUX}"], debug)
    assert ok
    assert "debug" in rule
    assert not expect([f"cp313-cp313d-{LINUX}"], cp313)[0]


def test_pypy_refuses_cpython_tags(cp313: Interpreter) -> None:
    pypy = replace(cp313, implementation="pypy")
    ok, rule = expect([f"cp39-abi3-{LINUX}"], pypy)
    assert not ok
    assert "pypy" in rule
    assert expect(["py3-none-any"], pypy)[0]


@pytest.mark.parametrize(
    ("platform", "accepted"),
    [
        ("linux_x86_64", True),
        ("manylinux_2_17_x86_64", True),
        ("manylinux2014_x86_64", True),
        ("manylinux_2_36_x86_64", True),  # the recorded glibc is 2.36
        ("manylinux_2_39_x86_64", False),
        ("manylinux_2_17_aarch64", False),
        ("linux_aarch64", False),
        ("win_amd64", False),
    ],
)
def test_platform_rules(cp313: Interpreter, platform: str, accepted: bool) -> None:
    ok, rule = expect([f"cp313-cp313-{platform}"], cp313)
    assert ok is accepted, rule


def test_newer_glibc_names_both_versions(cp313: Interpreter) -> None:
    _, rule = expect(["cp313-cp313-manylinux_2_39_x86_64"], cp313)
    assert rule == "platform manylinux_2_39_x86_64 needs glibc 2.39, interpreter has 2.36 (PEP 600)"


@pytest.mark.parametrize(
    "tags",
    [[f"cp39-abi3-{LINUX}"], [f"cp312-cp312-{LINUX}"], [f"cp313-cp313-{LINUX}"], [f"cp38-cp38-{LINUX}"]],
)
def test_rules_agree_with_recorded_packaging_tags(
    tags: list[str], cp38: Interpreter, cp39: Interpreter, cp312: Interpreter, cp313: Interpreter
) -> None:
    for interp in (cp38, cp39, cp312, cp313):
        assert oracle.packaging_accepts(tags, interp) == oracle.expect(tags, interp).accept, interp.id


@pytest.mark.parametrize(
    "tags",
    [
        [f"cp39-abi3-{LINUX}"],
        [f"cp315-abi3t-{LINUX}"],
        [f"cp315-abi3-{LINUX}", f"cp315-abi3t-{LINUX}"],
        [f"cp315-cp315t-{LINUX}"],
        [f"cp314-abi3t-{LINUX}"],
    ],
)
def test_rules_agree_with_packaging_on_315(tags: list[str], cp315: Interpreter, cp315t: Interpreter) -> None:
    for interp in (cp315, cp315t):
        assert oracle.packaging_accepts(tags, interp) == oracle.expect(tags, interp).accept, interp.id


def test_packaging_view_unknown_without_tags(cp313: Interpreter) -> None:
    assert oracle.packaging_accepts([f"cp313-cp313-{LINUX}"], replace(cp313, supported_tags=())) is None


ISSUE = KnownIssue(
    index=0,
    case=("*",),
    target=("*",),
    build_python=("*",),
    run_python=("*",),
    status=Status.FAIL,
    link="https://github.com/o/r/issues/1",
    note="broken",
)


@pytest.mark.parametrize(
    ("status", "known", "result"),
    [
        (Status.FAIL, None, Status.FAIL),
        (Status.PASS, None, Status.PASS),
        (Status.FAIL, ISSUE, Status.XFAIL),
        (Status.PASS, ISSUE, Status.XPASS),
        (Status.CRASH, ISSUE, Status.CRASH),  # a different failure than the entry says stays visible
        (Status.ERROR, ISSUE, Status.ERROR),  # infrastructure errors are never excused
    ],
)
def test_known_issue_application(status: Status, known: KnownIssue | None, result: Status) -> None:
    verdict = judge.apply_known_issue(Verdict(status, "r", "call"), known)
    assert verdict.status is result
    if known is not None and result is not Status.ERROR:
        assert known.link in verdict.reason


def test_find_known_issue_first_match() -> None:
    other = replace(ISSUE, index=1, case=("meson-python/*",), link="https://x/2")
    assert judge.find_known_issue([other, ISSUE], "meson-python/c-api", "abi3", "cp39", "cp313") is other
    assert judge.find_known_issue([other], "setuptools/c-api", "abi3", "cp39", "cp313") is None


def test_requires_python_refuses_what_the_tags_accept(cp38: Interpreter, cp39: Interpreter) -> None:
    tags = ["py3-none-any"]
    refused = oracle.expect(tags, cp38, requires_python=">=3.9")
    assert not refused.accept
    assert refused.rule == "Requires-Python >=3.9 excludes 3.8.18 (core metadata, PEP 345)"
    assert oracle.expect(tags, cp39, requires_python=">=3.9").accept
