"""What a build is made from and the name it is cached under: the case's [build-system], its recipe
rendered for one target, the digests of sources and interpreter, the cache key; and how a build fails.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import msgspec

from harness.config.casefiles import render, source_files
from harness.model import BuildSpec, Interpreter, Status
from harness.schema.decode import read_toml

# Bump when the way wheels are built changes, so old cache entries are not reused.
BUILD_SCHEMA = 2  # 2: dynamic build requirements pinned and keyed


@dataclass(frozen=True)
class BuildFailure:
    spec_id: str
    reason: str
    build_log: Path
    tools: tuple[tuple[str, str], ...] = ()
    # FAIL: the backend could not build the case; ERROR: the harness or index got in the way.
    status: Status = Status.FAIL
    cached: bool = False  # the same build failed the same way in an earlier run (build.wheel.FailedBuild)


class BuildSystem(msgspec.Struct, frozen=True, kw_only=True, rename="kebab"):
    """A case's pyproject.toml [build-system], PEP 517/518's defaults where a key is absent (whether a
    case may leave it out, and its backend, is checked when the cases are loaded: config.matrix)."""

    requires: tuple[str, ...] = ("setuptools",)
    build_backend: str = "setuptools.build_meta:__legacy__"
    backend_path: tuple[str, ...] = ()


class _PyProject(msgspec.Struct, frozen=True, kw_only=True, rename="kebab"):
    """The one table of a pyproject.toml the build reads ([project], [tool] are other readers')."""

    build_system: BuildSystem = BuildSystem()


def build_system(case_dir: Path) -> BuildSystem:
    """The case's [build-system] (ConfigError naming the file and key when it does not fit)."""
    return read_toml(case_dir / "pyproject.toml", _PyProject).build_system


def build_requires(case_dir: Path) -> list[str]:
    return list(build_system(case_dir).requires)


def sources_digest(case_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in source_files(case_dir):
        digest.update(str(path.relative_to(case_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def python_identity(interp: Interpreter) -> list[object]:
    """The executable's identity, not only its version: a core developer rebuilds the same path."""
    exe = os.path.realpath(interp.host_path)
    st = os.stat(exe)
    return [exe, st.st_mtime_ns, st.st_size, interp.version_str, interp.soabi]


def digest_of(facts: dict[str, object]) -> str:
    """The cache key of recorded *facts* (a pure function: the unit tests feed it recorded inputs)."""
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=list).encode()).hexdigest()[:20]


def key_facts(spec: BuildSpec, pins: list[str], frontend: str) -> dict[str, object]:
    """Everything that shapes the wheel. *pins* are the static and the dynamic build requirements."""
    recipe = spec.case.recipe(spec.target.kind)
    return {
        "schema": BUILD_SCHEMA,
        "sources": sources_digest(spec.case.path),
        "target": [spec.target.name, spec.target.kind.value, spec.target.py_api],
        "recipe": [recipe.config_settings, recipe.env] if recipe else None,
        "values": spec.template_values(),
        "python": python_identity(spec.python),
        "pins": pins,
        "frontend": frontend,
    }


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """A case's recipe for one target, its placeholders filled in."""

    settings: list[tuple[str, str]]
    env: dict[str, str]


def rendered_recipe(spec: BuildSpec) -> Recipe:
    recipe = spec.case.recipe(spec.target.kind)
    assert recipe is not None, "planner only builds supported targets"
    values = spec.template_values()
    return Recipe(
        settings=[(render(k, values), render(v, values)) for k, v in recipe.config_settings],
        env={k: render(v, values) for k, v in recipe.env},
    )
