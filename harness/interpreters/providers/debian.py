"""Interpreters of a provisioned Debian rootfs (CPython 3.13-3.15, their Py_DEBUG builds, PyPy), run
through bubblewrap; `provision debian` debootstraps it into the cache and installs them with apt."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import msgspec

from harness.errors import HarnessError
from harness.infra import atomic, proc, rootfs
from harness.interpreters.providers.base import Candidate, Context, Say
from harness.model import Provider
from harness.schema.decode import decode_json

NAME = Provider("debian")

DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SUITE = "unstable"
DEBIAN_VERSIONS = ("3.13", "3.14", "3.15")
# What the cases need to build inside the rootfs: compilers, CMake/Ninja, patchelf for meson-python.
# python3-pip: Debian's pip serves every python3.X there, for `--installer pip`.
DEBIAN_TOOLS = (
    "gcc",
    "g++",
    "make",
    "cmake",
    "ninja-build",
    "patchelf",
    "pkg-config",
    "ca-certificates",
    "python3-pip",
)
# Rust for maturin/pyo3: the crate registry is unreachable here, Debian packages crates instead.
DEBIAN_RUST = (
    "cargo",
    "rustc",
    "librust-pyo3-ffi-dev",
    "librust-pyo3-build-config-dev",
    "librust-pyo3-macros-dev",
    "librust-libc-dev",
    "librust-once-cell-dev",
    "librust-portable-atomic-dev",
)
# Packages whose files are enough when apt cannot install them: librust-pyo3-dev depends on every
# optional PyO3 feature's crate, and one such chain is broken in unstable at times.
DEBIAN_UNPACK_FALLBACK = ("librust-pyo3-dev",)
# The apt archive served here can carry Release files past their Valid-Until date; apt would then
# refuse every update. Their signatures are still checked.
APT_CONF = 'Acquire::Check-Valid-Until "false";\n'


def debian_packages(versions: Sequence[str] = DEBIAN_VERSIONS, extra: Sequence[str] = ()) -> list[str]:
    pythons = [f"python{v}{part}" for v in versions for part in ("", "-dev", "-venv", "-dbg")]
    return [*pythons, "pypy3", "pypy3-dev", "pypy3-venv", *DEBIAN_TOOLS, *DEBIAN_RUST, *extra]


# An absolute path inside the rootfs, no part empty, "." or ".." (it is run as <root><path>).
_ROOTFS_PATH = r"^(/(?!\.\.?(/|$))[^/\x00]+)+$"


class ReadyMarker(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """debian/<suite>/ready.json, written last by `provision debian`: what the rootfs holds."""

    suite: str
    mirror: str
    packages: tuple[str, ...]
    interpreters: tuple[Annotated[str, msgspec.Meta(pattern=_ROOTFS_PATH)], ...]
    provisioned: str  # ISO 8601, UTC


def read_marker(path: Path) -> ReadyMarker:
    """A rootfs's ready marker (OSError when absent; HarnessError naming the field when it does not fit)."""
    return decode_json(path.read_bytes(), ReadyMarker, source=path, error=HarnessError)


@dataclass(frozen=True)
class DebianRootfs:
    cache: Path
    suite: str = DEFAULT_SUITE
    mirror: str = DEFAULT_MIRROR

    @property
    def base(self) -> Path:
        return self.cache / "debian" / self.suite

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def ready(self) -> Path:
        return self.base / "ready.json"

    def provisioned(self, packages: Sequence[str]) -> ReadyMarker | None:
        """The ready marker, if it covers *packages* (one that does not fit: provisioned again)."""
        try:
            marker = read_marker(self.ready)
        except (OSError, HarnessError):
            return None
        return marker if set(packages) <= set(marker.packages) else None

    def _inside(self, argv: Sequence[str], timeout: float = 1800) -> proc.Outcome:
        """A command in the rootfs, writable, apt without questions."""
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        return proc.run(rootfs.command(str(self.root), argv, writable=True), env=env, timeout=timeout)

    def run(self, argv: Sequence[str], say: Say, timeout: float = 1800) -> None:
        """Run a provisioning step inside the rootfs, failing with its output."""
        out = self._inside(argv, timeout)
        self._check(out, " ".join(argv))
        say(f"debian/{self.suite}: {' '.join(argv[:3])} ... done in {out.duration_s:.0f}s")

    def _check(self, out: proc.Outcome, what: str) -> None:
        if out.ok:
            return
        log = self.base / "provision.log"
        log.write_text(out.transcript())
        tail = [ln for ln in (out.stderr or out.stdout).splitlines() if ln.strip()][-3:]
        raise HarnessError(
            f"debian/{self.suite}: `{what}` failed ({'timeout' if out.timed_out else out.returncode}); "
            f"log: {log}\n  " + "\n  ".join(tail)
        )

    def provision(self, packages: Sequence[str], say: Say) -> None:
        """Provision under a lock: a second `provision` waits, then finds the work done."""
        self.cache.mkdir(parents=True, exist_ok=True)
        with atomic.locked(self.cache / "debian" / f".{self.suite}.lock"):
            self._provision(packages, say)

    def _provision(self, packages: Sequence[str], say: Say) -> None:
        if self.provisioned(packages):
            say(f"debian/{self.suite}: already provisioned at {self.root} (nothing to do)")
            return
        missing = [tool for tool in ("debootstrap", "bwrap") if shutil.which(tool) is None]
        if missing:
            raise HarnessError(
                f"debian provider needs {' and '.join(missing)} on PATH: "
                "apt-get install debootstrap bubblewrap (as root)"
            )
        if os.geteuid() != 0:
            raise HarnessError("debian provider: debootstrap and apt inside the rootfs need root; run as root")
        self.base.mkdir(parents=True, exist_ok=True)
        if not (self.root / "etc" / "debian_version").is_file():
            partial = self.base / "root.partial"
            shutil.rmtree(partial, ignore_errors=True)
            say(f"debian/{self.suite}: debootstrap from {self.mirror} (about a minute)")
            out = proc.run(["debootstrap", "--variant=minbase", self.suite, str(partial), self.mirror], timeout=1800)
            self._check(out, f"debootstrap {self.suite}")
            shutil.rmtree(self.root, ignore_errors=True)
            partial.replace(self.root)
        (self.root / "etc" / "apt" / "apt.conf.d" / "99abi-harness").write_text(APT_CONF)
        self.run(["apt-get", "update", "-q"], say)
        self.run(["dpkg", "--configure", "-a"], say)  # finishes what an interrupted earlier attempt left
        say(f"debian/{self.suite}: installing {len(packages)} packages (about a minute)")
        self.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages], say)
        for package in DEBIAN_UNPACK_FALLBACK:
            self.install_or_unpack(package, say)
        interpreters = self.interpreters()
        marker = ReadyMarker(
            suite=self.suite,
            mirror=self.mirror,
            packages=tuple(sorted(set(packages))),
            interpreters=tuple(interpreters),
            provisioned=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        atomic.write_text(self.ready, json.dumps(msgspec.to_builtins(marker), indent=1) + "\n")
        say(f"debian/{self.suite}: ready with {', '.join(interpreters)}")

    def install_or_unpack(self, package: str, say: Say) -> None:
        """apt-get install; when apt cannot resolve it, unpack its files (said out loud, not silently)."""
        out = self._inside(["apt-get", "install", "-y", "-q", "--no-install-recommends", package])
        if out.ok:
            say(f"debian/{self.suite}: {package} installed")
            return
        errors = [ln.strip() for ln in (out.stderr + "\n" + out.stdout).splitlines() if ln.startswith("E:")]
        why = errors[0] if errors else proc.last_line(out.stderr or out.stdout)
        say(
            f"debian/{self.suite}: apt cannot install {package} ({why}); unpacking its files without its "
            "optional dependencies instead"
        )
        script = f"cd /tmp && apt-get download {package} && dpkg-deb -x {package}_*.deb / && rm -f {package}_*.deb"
        self.run(["sh", "-c", script], say)

    def interpreters(self) -> list[str]:
        """python3.X, python3.Xd (Debian's Py_DEBUG builds) and pypy3, as paths inside the rootfs."""
        names = sorted(p.name for p in (self.root / "usr" / "bin").glob("python3.*") if _is_interpreter(p.name))
        if (self.root / "usr" / "bin" / "pypy3").exists():
            names.append("pypy3")
        return [f"/usr/bin/{name}" for name in names]


def _is_interpreter(name: str) -> bool:
    version = name.removeprefix("python3.").removesuffix("d")
    return version.isdigit()


class Debian:
    name = NAME
    source = True
    required = False
    unread: list[str]  # ready markers that did not fit, said when nothing was found

    def __init__(self) -> None:
        self.unread = []

    def candidates(self, ctx: Context) -> list[Candidate]:
        """Interpreters of every provisioned rootfs (listed by `provision debian` in ready.json)."""
        found = []
        self.unread = []
        for ready in sorted((ctx.provision_dir / "debian").glob("*/ready.json")):
            try:
                marker = read_marker(ready)
            except OSError:
                continue
            except HarnessError as exc:  # said when nothing was found; provisioning again rewrites it
                self.unread.append(str(exc))
                continue
            root = str(ready.parent / "root")
            found += [Candidate(path, NAME, root=root) for path in marker.interpreters]
        return found

    def note_when_empty(self, ctx: Context) -> str:
        why = f"no rootfs provisioned under {ctx.provision_dir / 'debian'}; run `nox -s provision`"
        return "; ".join([*self.unread, why])

    def add_provision_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--suite", default=DEFAULT_SUITE, help="Debian suite (default: %(default)s)")
        parser.add_argument("--mirror", default=DEFAULT_MIRROR, help="Debian mirror (default: %(default)s)")
        parser.add_argument(
            "--debian-python",
            action="append",
            metavar="X.Y",
            help=f"Debian CPython versions (default: {' '.join(DEBIAN_VERSIONS)})",
        )
        parser.add_argument("--package", action="append", default=[], help="another Debian package for the rootfs")

    def provision(self, into: Path, options: argparse.Namespace, say: Say) -> None:
        versions = options.debian_python or list(DEBIAN_VERSIONS)
        DebianRootfs(into, options.suite, options.mirror).provision(debian_packages(versions, options.package), say)


PROVIDER = Debian()
