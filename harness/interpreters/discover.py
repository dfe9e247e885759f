"""Find interpreters, probe each once (inside itself), give each a stable id, select the columns."""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Annotated

import msgspec
import packaging

from harness.config.matrix import check_explicit_id
from harness.errors import ConfigError, HarnessError
from harness.infra import atomic, proc, rootfs
from harness.infra.paths import provision_dir
from harness.interpreters import providers
from harness.interpreters.providers import Candidate
from harness.model import Interpreter, Matrix
from harness.schema.decode import decode_json

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 60


@dataclass(frozen=True)
class Discovery:
    """Every interpreter found, and what was found but not used, with the reason."""

    interpreters: tuple[Interpreter, ...]
    excluded: tuple[tuple[str, str], ...]  # (id or path, reason)


def _packaging_dir(cache: Path) -> Path:
    """A private copy of our `packaging`, importable by the probed interpreter without our site-packages."""
    dest = cache / "probe-lib" / f"packaging-{packaging.__version__}"
    if not (dest / "packaging").is_dir():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        shutil.copytree(Path(packaging.__file__).parent, tmp / "packaging")
        atomic.publish_dir(tmp, dest)  # another run may have made it meanwhile
    return dest


def _probe_key(path: str, root: str) -> str:
    real = os.path.realpath(root + path)
    st = os.stat(real)
    raw = f"{root}|{path}|{real}|{st.st_mtime_ns}|{st.st_size}|{packaging.__version__}|{_probe_source()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _probe_source() -> str:
    return resources.files("harness.resources").joinpath("probe.py").read_text()


class ProbeFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What resources/probe.py prints, and the probe cache keeps (cache/probes/<key>.json): this type
    reads both. Unknown keys are ignored (the cache key covers the probe's source, so a cached entry
    always comes from this probe); the keys discovery uses are required and typed."""

    implementation: Annotated[str, msgspec.Meta(min_length=1)]
    version: Annotated[str, msgspec.Meta(pattern=r"^\d+\.\d+\.\d+$")]
    free_threaded: bool
    debug: bool
    soabi: str
    ext_suffixes: tuple[str, ...]
    platform: str
    glibc: str | None = None
    prefix: str
    base_prefix: str
    supported_tags: tuple[str, ...]
    tags_source: str
    build_dir: str = ""


def probe(path: str, cache: Path, root: str = "") -> ProbeFacts:
    """Facts about the interpreter at *path*, from the interpreter itself; cached by file identity."""
    key = _probe_key(path, root)
    cached = cache / "probes" / f"{key}.json"
    with contextlib.suppress(OSError, HarnessError):  # missing, unreadable or not facts: probe again
        return decode_json(cached.read_bytes(), ProbeFacts, source=cached, error=HarnessError)
    argv = [path, "-I", "-c", _probe_source(), str(_packaging_dir(cache))]
    if root:
        argv = rootfs.command(root, argv, [cache])
    out = proc.run(argv, timeout=PROBE_TIMEOUT_S)
    if not out.ok and _is_python2(path, root, cache):
        raise ProbeFailed("Python 2: not supported")
    if not out.ok:
        detail = _last_words(out.stderr) or _last_words(out.stdout)
        raise ProbeFailed(f"probe failed ({'timeout' if out.timed_out else out.returncode}): {detail}")
    last = (out.stdout.strip().splitlines() or [""])[-1]
    try:
        facts = decode_json(last, ProbeFacts, source="its output", error=HarnessError)
    except HarnessError as exc:
        said = _last_words(out.stdout)
        raise ProbeFailed(
            f"the probe printed no facts (is it a Python 3 interpreter?): {exc}; last line: {said}"
        ) from None
    atomic.write_text(cached, json.dumps(msgspec.to_builtins(facts), indent=1))
    return facts


class ProbeFailed(Exception):
    pass


def _is_python2(path: str, root: str, cache: Path) -> bool:
    """Python 2 stops at the probe's `-I` ("Unknown option"); `-V` says so plainly (on stderr there)."""
    argv = [path, "-V"]
    out = proc.run(rootfs.command(root, argv, [cache]) if root else argv, timeout=PROBE_TIMEOUT_S)
    return re.match(r"Python 2\.", (out.stdout + out.stderr).strip()) is not None


def _last_words(output: str) -> str:
    """The last line of output that is not our own probe source echoed back (`echo`, `cat`, a shell)."""
    source = set(_probe_source().splitlines())
    lines = [line for line in output.strip().splitlines() if line.strip() and line not in source]
    return lines[-1][:200] if lines else "no output"


def from_probe(candidate: Candidate, facts: ProbeFacts) -> Interpreter:
    major, minor, micro = (int(p) for p in facts.version.split("."))
    return Interpreter(
        id=candidate.id,
        path=candidate.path,
        provider=candidate.provider,
        implementation=facts.implementation,
        version=(major, minor, micro),
        free_threaded=facts.free_threaded,
        debug=facts.debug,
        soabi=facts.soabi,
        ext_suffixes=facts.ext_suffixes,
        platform=facts.platform,
        glibc=facts.glibc,
        base_prefix=os.path.realpath(facts.base_prefix),
        is_venv=os.path.realpath(facts.prefix) != os.path.realpath(facts.base_prefix),
        supported_tags=facts.supported_tags,
        tags_source=facts.tags_source,
        root=candidate.root,
        build_dir=facts.build_dir,
    )


def _identity(interp: Interpreter) -> tuple[str, str, str, str, str]:
    """Two paths to one installation (a venv, a symlink, python3 vs python3.12) share this. Uninstalled
    builds all report the configured prefix (/usr/local): their build directory tells them apart."""
    return interp.root, interp.base_prefix, interp.version_str, interp.soabi, interp.build_dir


def _preference(interp: Interpreter) -> tuple[bool, bool, int, str]:
    required = interp.provider in providers.REGISTRY and providers.get(interp.provider).required
    return (not required, interp.is_venv, providers.rank(interp.provider), interp.path)


def assign_ids(interps: Iterable[Interpreter]) -> tuple[Interpreter, ...]:
    """Dedupe, then give ids: cp312; a second cp312 from another provider becomes cp312-<provider>; an
    uninstalled build (`./python` in a CPython checkout) is cp312-build, cp312-build-2, ..."""
    best: dict[tuple[str, str, str, str, str], Interpreter] = {}
    for interp in interps:
        key = _identity(interp)
        # Preference: the user's explicit choice, then a real installation over a venv, then provider rank.
        other = best.get(key)
        if other is None or _preference(interp) < _preference(other):
            best[key] = interp
    # The preferred provider of a version gets the bare id (pyenv's 3.11 is cp311, Debian's is cp311-path).
    ordered = sorted(
        best.values(),
        key=lambda i: (
            i.implementation,
            i.minor,
            i.free_threaded,
            i.debug,
            providers.rank(i.provider),
            i.version,
            i.path,
        ),
    )
    taken = {i.id for i in ordered if i.id}  # user-chosen ids win
    result = []
    for interp in ordered:
        if interp.id:
            result.append(interp)
            continue
        # An uninstalled build never takes the bare id: the installed columns keep theirs (and the
        # [[known_issue]]s written for them), and `-build` selects build trees in matrix.toml.
        where = "build" if interp.build_dir else interp.provider.value
        new_id = f"{interp.base_id}-build" if interp.build_dir else interp.base_id
        if new_id in taken:
            new_id = f"{interp.base_id}-{where}"
        n = 2
        while new_id in taken:
            new_id = f"{interp.base_id}-{where}-{n}"
            n += 1
        taken.add(new_id)
        result.append(replace(interp, id=new_id))
    return tuple(result)


def discover(matrix: Matrix, cache: Path, extra_paths: Sequence[str] = ()) -> Discovery:
    """Every interpreter the providers find: the [discovery] sources, plus the explicit ones, which must work."""
    ctx = providers.Context(provision_dir(), matrix.path, matrix.explicit, tuple(extra_paths))
    candidates: list[Candidate] = []
    excluded: list[tuple[str, str]] = []
    for name, provider in providers.REGISTRY.items():
        if provider.source and name not in matrix.sources:
            continue
        found = provider.candidates(ctx)
        note = "" if found else provider.note_when_empty(ctx)
        if note:
            excluded.append((name, note))
        candidates += found

    def attempt(cand: Candidate) -> Interpreter | str:
        try:
            return from_probe(cand, probe(cand.path, cache, cand.root))
        except (ProbeFailed, OSError) as exc:
            return str(exc)

    _packaging_dir(cache)  # once, before the threads that use it
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        outcomes = list(pool.map(attempt, candidates))

    problems = []
    usable: list[Interpreter] = []
    for cand, outcome in zip(candidates, outcomes, strict=True):
        required = providers.get(cand.provider).required
        if isinstance(outcome, str):
            if required:
                problems.append(f"interpreter {cand.path!r} does not run as Python: {outcome}")
            excluded.append((cand.host_path, outcome))
        elif required and not outcome.is_cpython:
            problems.append(f"interpreter {cand.path!r} is {outcome.implementation} {outcome.version_str}, not CPython")
        elif cand.id and (wrong := check_explicit_id(cand.id, outcome)):
            problems.append(f"{matrix.path}: [[interpreters]] path {cand.path!r}: {wrong}")
        elif outcome.minor < matrix.min_version and not required:
            floor = ".".join(map(str, matrix.min_version))
            excluded.append((cand.host_path, f"{outcome.base_id}: older than discovery.min_version {floor}"))
        else:
            usable.append(outcome)
    too_old = [why for _, why in excluded if "older than discovery.min_version" in why]
    if not usable and too_old and not problems:
        floor = ".".join(map(str, matrix.min_version))
        problems.append(
            f"{matrix.path}: discovery.min_version: {floor!r} excludes every interpreter found "
            f"({', '.join(why.split(':')[0] for why in too_old)}); lower it"
        )
    if problems:
        raise ConfigError(problems)
    return Discovery(assign_ids(usable), tuple(sorted(set(excluded))))


def select(discovery: Discovery, patterns: Sequence[str]) -> tuple[Interpreter, ...]:
    """The run columns: all interpreters, or those matching --python ids/globs/paths."""
    if not patterns:
        return discovery.interpreters
    chosen: dict[str, Interpreter] = {}
    missing = []
    for pattern in patterns:
        hits = [
            i
            for i in discovery.interpreters
            if fnmatch.fnmatchcase(i.id, pattern)
            or (os.sep in pattern and os.path.realpath(i.path) == os.path.realpath(pattern))
        ]
        if not hits:
            missing.append(pattern)
        chosen.update((i.id, i) for i in hits)
    if missing:
        ids = ", ".join(i.id for i in discovery.interpreters) or "none"
        raise ConfigError(
            f"no interpreter matched {', '.join(map(repr, missing))}; found: {ids}. "
            "Pass an interpreter path with --python PATH or add an [[interpreters]] entry to matrix.toml"
        )
    return tuple(i for i in discovery.interpreters if i.id in chosen)
