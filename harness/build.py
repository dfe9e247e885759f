"""One wheel per (case, target, build interpreter), cached by a content hash of everything that shapes it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from . import atomic, proc
from .installers import Toolchain
from .model import Artifact, BuildSpec, Status
from .paths import safe_name

# Bump when the way wheels are built changes, so old cache entries are not reused.
BUILD_SCHEMA = 1
_IGNORED = {"__pycache__", "build", "dist", ".mesonpy-build", "target"}


@dataclass(frozen=True)
class BuildFailure:
    spec_id: str
    reason: str
    build_log: Path
    tools: tuple[tuple[str, str], ...] = ()
    # FAIL: the backend could not build the case; ERROR: the harness or index got in the way.
    status: Status = Status.FAIL


def source_files(case_dir: Path) -> list[Path]:
    """The case's files that go into a build (and into its hash), sorted."""
    files = []
    for path in sorted(case_dir.rglob("*")):
        rel = path.relative_to(case_dir)
        if path.is_file() and not any(p in _IGNORED or p.endswith(".egg-info") for p in rel.parts):
            files.append(path)
    return files


def render(template: str, values: dict[str, str]) -> str:
    """case.toml strings may use {py_api}, {limited_api_hex}, {min_python}, {module}."""
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def build_requires(case_dir: Path) -> list[str]:
    data = tomllib.loads((case_dir / "pyproject.toml").read_text())
    requires = data.get("build-system", {}).get("requires", ["setuptools"])
    return [str(r) for r in requires]


def requires_python(wheel: Path) -> str:
    """The wheel's Requires-Python (core metadata), or "" when it declares none."""
    with zipfile.ZipFile(wheel) as zf:
        name = next((n for n in zf.namelist() if n.endswith(".dist-info/METADATA")), None)
        if name is None:
            return ""
        for line in zf.read(name).decode("utf-8", "replace").splitlines():
            if not line.strip():
                break  # headers end at the first blank line
            if line.lower().startswith("requires-python:"):
                return line.split(":", 1)[1].strip()
    return ""


def wheel_tags(wheel: Path) -> tuple[str, ...]:
    """The expanded tag set of a wheel file name (abi3.abi3t -> two tags)."""
    _, _, _, tags = parse_wheel_filename(wheel.name)
    return tuple(sorted(str(t) for t in tags))


def extension_files(wheel: Path) -> tuple[str, ...]:
    with zipfile.ZipFile(wheel) as zf:
        return tuple(sorted(n for n in zf.namelist() if n.endswith((".so", ".pyd", ".dylib"))))


def cache_key(spec: BuildSpec, pins: list[str], frontend: str) -> str:
    digest = hashlib.sha256()
    for path in source_files(spec.case.path):
        digest.update(str(path.relative_to(spec.case.path)).encode() + b"\0" + path.read_bytes() + b"\0")
    recipe = spec.case.recipe(spec.target.kind)
    exe = os.path.realpath(spec.python.host_path)
    st = os.stat(exe)
    facts = {
        "schema": BUILD_SCHEMA,
        "target": [spec.target.name, spec.target.kind.value, spec.target.py_api],
        "recipe": [recipe.config_settings, recipe.env] if recipe else None,
        "values": spec.template_values(),
        # The executable's identity too: a core developer rebuilds the same path and version.
        "python": [exe, st.st_mtime_ns, st.st_size, spec.python.version_str, spec.python.soabi],
        "pins": pins,
        "frontend": frontend,
    }
    digest.update(json.dumps(facts, sort_keys=True, default=list).encode())
    return digest.hexdigest()[:20]


def build(
    spec: BuildSpec, toolchain: Toolchain, cache: Path, timeout: float, rebuild: bool = False
) -> Artifact | BuildFailure:
    """Return the cached wheel for *spec*, or build it. Never raises for a failing build."""
    start = time.monotonic()
    logs = cache / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    recipe = spec.case.recipe(spec.target.kind)
    assert recipe is not None, "planner only builds supported targets"
    values = spec.template_values()

    requires = build_requires(spec.case.path)
    pins, resolved = toolchain.resolve(requires, spec.python)
    if pins is None:
        log_path = logs / f"resolve-{safe_name(spec.id)}-{int(time.time())}.log"
        atomic.write_text(log_path, resolved.transcript())  # shared cache: whole or not at all
        return BuildFailure(
            spec.id,
            f"could not resolve build requirements {requires}: {proc.last_line(resolved.stderr, prefer_errors=True)}",
            log_path,
            status=Status.ERROR,
        )
    tools = tuple((name, version) for name, _, version in (p.partition("==") for p in pins))
    frontend = toolchain.version()
    key = cache_key(spec, pins, frontend)
    entry = cache / "wheels" / key
    if rebuild and entry.exists():
        shutil.rmtree(entry)
    done = entry / "artifact.json"
    if done.is_file():
        meta = json.loads(done.read_text())
        wheel = entry / meta["wheel"]
        return Artifact(
            spec.id,
            wheel,
            wheel_tags(wheel),
            entry / "build.log",
            tools,
            frontend,
            True,
            time.monotonic() - start,
            key,
            extension_files(wheel),
            requires_python(wheel),
        )

    (cache / "work").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=cache / "work"))
    try:
        # Never build in place: backends write build/ and egg-info next to the sources.
        src = work / "src"
        shutil.copytree(spec.case.path, src, ignore=shutil.ignore_patterns(*_IGNORED, "*.egg-info"))
        constraints = work / "build-constraints.txt"
        constraints.write_text("\n".join(pins) + "\n")
        settings = [(render(k, values), render(v, values)) for k, v in recipe.config_settings]
        env = {k: render(v, values) for k, v in recipe.env}
        out = toolchain.build_wheel(spec.python, src, work / "out", settings, env, constraints, timeout)
        header = (
            f"# build {spec.id}\n# python: {spec.python.describe()}\n# frontend: {frontend}\n"
            f"# build requirements: {' '.join(pins)}\n# config settings: {settings}\n# env: {env}\n"
        )
        log_text = header + out.transcript()
        wheels = sorted((work / "out").glob("*.whl")) if (work / "out").is_dir() else []
        if not out.ok or len(wheels) != 1:
            log_path = logs / f"build-{safe_name(spec.id)}-{key}.log"
            atomic.write_text(log_path, log_text)
            if out.timed_out:
                why = f"build timed out after {timeout:.0f}s"
            elif out.ok:
                why = f"build produced {len(wheels)} wheels, expected one"
            else:
                last = proc.last_line(out.stderr or out.stdout, prefer_errors=True)
                why = f"build failed (exit {out.returncode}): {last}"
            return BuildFailure(spec.id, why, log_path, tools)
        try:
            tags = wheel_tags(wheels[0])
        except InvalidWheelFilename as exc:
            log_path = logs / f"build-{safe_name(spec.id)}-{key}.log"
            atomic.write_text(log_path, log_text)
            return BuildFailure(spec.id, f"invalid wheel file name: {exc}", log_path, tools)
        staging = work / "entry"
        staging.mkdir()
        shutil.move(str(wheels[0]), staging / wheels[0].name)
        (staging / "build.log").write_text(log_text)
        (staging / "artifact.json").write_text(
            json.dumps(
                {
                    "wheel": wheels[0].name,
                    "spec": spec.id,
                    "tools": pins,
                    "frontend": frontend,
                    "duration_s": round(out.duration_s, 3),
                },
                indent=1,
            )
        )
        atomic.publish_dir(staging, entry)  # a concurrent run may have published it first; theirs is as good
        wheel = entry / wheels[0].name
        return Artifact(
            spec.id,
            wheel,
            tags,
            entry / "build.log",
            tools,
            frontend,
            False,
            time.monotonic() - start,
            key,
            extension_files(wheel),
            requires_python(wheel),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
