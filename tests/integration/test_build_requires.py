"""Dynamic build requirements (PEP 517 get_requires_for_build_wheel) are pinned, keyed and recorded.

scikit-build-core asks for PyPI's cmake and ninja only when the ones on PATH are too old, so the case's
recipe asks for versions newer than the host's: the real backend then answers cmake and ninja."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from harness.build.installers import toolchains
from harness.build.keys import BuildFailure
from harness.build.wheel import build
from harness.config.matrix import load_case, load_matrix
from harness.interpreters import providers
from harness.interpreters.discover import discover, select
from harness.model import Artifact, BuildSpec, Interpreter, Matrix, TargetKind, TargetRecipe
from tests.conftest import REPO

pytestmark = pytest.mark.integration


Setup = tuple[Matrix, Path, Interpreter]


@pytest.fixture
def pyenv_cp312(tmp_path: Path) -> Setup:
    """A matrix discovering pyenv only, a fresh cache, and pyenv's CPython 3.12 (skipped without it)."""
    matrix_toml = tmp_path / "matrix.toml"
    matrix_toml.write_text('[discovery]\nsources = ["pyenv"]\n[targets.version-specific]\n')
    matrix = load_matrix(matrix_toml, providers.names())
    cache = tmp_path / "cache"
    found = discover(matrix, cache)
    if "cp312" not in {i.id for i in found.interpreters}:
        pytest.skip(f"needs pyenv's CPython 3.12 (found {', '.join(i.id for i in found.interpreters) or 'none'})")
    (python,) = select(found, ["cp312"])
    return matrix, cache, python


def newer_than_host(program: str) -> str:
    """A version specifier the host's *program* does not meet (any version when it has none)."""
    path = shutil.which(program)
    if path is None:
        return ">=1"
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"\d+(\.\d+)+", out)
    assert match, out
    return f">{match.group(0)}"


def test_dynamic_requirements_are_pinned_recorded_and_keyed(pyenv_cp312: Setup) -> None:
    matrix, cache, python = pyenv_cp312
    case = load_case(
        REPO / "extensions" / "scikit-build-core" / "c-api" / "case.toml", REPO / "extensions", providers.names()
    )
    settings = (("cmake.version", newer_than_host("cmake")), ("ninja.version", newer_than_host("ninja")))
    case = replace(case, recipes=((TargetKind.VERSION_SPECIFIC, TargetRecipe(config_settings=settings)),))
    spec = BuildSpec(case, matrix.targets[0], python)
    (toolchain, *_) = toolchains((), cache)  # uv when available, as a run chooses

    first = build(spec, toolchain, cache, timeout=900)
    assert not isinstance(first, BuildFailure), first.build_log.read_text()[-2000:]
    tools = dict(first.tools)
    assert {"scikit-build-core", "cmake", "ninja"} <= set(tools), tools  # dynamic ones pinned beside static
    meta = json.loads((first.wheel.parent / "artifact.json").read_text())
    assert {r.split(">")[0] for r in meta["dynamic_requires"]} == {"cmake", "ninja"}
    assert f"cmake=={tools['cmake']}" in meta["key_facts"]["pins"]
    (answer,) = (cache / "build-requires").glob("*.json")  # the hook was asked once, and kept

    again = build(spec, toolchain, cache, timeout=900)
    assert isinstance(again, Artifact)
    assert again.cached
    assert again.cache_key == first.cache_key
    assert list((cache / "build-requires").glob("*.json")) == [answer]


def test_an_in_tree_backend_without_requirements_is_asked_too(pyenv_cp312: Setup) -> None:
    """sysconfig/c-api: `requires = []`, backend-path ["."]; the hook runs in an empty environment."""
    matrix, cache, python = pyenv_cp312
    case = load_case(REPO / "extensions" / "sysconfig" / "c-api" / "case.toml", REPO / "extensions", providers.names())
    (toolchain, *_) = toolchains((), cache)
    built = build(BuildSpec(case, matrix.targets[0], python), toolchain, cache, timeout=300)
    assert isinstance(built, Artifact), built.reason
    assert built.tools == ()
    assert json.loads((built.wheel.parent / "artifact.json").read_text())["dynamic_requires"] == []
