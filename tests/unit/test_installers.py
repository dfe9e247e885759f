"""Telling an installer's tag refusal from other failures, on messages recorded from uv 0.13.9 and pip."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cell.installers import PipToolchain, UvToolchain
from harness.infra.proc import Outcome

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
