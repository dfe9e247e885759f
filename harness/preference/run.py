"""The preference experiment's side effects: make the candidate wheels, offer them, ask pip and uv.

Candidates come from the wheel cache (harness.build.wheel), built by the case's own backend where it
produces the tag, else retagged (harness.build.retag). They are offered three ways, each listing in three
orders: a PEP 503 simple index and a flat find-links page, both served by a stdlib HTTP server on
127.0.0.1 (an ephemeral port, up only while the command runs) so the order of the links is ours, and
a find-links directory, whose order is whatever the file system lists (recorded as observed).
Each installer only resolves (`--dry-run`); nothing is installed.
Long because making, serving and asking are one experiment's steps over the same temporary tree.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import http.server
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from harness.build.installers import Toolchain, pip_report, toolchains
from harness.build.keys import BuildFailure
from harness.build.retag import retag
from harness.build.wheel import build
from harness.errors import HarnessError
from harness.infra import proc
from harness.interpreters import providers
from harness.interpreters.providers.uv import find_uv
from harness.model import BuildSpec, Case, Installer, Interpreter, Target, TargetKind, Version
from harness.preference.judge import (
    Answer,
    Candidate,
    Facts,
    Order,
    Result,
    Source,
    WheelSet,
    chosen_from_pip_report,
    chosen_from_uv_log,
    in_set,
    listing,
    rank,
    short_tag,
)
from harness.run.plan import can_build, python_allowed

DEFAULT_CASE = "sysconfig/c-api"
DEFAULT_SEED = 803  # PEP 803; any fixed seed keeps nightly results comparable
# The stable-ABI candidates every interpreter is offered, besides the version-specific wheels.
STABLE: tuple[tuple[TargetKind, Version], ...] = (
    (TargetKind.ABI3, (3, 9)),
    (TargetKind.ABI3, (3, 12)),
    (TargetKind.ABI3, (3, 15)),
    (TargetKind.ABI3T, (3, 15)),
    (TargetKind.ABI3_ABI3T, (3, 15)),
)
_TIMEOUT = 180.0


def default_pythons(interps: Sequence[Interpreter]) -> tuple[Interpreter, ...]:
    """Without --python: every CPython from 3.12 on (older ones can take at most cp39-abi3: no choice)."""
    return tuple(i for i in interps if i.is_cpython and i.minor >= (3, 12))


def _stable_tag(kind: TargetKind, floor: Version) -> str:
    abi = {TargetKind.ABI3: "abi3", TargetKind.ABI3T: "abi3t", TargetKind.ABI3_ABI3T: "abi3.abi3t"}[kind]
    return f"cp{floor[0]}{floor[1]}-{abi}"


def _target(kind: TargetKind, floor: Version | None, matrix_targets: Sequence[Target]) -> Target:
    """The matrix's own target where one matches (so its cached wheels are reused), else an ad hoc one."""
    for t in matrix_targets:
        if t.kind is kind and t.min_python == floor:
            return t
    name = kind.value if floor is None else f"{kind.value}-{floor[0]}{floor[1]}"
    return Target(name, kind, floor, ("each",))


def _builder(case: Case, kind: TargetKind, target: Target, everyone: Sequence[Interpreter]) -> Interpreter | None:
    """A release (non-debug) CPython able to build the target: the host's first, then the oldest."""
    able = [
        i for i in everyone if i.is_cpython and not i.debug and can_build(kind, target, i) and python_allowed(case, i)
    ]
    able.sort(key=lambda i: (bool(i.root), i.minor, providers.rank(i.provider)))
    return able[0] if able else None


@dataclass(frozen=True)
class _Made:
    path: Path
    candidate: Candidate


def make_candidates(
    case: Case,
    matrix_targets: Sequence[Target],
    everyone: Sequence[Interpreter],
    pythons: Sequence[Interpreter],
    toolchain: Toolchain,
    cache: Path,
    dest: Path,
    say: Callable[[str], None],
) -> tuple[list[_Made], list[str]]:
    """The candidate wheels in *dest*, and notes on the ones that had to be retagged."""
    made: list[_Made] = []
    pending: list[tuple[str, str]] = []  # (tag, why it is not built)
    dest.mkdir(parents=True, exist_ok=True)
    for tag, kind, target, builder in _wanted(case, matrix_targets, everyone, pythons):
        unsupported = case.unsupported_reason(kind)
        if unsupported:
            pending.append((tag, f"{case.id} does not build {kind.value}: {unsupported}"))
            continue
        if builder is None:
            pending.append((tag, f"no interpreter here can build {target.name}"))
            continue
        spec = BuildSpec(case, target, builder)
        say(f"wheel {tag}: build {spec.id}")
        artifact = build(spec, toolchain, cache, _TIMEOUT)
        if isinstance(artifact, BuildFailure):
            pending.append((tag, f"build {spec.id} failed: {artifact.reason}"))
            continue
        got = short_tag(artifact.wheel.name)
        if got != tag:
            pending.append((tag, f"{spec.id} produced {got}, not {tag}"))
            continue
        shutil.copy2(artifact.wheel, dest / artifact.wheel.name)
        made.append(_Made(dest / artifact.wheel.name, Candidate(artifact.wheel.name, spec.id)))
    if pending and not made:
        reasons = "; ".join(f"{t}: {why}" for t, why in pending)
        raise HarnessError(f"preference: no wheel of {case.id} could be built, nothing to retag ({reasons})")
    notes = _retag_missing(made, pending, dest)
    made.sort(key=lambda m: m.candidate.filename)
    return made, notes


def _wanted(
    case: Case, matrix_targets: Sequence[Target], everyone: Sequence[Interpreter], pythons: Sequence[Interpreter]
) -> list[tuple[str, TargetKind, Target, Interpreter | None]]:
    """(tag, kind, target, builder) of every candidate: one version-specific wheel per CPython, the stable ones."""
    wanted: list[tuple[str, TargetKind, Target, Interpreter | None]] = []
    seen: set[str] = set()
    for py in pythons:
        if not py.is_cpython or py.base_id in seen or not python_allowed(case, py):
            continue
        seen.add(py.base_id)
        # cp315d's wheel is cp315-cp315d; a free-threaded one cp315-cp315t.
        abi = "cp" + py.base_id[2:]
        target = _target(TargetKind.VERSION_SPECIFIC, None, matrix_targets)
        wanted.append((f"cp{py.version[0]}{py.version[1]}-{abi}", TargetKind.VERSION_SPECIFIC, target, py))
    for kind, floor in STABLE:
        target = _target(kind, floor, matrix_targets)
        wanted.append((_stable_tag(kind, floor), kind, target, _builder(case, kind, target, everyone)))
    return wanted


def _retag_missing(made: list[_Made], pending: list[tuple[str, str]], dest: Path) -> list[str]:
    """A retagged copy of a built wheel for every tag that could not be built; a note on each."""
    notes = []
    for tag, why in pending:
        # Prefer a stable-ABI wheel as the source of a stable tag, any real wheel otherwise.
        stable_first = sorted(made, key=lambda m: (not m.candidate.stable_abi, m.candidate.filename))
        source = next(m for m in stable_first if not m.candidate.retagged_from)
        platform = source.path.name.removesuffix(".whl").rsplit("-", 1)[1]
        path = retag(source.path, f"{tag}-{platform}", dest)
        made.append(_Made(path, Candidate(path.name, source.candidate.origin, source.path.name)))
        notes.append(f"`{tag}` is a retagged copy of {source.path.name}: {why}")
    return notes


# -- offering the files --------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _links(files: Sequence[str], hashes: dict[str, str]) -> str:
    return "".join(f'<a href="/files/{html.escape(f)}#sha256={hashes[f]}">{html.escape(f)}</a><br>\n' for f in files)


def write_site(www: Path, made: Sequence[_Made], dist: str, seed: int) -> None:
    """Static pages: /files/*, and per wheel set and order a PEP 503 index and a find-links page."""
    (www / "files").mkdir(parents=True, exist_ok=True)
    hashes = {}
    for m in made:
        shutil.copy2(m.path, www / "files" / m.candidate.filename)
        hashes[m.candidate.filename] = _sha256(m.path)
    for wheel_set in WheelSet:
        files = [m.candidate.filename for m in made if in_set(m.candidate, wheel_set)]
        for order in Order:
            base = www / wheel_set.value / order.value
            links = _links(listing(files, order, seed), hashes)
            (base / "simple" / dist).mkdir(parents=True, exist_ok=True)
            (base / "simple" / "index.html").write_text(
                f'<!DOCTYPE html><html><body><a href="{dist}/">{dist}</a></body></html>\n'
            )
            (base / "simple" / dist / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
            (base / "find-links").mkdir(parents=True, exist_ok=True)
            (base / "find-links" / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")


def write_dirs(root: Path, made: Sequence[_Made], seed: int) -> dict[tuple[WheelSet, Order], tuple[str, ...]]:
    """One find-links directory per wheel set and order, files written in that order; returns what
    the file system then lists (the order an installer reading the directory sees)."""
    seen = {}
    by_name = {m.candidate.filename: m.path for m in made}
    for wheel_set in WheelSet:
        files = [m.candidate.filename for m in made if in_set(m.candidate, wheel_set)]
        for order in Order:
            d = root / wheel_set.value / order.value
            d.mkdir(parents=True, exist_ok=True)
            for name in listing(files, order, seed):
                shutil.copy2(by_name[name], d / name)
            seen[(wheel_set, order)] = tuple(os.listdir(d))
    return seen


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(www: Path) -> Iterator[str]:
    """http://127.0.0.1:PORT serving *www* in a thread, for as long as the block runs."""
    handler = functools.partial(_Quiet, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="preference-index", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- asking the installers -------------------------------------------------------------------------


def _where(source: Source, base_url: str, dirs: Path, wheel_set: WheelSet, order: Order) -> list[str]:
    if source is Source.INDEX:
        return ["--index-url", f"{base_url}/{wheel_set.value}/{order.value}/simple/"]
    if source is Source.PAGE:
        return ["--no-index", "--find-links", f"{base_url}/{wheel_set.value}/{order.value}/find-links/"]
    return ["--no-index", "--find-links", str(dirs / wheel_set.value / order.value)]


def pip_command(env_python: Path, where: Sequence[str], requirement: str) -> list[str]:
    # --isolated: no PIP_* variables (PIP_FIND_LINKS would add files) and no user config.
    return [
        str(env_python),
        "-m",
        "pip",
        "install",
        "--isolated",
        "--dry-run",
        "--no-cache-dir",
        "--no-deps",
        "--quiet",
        "--report",
        "-",
        *where,
        requirement,
    ]


def uv_command(uv: str, env_python: Path, where: Sequence[str], requirement: str) -> list[str]:
    # -v: the resolver's "Selecting: name==version [...] (file.whl)" line is the only place uv names the file.
    return [
        uv,
        "pip",
        "install",
        "--dry-run",
        "-v",
        "--no-config",
        "--no-cache",
        "--no-deps",
        "--python",
        str(env_python),
        *where,
        requirement,
    ]


def ask(
    toolchain: Toolchain,
    interp: Interpreter,
    env_python: Path,
    argv: Sequence[str],
    dist: str,
) -> tuple[str, str, proc.Outcome]:
    """(chosen file, error, outcome) for one resolve."""
    out = toolchain.run(interp, argv, env={"NO_COLOR": "1", "PIP_CONFIG_FILE": os.devnull}, timeout=_TIMEOUT)
    chosen, unread = "", ""
    if out.ok and toolchain.installer is Installer.PIP:
        try:
            chosen = chosen_from_pip_report(pip_report(out), dist)
        except HarnessError as exc:
            unread = str(exc)  # an answer in a form this harness does not read: said as the error
    elif out.ok:
        chosen = chosen_from_uv_log(out.stderr + out.stdout, dist)
    error = "" if chosen else (toolchain.message(out) if not out.ok else unread or "the installer named no file")
    return chosen, error, out


@dataclass(frozen=True)
class Settings:
    case: Case
    matrix_targets: tuple[Target, ...]
    everyone: tuple[Interpreter, ...]
    pythons: tuple[Interpreter, ...]
    installers: tuple[Installer, ...]
    cache: Path
    seed: int = DEFAULT_SEED
    jobs: int = 2
    sources: tuple[Source, ...] = tuple(Source)
    keep: Path | None = None  # save every installer's raw output here (fixtures for the tests)


def run(settings: Settings, say: Callable[[str], None]) -> Result:
    uv = find_uv()
    builder = toolchains((), settings.cache)[0]
    skipped: list[tuple[str, str]] = []
    usable = tuple(i for i in settings.installers if i is not Installer.UV or uv)
    if len(usable) < len(settings.installers):
        skipped.append(("uv", "uv not found on PATH nor as the `uv` package"))
    chains = dict(zip(usable, toolchains(usable, settings.cache), strict=True)) if usable else {}
    work_root = settings.cache / "preference"
    work_root.mkdir(parents=True, exist_ok=True)
    # Under the cache, not /tmp: the cache is bound into the Debian rootfs at the same path.
    work = Path(tempfile.mkdtemp(prefix="run-", dir=work_root))
    try:
        args = (settings.case, settings.matrix_targets, settings.everyone, settings.pythons, builder, settings.cache)
        made, notes = make_candidates(*args, work / "wheels", say)
        offer = _Offer(settings, uv, chains, work, made)
        write_site(work / "www", made, offer.dist, settings.seed)
        offer.dir_listings.update(write_dirs(work / "dirs", made, settings.seed))
        pythons = []
        for py in settings.pythons:
            if not py.supported_tags:
                skipped.append((py.id, f"no packaging order to compare with: {py.tags_source}"))
                continue
            pythons.append(py)
        envs, versions = _environments(pythons, chains, work, skipped)
        answers = offer.ask_all(pythons, envs, say)
        facts = []
        for py in pythons:
            ranks = tuple(sorted((c.filename, rank(py.supported_tags, c)) for c in offer.candidates))
            used = tuple(sorted((i.value, versions[(py.id, i)]) for i in chains if (py.id, i) in versions))
            facts.append(Facts(py.id, py.describe(), py.free_threaded, py.tags_source, ranks, used))
        if not any(p.free_threaded for p in settings.pythons):
            notes.append(
                "no free-threaded interpreter here: no free-threaded rows and no cpXYt candidate; `cp315-abi3t` "
                "alone fits only free-threaded 3.15, so it is offered but fits none of these rows"
            )
        return Result(
            settings.case.id,
            offer.dist,
            offer.version,
            settings.seed,
            offer.candidates,
            tuple(facts),
            answers,
            tuple(skipped),
            tuple(notes),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _environments(
    pythons: Sequence[Interpreter], chains: dict[Installer, Toolchain], work: Path, skipped: list[tuple[str, str]]
) -> tuple[dict[tuple[str, Installer], Path], dict[tuple[str, Installer], str]]:
    """One fresh environment per (interpreter, installer): its python, and the installer's version in it."""
    envs: dict[tuple[str, Installer], Path] = {}
    versions: dict[tuple[str, Installer], str] = {}
    for py in pythons:
        for installer, chain in chains.items():
            env = work / "envs" / f"{py.id}-{installer.value}"
            out = chain.create_env(py, env)
            if not out.ok:
                skipped.append((f"{py.id} {installer.value}", f"no environment: {chain.message(out)}"))
                continue
            envs[(py.id, installer)] = env / "bin" / "python"
            versions[(py.id, installer)] = chain.env_version(py, env / "bin" / "python")
    return envs, versions


@dataclass
class _Offer:
    """The candidate wheels offered to the installers, and how to ask one installer about them."""

    settings: Settings
    uv: str | None
    chains: dict[Installer, Toolchain]
    work: Path
    made: list[_Made]
    dir_listings: dict[tuple[WheelSet, Order], tuple[str, ...]] = field(default_factory=dict)

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        return tuple(m.candidate for m in self.made)

    @property
    def dist(self) -> str:
        return self.settings.case.dist_name

    @property
    def version(self) -> str:
        return self.made[0].candidate.filename.split("-")[1]

    def ask_all(
        self, pythons: Sequence[Interpreter], envs: dict[tuple[str, Installer], Path], say: Callable[[str], None]
    ) -> tuple[Answer, ...]:
        tasks = [
            (py, installer, wheel_set, source, order, envs[(py.id, installer)])
            for py in pythons
            for installer in self.chains
            if (py.id, installer) in envs
            for wheel_set in WheelSet
            for source in self.settings.sources
            for order in Order
        ]
        say(f"{len(tasks)} resolves: {', '.join(p.id for p in pythons)} x {', '.join(i.value for i in self.chains)}")
        with serve(self.work / "www") as base_url, ThreadPoolExecutor(max_workers=max(1, self.settings.jobs)) as pool:
            return tuple(pool.map(lambda task: self.ask(base_url, *task), tasks))

    def ask(
        self,
        base_url: str,
        py: Interpreter,
        installer: Installer,
        wheel_set: WheelSet,
        source: Source,
        order: Order,
        env_python: Path,
    ) -> Answer:
        """One resolve: which candidate *installer* picks on *py* from this listing."""
        requirement = f"{self.dist}=={self.version}"
        where = _where(source, base_url, self.work / "dirs", wheel_set, order)
        if installer is Installer.PIP:
            argv = pip_command(env_python, where, requirement)
        else:
            assert self.uv is not None
            argv = uv_command(self.uv, env_python, where, requirement)
        chosen, error, out = ask(self.chains[installer], py, env_python, argv, self.dist)
        files = [c.filename for c in self.candidates if in_set(c, wheel_set)]
        seed = self.settings.seed
        shown = self.dir_listings[(wheel_set, order)] if source is Source.DIRECTORY else listing(files, order, seed)
        keep = self.settings.keep
        if keep is not None:
            name = f"{py.id}-{installer.value}-{wheel_set.value}-{source.value}-{order.value}"
            keep.mkdir(parents=True, exist_ok=True)
            (keep / f"{name}.stdout").write_text(out.stdout)
            (keep / f"{name}.stderr").write_text(out.stderr)
        return Answer(py.id, wheel_set, installer, source, order, shown, chosen, error)
