"""One wheel per (case, target, build interpreter), compiled from a copy of the case and published whole
into the cache entry named by its key (build.keys) once its build requirements are pinned (build.requires).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import msgspec
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from harness.build.installers import Toolchain
from harness.build.keys import BuildFailure, Recipe, digest_of, key_facts, rendered_recipe
from harness.build.metadata import requires_python
from harness.build.requires import PINS_MAX_AGE_S, Pins, pin_requirements
from harness.config.casefiles import IGNORED
from harness.errors import HarnessError
from harness.infra import atomic, proc
from harness.infra.paths import UnsafePath, remove_tree, safe_name, under
from harness.model import Artifact, BuildSpec
from harness.schema.decode import decode_json


def wheel_tags(wheel: Path) -> tuple[str, ...]:
    """The expanded tag set of a wheel file name (abi3.abi3t -> two tags)."""
    _, _, _, tags = parse_wheel_filename(wheel.name)
    return tuple(sorted(str(t) for t in tags))


def extension_files(wheel: Path) -> tuple[str, ...]:
    with zipfile.ZipFile(wheel) as zf:
        return tuple(sorted(n for n in zf.namelist() if n.endswith((".so", ".pyd", ".dylib"))))


def build(
    spec: BuildSpec, toolchain: Toolchain, cache: Path, timeout: float, rebuild: bool = False
) -> Artifact | BuildFailure:
    """Return the cached wheel for *spec*, or build it. Never raises for a failing build."""
    start = time.monotonic()
    (cache / "logs").mkdir(parents=True, exist_ok=True)
    recipe = rendered_recipe(spec)
    pinned = pin_requirements(spec, toolchain, recipe, cache, timeout, fresh=rebuild)
    if isinstance(pinned, BuildFailure):
        return pinned
    frontend = toolchain.version()
    facts = key_facts(spec, pinned.pins, frontend)
    key = digest_of(facts)
    entry = cache / "wheels" / key
    present = entry.exists()  # before reading it: an entry a concurrent run publishes now is left alone
    wheel = None if rebuild else _cached_wheel(entry)
    if wheel is None and not rebuild:
        failed = remembered_failure(cache, spec.id, key, time.time())
        if failed is not None:
            return failed
    compiled = wheel is None
    if wheel is None:
        if present:  # --rebuild, or an entry that is not a whole one (entries are published whole)
            remove_tree(cache / "wheels", entry)
        failure = compile_wheel(spec, toolchain, recipe, pinned, facts, entry, cache, timeout)
        if failure is not None:
            return failure
        wheel = _cached_wheel(entry)
        if wheel is None:
            return BuildFailure(spec.id, f"{entry}: the published cache entry is unreadable", entry / "build.log")
    return Artifact(
        spec_id=spec.id,
        wheel=wheel,
        tags=wheel_tags(wheel),
        build_log=entry / "build.log",
        tools=pinned.tools,
        frontend=frontend,
        cached=not compiled,
        duration_s=time.monotonic() - start,
        cache_key=key,
        ext_files=extension_files(wheel),
        requires_python=requires_python(wheel),
    )


def _failed(out: proc.Outcome, wheels: list[Path], timeout: float) -> str:
    """Why a build produced no usable wheel ("" when it did)."""
    if out.timed_out:
        return f"build timed out after {timeout:.0f}s"
    if not out.ok:
        return f"build failed (exit {out.returncode}): {proc.last_line(out.stderr or out.stdout, prefer_errors=True)}"
    if len(wheels) != 1:
        return f"build produced {len(wheels)} wheels, expected one"
    try:
        wheel_tags(wheels[0])
    except InvalidWheelFilename as exc:
        return f"invalid wheel file name: {exc}"
    return ""


class ArtifactMeta(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """cache/wheels/<key>/artifact.json, written last into an entry: what was built, from what, by what."""

    wheel: str  # the wheel's file name inside the entry
    spec: str
    tools: tuple[str, ...]  # the pinned build requirements
    dynamic_requires: tuple[str, ...]
    key_facts: dict[str, Any]  # what the key is the digest of (kept for a reader, not read back)
    frontend: str
    duration_s: float


class FailedBuild(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """cache/build-failures/<key>.json: a build whose backend refused (exit status, not a timeout), kept
    so a warm run does not compile it again only to fail the same way (the failing abi3t builds of
    maturin, meson-python and Cython were most of a warm run's wall time). Reused like pins, for
    PINS_MAX_AGE_S, so a failure caused by the moment heals by itself; `--rebuild` tries at once."""

    at: float  # time.time() of the failure
    spec: str
    reason: str
    tools: tuple[tuple[str, str], ...]
    log: str  # the build's transcript, written again as its log when the log is gone


def _failure_file(cache: Path, key: str) -> Path:
    return cache / "build-failures" / f"{key}.json"


def _failure_log(cache: Path, spec_id: str, key: str) -> Path:
    """Where a failed build's transcript is kept (and written again when a remembered failure is used)."""
    return cache / "logs" / f"build-{safe_name(spec_id)}-{key}.log"


def remember_failure(cache: Path, key: str, failure: BuildFailure, log_text: str) -> None:
    entry = FailedBuild(at=time.time(), spec=failure.spec_id, reason=failure.reason, tools=failure.tools, log=log_text)
    atomic.write_bytes(_failure_file(cache, key), msgspec.json.encode(entry))


def remembered_failure(cache: Path, spec_id: str, key: str, now: float) -> BuildFailure | None:
    """The failure of *spec_id* recorded under *key* within PINS_MAX_AGE_S, as the build saw it; None
    otherwise (an entry that does not fit, or names another build, is a miss: the build runs)."""
    path = _failure_file(cache, key)
    try:
        entry = decode_json(path.read_bytes(), FailedBuild, source=path)
    except (OSError, HarnessError):
        return None
    if entry.spec != spec_id or not 0 <= now - entry.at <= PINS_MAX_AGE_S:
        return None
    log_path = _failure_log(cache, spec_id, key)
    if not log_path.is_file():
        atomic.write_text(log_path, entry.log)
    return BuildFailure(spec_id, entry.reason, log_path, entry.tools, cached=True)


def _cached_wheel(entry: Path) -> Path | None:
    """The wheel of a whole cache entry; None when absent, or its artifact.json is not one or names no
    wheel file inside the entry (a shared cache's entry names a file inside itself, or is built again)."""
    try:
        meta = decode_json((entry / "artifact.json").read_bytes(), ArtifactMeta, source=entry / "artifact.json")
        wheel = under(entry, meta.wheel)
    except (OSError, HarnessError, UnsafePath):
        return None
    return wheel if wheel.is_file() else None


def compile_wheel(
    spec: BuildSpec,
    toolchain: Toolchain,
    recipe: Recipe,
    pinned: Pins,
    facts: dict[str, object],
    entry: Path,
    cache: Path,
    timeout: float,
) -> BuildFailure | None:
    """One PEP 517 build from a copy of the case, published whole into the cache *entry*."""
    key = entry.name
    (cache / "work").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=cache / "work"))
    try:
        # Never build in place: backends write build/ and egg-info next to the sources.
        src = work / "src"
        shutil.copytree(spec.case.path, src, ignore=shutil.ignore_patterns(*IGNORED, "*.egg-info"))
        constraints = work / "build-constraints.txt"
        constraints.write_text("\n".join(pinned.pins) + "\n")
        frontend = toolchain.version()
        out = toolchain.build_wheel(spec.python, src, work / "out", recipe.settings, recipe.env, constraints, timeout)
        header = (
            f"# build {spec.id}\n# python: {spec.python.describe()}\n# frontend: {frontend}\n"
            f"# build requirements: {' '.join(pinned.pins)}\n"
            f"# dynamic (get_requires_for_build_wheel): {' '.join(pinned.dynamic) or 'none'}\n"
            f"# config settings: {recipe.settings}\n# env: {recipe.env}\n"
        )
        log_text = header + out.transcript()
        wheels = sorted((work / "out").glob("*.whl")) if (work / "out").is_dir() else []
        why = _failed(out, wheels, timeout)
        if why:
            failure = BuildFailure(spec.id, why, _failure_log(cache, spec.id, key), pinned.tools)
            atomic.write_text(failure.build_log, log_text)
            if not out.timed_out:  # a timeout may be the machine's load, not the build's answer
                remember_failure(cache, key, failure, log_text)
            return failure
        staging = work / "entry"
        staging.mkdir()
        shutil.move(str(wheels[0]), staging / wheels[0].name)
        (staging / "build.log").write_text(log_text)
        meta = ArtifactMeta(
            wheel=wheels[0].name,
            spec=spec.id,
            tools=tuple(pinned.pins),
            dynamic_requires=tuple(pinned.dynamic),
            key_facts=facts,
            frontend=frontend,
            duration_s=round(out.duration_s, 3),
        )
        (staging / "artifact.json").write_text(json.dumps(msgspec.to_builtins(meta), indent=1))
        atomic.publish_dir(staging, entry)  # a concurrent run may have published it first; theirs is as good
        return None
    finally:
        shutil.rmtree(work, ignore_errors=True)
