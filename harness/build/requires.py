"""The build requirements of a wheel: the static ones ([build-system] requires) and the dynamic ones
(PEP 517 get_requires_for_build_wheel), pinned together once per process and remembered in the cache.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from harness.build.installers import Toolchain
from harness.build.keys import (
    BUILD_SCHEMA,
    BuildFailure,
    Recipe,
    build_requires,
    build_system,
    digest_of,
    python_identity,
    sources_digest,
)
from harness.config.casefiles import IGNORED
from harness.errors import HarnessError
from harness.infra import atomic, proc
from harness.infra.paths import safe_name
from harness.model import BuildSpec, Interpreter, Status
from harness.schema.decode import decode_json

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
