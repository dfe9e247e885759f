"""One wheel per (case, target, build interpreter), cached by a content hash of everything that shapes it.

Long because the cache key, the build requirements it pins and the compile share one BuildSpec and
cache entry; the requirements resolution is the part to move out next.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from harness.build.installers import Toolchain
from harness.config.casefiles import IGNORED, render, source_files
from harness.errors import HarnessError
from harness.infra import atomic, proc
from harness.infra.paths import UnsafePath, remove_tree, safe_name, under
from harness.model import Artifact, BuildSpec, Interpreter, Status
from harness.schema.decode import decode_json, read_toml

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


def _metadata_headers(wheel: Path, field: str) -> list[str]:
    """Every value of one core-metadata header (`Requires-Dist`, ...) of a wheel's METADATA."""
    prefix = field.lower() + ":"
    with zipfile.ZipFile(wheel) as zf:
        name = next((n for n in zf.namelist() if n.endswith(".dist-info/METADATA")), None)
        if name is None:
            return []
        values = []
        for line in zf.read(name).decode("utf-8", "replace").splitlines():
            if not line.strip():
                break  # headers end at the first blank line
            if line.lower().startswith(prefix):
                values.append(line.split(":", 1)[1].strip())
    return values


def requires_python(wheel: Path) -> str:
    """The wheel's Requires-Python (core metadata), or "" when it declares none."""
    return next(iter(_metadata_headers(wheel, "Requires-Python")), "")


def runtime_requirements(wheel: Path) -> tuple[str, ...]:
    """The wheel's Requires-Dist, markers kept (the installer evaluates them for the interpreter it
    installs into); requirements of an extra are left out, as a plain install leaves them out."""
    kept = []
    for text in _metadata_headers(wheel, "Requires-Dist"):
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            kept.append(text)  # the installer will say what is wrong with it
            continue
        if requirement.marker is None or "extra" not in str(requirement.marker):
            kept.append(text)
    return tuple(kept)


def wheel_tags(wheel: Path) -> tuple[str, ...]:
    """The expanded tag set of a wheel file name (abi3.abi3t -> two tags)."""
    _, _, _, tags = parse_wheel_filename(wheel.name)
    return tuple(sorted(str(t) for t in tags))


def extension_files(wheel: Path) -> tuple[str, ...]:
    with zipfile.ZipFile(wheel) as zf:
        return tuple(sorted(n for n in zf.namelist() if n.endswith((".so", ".pyd", ".dylib"))))


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


# -- dynamic build requirements (PEP 517 get_requires_for_build_wheel) ---------------------------

# Run by the build interpreter in an environment holding the static pins, in a copy of the case,
# as a PEP 517 frontend asks: stdlib only (any Python 3). Writes the answer as JSON to argv[4].
REQUIRES_HOOK = """
import importlib, json, os, sys
backend, backend_path, settings, out = sys.argv[1:5]
sys.path[:0] = [os.path.abspath(p) for p in json.loads(backend_path)]
name, _, attrs = backend.partition(":")
obj = importlib.import_module(name.strip())
for attr in filter(None, attrs.strip().split(".")):
    obj = getattr(obj, attr)
hook = getattr(obj, "get_requires_for_build_wheel", None)
requires = list(hook(json.loads(settings))) if hook else []
with open(out, "w") as f:
    json.dump([str(r) for r in requires], f)
"""
# Programs backends look for before asking for a PyPI copy (scikit-build-core: cmake, ninja; maturin:
# cargo): their identity is part of the hook's answer, so it is part of the answer's cache key.
PROBED_PROGRAMS = ("cmake", "ninja", "cargo", "rustc")


def build_backend(case_dir: Path) -> tuple[str, list[str]]:
    """[build-system] build-backend and backend-path (PEP 517's default without them)."""
    table = build_system(case_dir)
    return table.build_backend, list(table.backend_path)


def settings_dict(settings: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """config_settings as frontends pass them: a key given twice becomes a list."""
    out: dict[str, str | list[str]] = {}
    for key, value in settings:
        have = out.get(key)
        out[key] = value if have is None else [*([have] if isinstance(have, str) else have), value]
    return out


def _programs(interp: Interpreter) -> list[list[object]]:
    found: list[list[object]] = []
    for name in PROBED_PROGRAMS:
        if interp.root:
            hits = [f"{interp.root}{d}/{name}" for d in ("/usr/local/bin", "/usr/bin", "/bin")]
            path = next((h for h in hits if os.path.isfile(h)), None)
        else:
            path = shutil.which(name)
        if path:
            st = os.stat(path)
            found.append([name, os.path.realpath(path), st.st_mtime_ns, st.st_size])
    return found


def requires_facts(
    spec: BuildSpec, static: list[str], settings: list[tuple[str, str]], env: dict[str, str], frontend: str
) -> dict[str, object]:
    """What the backend's answer depends on: the case, the rendered recipe, the interpreter, the pins."""
    return {
        "schema": BUILD_SCHEMA,
        "hook": hashlib.sha256(REQUIRES_HOOK.encode()).hexdigest()[:12],
        "sources": sources_digest(spec.case.path),
        "settings": settings,
        "env": sorted(env.items()),
        "python": [*python_identity(spec.python), spec.python.root],
        "static": static,
        "frontend": frontend,
        "programs": _programs(spec.python),
    }


def dynamic_requires(
    spec: BuildSpec,
    toolchain: Toolchain,
    static: list[str],
    settings: list[tuple[str, str]],
    env: dict[str, str],
    cache: Path,
    timeout: float,
) -> list[str] | BuildFailure:
    """The backend's get_requires_for_build_wheel answer, asked once per input and kept on disk."""
    facts = requires_facts(spec, static, settings, env, toolchain.version())
    answer = cache / "build-requires" / f"{digest_of(facts)}.json"
    known = _known_answer(answer)
    if known is not None:
        return known
    (cache / "work").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="requires-", dir=cache / "work"))
    try:
        src = work / "src"
        shutil.copytree(spec.case.path, src, ignore=shutil.ignore_patterns(*IGNORED, "*.egg-info"))
        steps = [toolchain.create_env(spec.python, work / "env")]
        env_python = work / "env" / "bin" / "python"
        if steps[-1].ok and static:  # an in-tree backend may need nothing at all
            steps.append(toolchain.install_requirements(spec.python, env_python, static))
        asked = steps[-1].ok
        if asked:
            backend, backend_path = build_backend(src)
            argv = [str(env_python), "-I", "-c", REQUIRES_HOOK, backend, json.dumps(backend_path)]
            argv += [json.dumps(settings_dict(settings)), str(work / "requires.json")]
            steps.append(toolchain.run(spec.python, argv, cwd=src, env=env, timeout=timeout))
        if not steps[-1].ok or not (work / "requires.json").is_file():
            log_path = cache / "logs" / f"requires-{safe_name(spec.id)}-{int(time.time())}.log"
            log_path.write_text("\n".join(out.transcript() for out in steps))
            last = proc.last_line(steps[-1].stderr or steps[-1].stdout, prefer_errors=True)
            if not asked:  # environment or installer trouble, not the backend's
                return BuildFailure(
                    spec.id, f"no environment to ask the backend in: {last}", log_path, status=Status.ERROR
                )
            return BuildFailure(spec.id, f"get_requires_for_build_wheel failed: {last}", log_path)
        try:  # what REQUIRES_HOOK wrote; anything else came from the backend's code, not from the hook
            requires = list(decode_json((work / "requires.json").read_bytes(), tuple[str, ...], source="requires.json"))
        except (OSError, HarnessError) as exc:
            log_path = cache / "logs" / f"requires-{safe_name(spec.id)}-{int(time.time())}.log"
            atomic.write_text(log_path, "\n".join(out.transcript() for out in steps))
            return BuildFailure(spec.id, f"get_requires_for_build_wheel: unreadable answer: {exc}", log_path)
        atomic.write_text(answer, json.dumps({"requires": requires, "facts": facts}, indent=1, default=list))
        return requires
    finally:
        shutil.rmtree(work, ignore_errors=True)


class RequiresAnswer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """cache/build-requires/<key>.json: the backend's answer and the facts its key was made from (kept for
    a reader; the key is their digest, so they are not read back)."""

    requires: tuple[str, ...]
    facts: dict[str, Any]


def _known_answer(path: Path) -> list[str] | None:
    """A cached answer, or None when absent or not an answer (asked again and rewritten)."""
    with contextlib.suppress(OSError, HarnessError):
        return list(decode_json(path.read_bytes(), RequiresAnswer, source=path).requires)
    return None


@dataclass(frozen=True, kw_only=True)
class Pins:
    """The build requirements, static and dynamic, resolved for one build interpreter."""

    pins: list[str]
    dynamic: list[str]  # what the backend's get_requires_for_build_wheel asked for

    @property
    def tools(self) -> tuple[tuple[str, str], ...]:
        return tuple((name, version) for name, _, version in (p.partition("==") for p in self.pins))


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


_RESOLVED: dict[tuple[str, str, tuple[str, ...], str], tuple[list[str] | None, proc.Outcome]] = {}
_RESOLVING: dict[tuple[str, str, tuple[str, ...], str], threading.Lock] = {}
_GUARD = threading.Lock()
# A resolution this young is reused by later runs (a warm re-run asks the index nothing); an older one is
# asked again, so a new release of a build requirement reaches the wheels within this time (`--rebuild`: now).
PINS_MAX_AGE_S = 6 * 3600.0


class RememberedPins(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """cache/pins/<key>.json: one resolution of build requirements, when, and by which command."""

    at: float  # time.time() of the resolution
    pins: tuple[str, ...]
    cmd: tuple[str, ...]


def _pins_file(cache: Path, toolchain: Toolchain, requires: list[str], interp: Interpreter) -> Path:
    facts: dict[str, object] = {
        "installer": toolchain.version(),
        "requires": requires,
        "python": [*python_identity(interp), interp.root],
    }
    return cache / "pins" / f"{digest_of(facts)}.json"


def _remembered(path: Path, now: float) -> tuple[list[str], proc.Outcome] | None:
    """A resolution a recent run wrote, as the outcome it had (its command and pins); None when too old."""
    try:
        data = decode_json(path.read_bytes(), RememberedPins, source=path)
    except (OSError, HarnessError):
        return None
    age = now - data.at
    if not 0 <= age <= PINS_MAX_AGE_S:
        return None
    pins = list(data.pins)
    said = f"(resolved {age:.0f} s ago by an earlier run, reused)"
    return pins, proc.Outcome(data.cmd, 0, "\n".join(pins), said, 0.0)


def _resolve_once(
    toolchain: Toolchain, requires: list[str], interp: Interpreter, cache: Path | None = None, fresh: bool = False
) -> tuple[list[str] | None, proc.Outcome]:
    """The static requirements resolved once per (installer, requirements, interpreter) in a process:
    every target of a case on one interpreter asks the same question of the same index at once. With a
    *cache*, a resolution younger than PINS_MAX_AGE_S is taken from there (unless *fresh*)."""
    key = (toolchain.installer.value, toolchain.version(), tuple(requires), interp.host_path)
    with _GUARD:
        lock = _RESOLVING.setdefault(key, threading.Lock())
    with lock:
        if key not in _RESOLVED or _RESOLVED[key][0] is None:  # a failure is asked again
            path = _pins_file(cache, toolchain, requires, interp) if cache is not None else None
            known = None if path is None or fresh else _remembered(path, time.time())
            _RESOLVED[key] = known or toolchain.resolve(requires, interp)
            pins, out = _RESOLVED[key]
            if path is not None and known is None and pins is not None:
                record = RememberedPins(at=time.time(), pins=tuple(pins), cmd=tuple(out.cmd))
                atomic.write_text(path, json.dumps(msgspec.to_builtins(record)))  # shared cache: whole or not at all
        pins, out = _RESOLVED[key]
    return (list(pins) if pins is not None else None), out


def pin_requirements(
    spec: BuildSpec, toolchain: Toolchain, recipe: Recipe, cache: Path, timeout: float, fresh: bool = False
) -> Pins | BuildFailure:
    """Static requirements resolved, the backend asked for its dynamic ones, both pinned together."""
    requires = build_requires(spec.case.path)
    static, resolved = _resolve_once(toolchain, requires, spec.python, cache, fresh)
    dynamic: list[str] = []
    pins = static
    if static is not None:
        asked = dynamic_requires(spec, toolchain, static, recipe.settings, recipe.env, cache, timeout)
        if isinstance(asked, BuildFailure):
            return asked
        dynamic = asked
        if dynamic:  # pinned together with the static ones, so one resolution holds both (asked once per run
            # for the targets and cases that share both lists on one interpreter, as the static ones are)
            pins, resolved = _resolve_once(toolchain, [*requires, *dynamic], spec.python, cache, fresh)
    if pins is None:
        log_path = cache / "logs" / f"resolve-{safe_name(spec.id)}-{int(time.time())}.log"
        atomic.write_text(log_path, resolved.transcript())  # shared cache: whole or not at all
        return BuildFailure(
            spec.id,
            f"could not resolve build requirements {[*requires, *dynamic]}: "
            f"{proc.last_line(resolved.stderr, prefer_errors=True)}",
            log_path,
            status=Status.ERROR,
        )
    return Pins(pins=pins, dynamic=dynamic)


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
            log_path = cache / "logs" / f"build-{safe_name(spec.id)}-{key}.log"
            atomic.write_text(log_path, log_text)
            return BuildFailure(spec.id, why, log_path, pinned.tools)
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
