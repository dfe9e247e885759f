"""Observations reused when nothing they depend on has changed; `run --rerun` executes everything.

A cell's observations depend on the wheel's bytes, the run interpreter's identity (its probed facts
and the bytes of its executable and libpython), the installers' versions, the harness's own
execution code and the cell timeout. The key hashes exactly those, so a rebuilt CPython or a Debian
upgrade re-runs exactly its cells, and a new matrix.toml only re-judges (verdicts are never reused).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import json
import os
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from harness.cell.observe import Observed
from harness.errors import DamagedResults
from harness.infra import atomic
from harness.model import Interpreter
from harness.schema.decode import decode_json

# The code that decides what a cell observes. Changing any of it invalidates every reuse.
EXECUTION_CODE = (
    "cell/execute.py",
    "cell/forks.py",
    "resources/forkserver.py",
    "resources/call.py",
    "build/installers.py",
    "cell/observe.py",
    "infra/proc.py",
    "infra/rootfs.py",
    "build/audit.py",
    "build/metadata.py",  # runtime_requirements: what a forced load's environment installs
)
KEY_VERSION = 1
_DIGESTS: dict[tuple[str, int, int], str] = {}
_LOCK = threading.Lock()
_HASHING: dict[tuple[str, int, int], threading.Lock] = {}


def file_digest(path: str) -> str:
    """sha256 of a file, remembered per (path, mtime, size) for the life of the process. Computed once:
    the cells of one interpreter start together, and each hashing its 30 MB libpython was the largest
    cost of a warm run (py-spy)."""
    st = os.stat(path)
    key = (path, st.st_mtime_ns, st.st_size)
    with _LOCK:
        known = _DIGESTS.get(key)
        hashing = _HASHING.setdefault(key, threading.Lock())
    if known is not None:
        return known
    with hashing:
        with _LOCK:
            known = _DIGESTS.get(key)
        if known is None:
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            known = digest.hexdigest()
            with _LOCK:
                _DIGESTS[key] = known
    return known


@functools.cache
def code_digest() -> str:
    digest = hashlib.sha256()
    for name in EXECUTION_CODE:
        digest.update(name.encode() + b"\0" + resources.files("harness").joinpath(*name.split("/")).read_bytes())
    return digest.hexdigest()


def interpreter_files(interp: Interpreter) -> list[str]:
    """The executable and every libpython it may load, on the host's file system. Which files those
    are is looked up once per interpreter in a process (globbing the system library directory per
    cell cost a quarter of a warm run); their bytes are checked on every call (file_digest)."""
    return list(_interpreter_files(interp.root, interp.base_prefix, interp.host_path, interp.minor, interp.build_dir))


@functools.cache
def _interpreter_files(
    root: str, base_prefix: str, host_path: str, minor: tuple[int, int], build_dir: str = ""
) -> tuple[str, ...]:
    major, version = minor
    # An uninstalled build (--enable-shared) loads the libpython `make` left in its build directory.
    local = [f"{root}{build_dir}/libpython{major}.{version}*.so*"] if build_dir else []
    patterns = [
        *local,
        f"{root}{base_prefix}/lib/libpython{major}.{version}*.so*",
        f"{root}{base_prefix}/lib/libpypy*-c.so*",
        f"{root}/usr/lib/x86_64-linux-gnu/libpython{major}.{version}*.so*",
    ]
    found = {os.path.realpath(p) for pattern in patterns for p in glob.glob(pattern)}
    return (os.path.realpath(host_path), *sorted(found))


_IDENTITIES: dict[Interpreter, tuple[tuple[tuple[str, int, int], ...], str]] = {}


def _stamp(path: str) -> tuple[str, int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return path, -1, -1
    return path, st.st_mtime_ns, st.st_size


def interpreter_identity(interp: Interpreter) -> str:
    """Probed facts (the id aside: a column renamed is the same build) and the binaries' bytes.
    Remembered per interpreter while its files' stamps hold (each cell asking again serialised its
    facts anew: a tenth of a warm run's CPU, py-spy)."""
    files = interpreter_files(interp)
    stamps = tuple(_stamp(path) for path in files)
    with _LOCK:
        known = _IDENTITIES.get(interp)
    if known is not None and known[0] == stamps:
        return known[1]
    facts = {k: v for k, v in interp.to_json().items() if k != "id"}
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode())
    for path in files:
        with contextlib.suppress(OSError):
            digest.update(path.encode() + b"\0" + file_digest(path).encode())
    identity = digest.hexdigest()
    with _LOCK:
        _IDENTITIES[interp] = (stamps, identity)
    return identity


def cell_key(
    *, wheel: Path, interp: Interpreter, installers: Sequence[str], timeout_s: float, check: Sequence[str] = ()
) -> str:
    """*check*: what a `check` cell imports and its smoke command (absent for the matrix's cells)."""
    parts: dict[str, Any] = {
        "version": KEY_VERSION,
        "wheel": file_digest(str(wheel)),
        "interpreter": interpreter_identity(interp),
        "installers": list(installers),
        "code": code_digest(),
        "timeout_s": timeout_s,
    }
    if check:
        parts["check"] = list(check)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


class Reused(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """cache/observations/<key>.json: a cell's observations and where they came from (this type owns the file)."""

    run_id: str
    observed: Observed
    log: str = ""  # the original cell transcript


class Store:
    """cache/observations/<key>.json, each written whole (temporary file, then rename)."""

    def __init__(self, cache: Path) -> None:
        self.root = cache / "observations"

    def get(self, key: str) -> Reused | None:
        """The entry under *key*; None when absent, unreadable or of another format (the cell then runs)."""
        path = self.root / f"{key}.json"
        try:
            return decode_json(path.read_bytes(), Reused, source=path)
        except (OSError, DamagedResults):
            return None

    def put(self, key: str, entry: Reused) -> None:
        atomic.write_bytes(self.root / f"{key}.json", msgspec.json.encode(entry))


def reusable(observed: Observed) -> bool:
    """Only what the cell itself did: not a harness failure, nor an installer that failed to answer."""
    if observed.harness_error:
        return False
    for installer in observed.installers:
        for answer in (installer.env, installer.resolve, installer.install):
            if answer is not None and not answer.ok and not answer.refused:
                return False
    return True
