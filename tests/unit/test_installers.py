"""Telling an installer's tag refusal from other failures, on messages recorded from uv 0.13.9 and pip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.build.installers import PipToolchain, UvToolchain, pip_report
from harness.errors import HarnessError
from harness.infra.proc import Outcome
from harness.model import Interpreter
from tests.conftest import FIXTURES

UV_RESOLVER_WRAPPED = """error: No solution found when resolving dependencies
  cause: Because only abitest-setuptools-c-api==1.0.0 is available and
         abitest-setuptools-c-api==1.0.0 has no wheels with a matching Python
         version tag (e.g., `cp311`), we can conclude that all versions of
         abitest-setuptools-c-api cannot be used.
"""
UV_PATH = """error: Failed to determine installation plan
  cause: A path (out/x-1.0-cp312-cp312-linux_x86_64.whl) dependency is incompatible with the current platform

hint: The wheel is compatible with CPython 3.12 (`cp312`), but you're using CPython 3.11 (`cp311`)"""
PIP = "ERROR: x-1.0-cp39-abi3-linux_x86_64.whl is not a supported wheel on this platform."
UV_REQUIRES_PYTHON = """error: No solution found when resolving dependencies
  cause: Because the current Python version (3.8.18) does not satisfy Python>=3.9 and x==1.0.0 depends on
         Python>=3.9, we can conclude that x==1.0.0 cannot be used.
"""
# cryptography 50.0.2 (Requires-Python >=3.9,!=3.9.0,!=3.9.1) on 3.8, recorded by `check`:
UV_REQUIRES_PYTHON_EXCLUSIONS = """error: No solution found when resolving dependencies
  cause: Because the current Python version (3.8.18) does not satisfy all of:
             Python>3.9.0,<3.9.1
             Python>3.9.1
         and cryptography==50.0.2 depends on one of:
             Python>3.9.0,<3.9.1
             Python>3.9.1
         we can conclude that cryptography==50.0.2 cannot be used.
"""
PIP_REQUIRES_PYTHON = "ERROR: Package 'x' requires a different Python: 3.8.18 not in '>=3.9'"
OTHER = "error: Failed to read `x.whl`\n  cause: No such file or directory (os error 2)"


UV_TOOLCHAIN = UvToolchain(Path("/cache"), "/usr/bin/uv")
PIP_TOOLCHAIN = PipToolchain(Path("/cache"), None)


def failed(stderr: str) -> Outcome:
    return Outcome(("installer",), 1, "", stderr, 0.1)


@pytest.mark.parametrize(
    ("toolchain", "stderr", "words"),
    [
        (UV_TOOLCHAIN, UV_RESOLVER_WRAPPED, "has no wheels with a matching Python version tag (e.g., `cp311`)"),
        (UV_TOOLCHAIN, UV_PATH, "dependency is incompatible with the current platform"),
        (PIP_TOOLCHAIN, PIP, "is not a supported wheel on this platform"),
        (UV_TOOLCHAIN, UV_REQUIRES_PYTHON, "does not satisfy Python>=3.9"),
        (UV_TOOLCHAIN, UV_REQUIRES_PYTHON_EXCLUSIONS, "does not satisfy all of: Python>3.9.0,<3.9.1"),
        (PIP_TOOLCHAIN, PIP_REQUIRES_PYTHON, "requires a different Python: 3.8.18 not in '>=3.9'"),
    ],
)
def test_refusals(toolchain: UvToolchain | PipToolchain, stderr: str, words: str) -> None:
    assert toolchain.refused(failed(stderr))
    assert words in toolchain.message(failed(stderr))


def test_each_installer_knows_only_its_own_refusals() -> None:
    assert not PIP_TOOLCHAIN.refused(failed(UV_PATH))
    assert not UV_TOOLCHAIN.refused(failed(PIP))


@pytest.mark.parametrize("toolchain", [UV_TOOLCHAIN, PIP_TOOLCHAIN])
def test_other_failure_is_not_a_refusal(toolchain: UvToolchain | PipToolchain) -> None:
    assert not toolchain.refused(failed(OTHER))
    assert toolchain.message(failed(OTHER)) == "error: Failed to read `x.whl`"


def test_success_is_not_a_refusal() -> None:
    assert not PIP_TOOLCHAIN.refused(Outcome(("installer",), 0, PIP, "", 0.1))


# -- pip's --report, read through PipReport (recorded: `pip install --dry-run --ignore-installed --quiet
# --report - scikit-build-core cython-cmake` on pyenv 3.12.1, pip 23.2.1; and the preference fixtures) --

PIP_REPORTS = FIXTURES / "pip_reports"


def _pip_out(stdout: str) -> Outcome:
    return Outcome(("pip", "install", "--report", "-"), 0, stdout, "", 0.1)


def test_a_recorded_pip_report_gives_the_resolved_pins() -> None:
    text = (PIP_REPORTS / "resolve-skbuild-cp312.json").read_text()
    report = pip_report(_pip_out(text))
    expected = [(i["metadata"]["name"], i["metadata"]["version"]) for i in json.loads(text)["install"]]
    assert [(i.metadata.name, i.metadata.version) for i in report.install] == expected
    assert ("scikit_build_core", "1.1.2") in expected


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda d: {**d, "version": "2"}, 'version: expected one of 1, got "2"'),
        (lambda d: {**d, "install": {}}, "install: expected array, got object"),
        (lambda d: {k: v for k, v in d.items() if k != "install"}, "missing required field install"),
        (lambda d: {**d, "install": [{**d["install"][0], "metadata": {"name": "x"}}]}, "install[0].metadata"),
        (lambda d: {**d, "install": [{**d["install"][0], "download_info": {"url": 5}}]}, "download_info.url"),
        (lambda d: [d], "expected object, got array"),
    ],
)
def test_a_pip_report_that_does_not_fit_is_said(damage: Any, named: str) -> None:
    recorded = json.loads((PIP_REPORTS / "resolve-skbuild-cp312.json").read_text())
    with pytest.raises(HarnessError, match=r"pip's --report: ") as caught:
        pip_report(_pip_out(json.dumps(damage(recorded))))
    assert named in str(caught.value)
    with pytest.raises(HarnessError, match="not valid JSON"):
        pip_report(_pip_out("Collecting scikit-build-core\n"))


def test_pip_pins_no_build_requirements_without_asking_pip() -> None:
    """pip refuses an empty install ("You must give at least one requirement to install"): a case without
    build requirements (sysconfig/c-api) has nothing to pin, and pip is not started (the recorded cp312)."""
    interp = Interpreter.from_json(json.loads((FIXTURES / "interpreters" / "cp312.json").read_text()))
    pins, out = PipToolchain(Path("/nonexistent-cache"), None).resolve([], interp)
    assert pins == []
    assert out.ok
