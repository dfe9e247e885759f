"""The real installers and build frontends behind one Protocol: uv and pip. Commands only, no policy.

Every command that touches an interpreter goes through `launch`, which runs it inside the
interpreter's rootfs (bubblewrap) when it has one, so the same code serves host and Debian columns.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal, Protocol

import msgspec

from harness.errors import ConfigError, HarnessError
from harness.infra import proc, rootfs
from harness.interpreters.providers.uv import find_uv
from harness.model import Installer, Interpreter
from harness.schema.decode import decode_json

# What each installer prints when the tags (or Requires-Python) rule a wheel out, as opposed to
# any other failure. Recorded messages are in tests/unit/test_installers.py.
_UV_REFUSAL = re.compile(
    r"dependency is incompatible with the current platform"
    r"|is not compatible with the current platform"
    r"|has no wheels with a matching [\w ]*tag"  # the resolver: Python version / ABI / platform tag
    # Requires-Python; a specifier with exclusions is listed as "all of: Python>3.9.0,<3.9.1 Python>3.9.1"
    r"|the current Python version \([\w.+]+\) does not satisfy (?:(?:all|one) of: )?Python"
)
_PIP_REFUSAL = re.compile(r"is not a supported wheel on this platform|requires a different Python")
_PIP_VERSIONS: dict[tuple[str, str], str] = {}  # seeded pip differs per interpreter only


class PipMetadata(msgspec.Struct, frozen=True):
    name: str
    version: str


class PipDownload(msgspec.Struct, frozen=True):
    url: str  # the file pip would install (a local path or an index URL)


class PipItem(msgspec.Struct, frozen=True):
    metadata: PipMetadata
    download_info: PipDownload


class PipReport(msgspec.Struct, frozen=True):
    """The parts of pip's `install --report` JSON (format version 1) the harness uses: what would be
    installed, from which file. pip writes many more keys; they are not read (so not declared)."""

    version: Literal["1"]
    install: tuple[PipItem, ...]


def pip_report(out: proc.Outcome) -> PipReport:
    """pip's report on stdout, or HarnessError naming the field that does not fit (a pip that changed
    its report is said, not taken for an empty answer)."""
    return decode_json(out.stdout, PipReport, source="pip's --report", error=HarnessError)


@functools.cache
def _uv_version(uv: str) -> str:
    out = proc.run([uv, "--version"], timeout=30)
    return " ".join(out.stdout.split()[:2]) or "uv (unknown version)"


class Toolchain(Protocol):
    """One installer: cell environments, dry-run resolve, install; also the build frontend."""

    @property
    def cache(self) -> Path: ...
    @property
    def installer(self) -> Installer: ...
    @property
    def version_in_env(self) -> bool:
        """Whether env_version depends on the environment (pip's seeded copy) or not (uv's binary)."""
        ...

    def version(self) -> str: ...
    def env_version(self, interp: Interpreter, env_python: Path) -> str: ...
    def create_env(self, interp: Interpreter, dest: Path) -> proc.Outcome: ...
    def dry_run(self, interp: Interpreter, env_python: Path, wheel: Path) -> proc.Outcome: ...
    def install(self, interp: Interpreter, env_python: Path, wheel: Path) -> proc.Outcome: ...
    def install_target(self, interp: Interpreter, env_python: Path, items: Sequence[str], target: Path) -> proc.Outcome:
        """A wheel (or requirement strings) and its dependencies into the fresh directory *target*, for
        *env_python*'s interpreter: its files as site-packages would hold them, no environment made."""
        ...

    def install_requirements(self, interp: Interpreter, env_python: Path, requirements: Sequence[str]) -> proc.Outcome:
        """Requirement strings into an environment (a build backend, asked for its dynamic requirements)."""
        ...

    def resolve(self, requires: Sequence[str], interp: Interpreter) -> tuple[list[str] | None, proc.Outcome]: ...
    def build_wheel(
        self,
        interp: Interpreter,
        source: Path,
        out_dir: Path,
        config_settings: Sequence[tuple[str, str]],
        env: Mapping[str, str],
        constraints: Path,
        timeout: float,
    ) -> proc.Outcome: ...
    def refused(self, outcome: proc.Outcome) -> bool: ...
    def message(self, outcome: proc.Outcome) -> str: ...
    def launch(self, interp: Interpreter, argv: Sequence[str], cwd: Path | None = None) -> list[str]: ...
    def run(
        self,
        interp: Interpreter,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        stdin: str | None = None,
    ) -> proc.Outcome: ...


def parse_installers(spec: str | Sequence[str], where: str = "--installer") -> tuple[Installer, ...]:
    """'uv', 'pip', 'pip,uv' (or a list) -> enum tuple, once; the first builds and runs the calls."""
    names = [n.strip() for n in (spec.split(",") if isinstance(spec, str) else spec) if n.strip()]
    choices = [i.value for i in Installer]
    unknown = [n for n in names if n not in choices]
    if unknown or not names:
        shown = spec if isinstance(spec, str) else ",".join(spec)
        raise ConfigError(f"{where} {shown}: choose from {', '.join(choices)} (comma-separated for several)")
    return tuple(Installer(n) for n in dict.fromkeys(names))


def toolchains(installers: Sequence[Installer], cache: Path) -> tuple[Toolchain, ...]:
    """The implementations for *installers*; empty means uv when available, else pip."""
    uv = find_uv()
    if Installer.UV in installers and uv is None:
        raise HarnessError("--installer uv: uv not found on PATH nor as the `uv` package; pip install uv")
    chosen = installers or ((Installer.UV,) if uv else (Installer.PIP,))
    return tuple(UvToolchain(cache, uv) if i is Installer.UV and uv else PipToolchain(cache, uv) for i in chosen)


@dataclass(frozen=True)
class _Launching:
    """Running commands for an interpreter, on the host or through bwrap in its rootfs."""

    cache: Path
    uv: str | None  # pip environments are still created by `uv venv --seed` when uv exists (fast)

    def launch(self, interp: Interpreter, argv: Sequence[str], cwd: Path | None = None) -> list[str]:
        """*argv* as it must run for *interp*: unchanged on the host, through bwrap in a rootfs."""
        if not interp.root:
            return list(argv)
        binds: list[Path | str] = [self.cache]
        if self.uv:
            binds.append(os.path.dirname(self.uv))
        return rootfs.command(interp.root, argv, binds, cwd=cwd)

    def run(
        self,
        interp: Interpreter,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        stdin: str | None = None,
    ) -> proc.Outcome:
        # Never the caller's directory: uv reads the uv.toml or pyproject.toml [tool.uv] it finds from
        # there up (an index, no-binary...), which would change what the installer answers.
        where = cwd or self.cache
        return proc.run(self.launch(interp, argv, where), cwd=where, env=env, timeout=timeout, stdin=stdin)

    _refusal: ClassVar[re.Pattern[str]]

    def refused(self, outcome: proc.Outcome) -> bool:
        """True when the installer said the wheel's tags do not fit, not some other failure."""
        return not outcome.ok and bool(self._refusal.search(_flat(outcome.stdout + "\n" + outcome.stderr)))

    def message(self, outcome: proc.Outcome) -> str:
        """The installer's own one-line explanation."""
        flat = _flat(outcome.stderr + "\n" + outcome.stdout)
        match = self._refusal.search(flat)
        if match:  # the sentence around the match, whatever the installer's line wrapping
            start = max(flat.rfind(". ", 0, match.start()) + 2, flat.rfind(": ", 0, match.start()) + 2, 0)
            end = flat.find(". ", match.end())
            return flat[start : end if end != -1 else None].strip()
        lines = [ln.strip() for ln in (outcome.stderr + "\n" + outcome.stdout).splitlines() if ln.strip()]
        for line in lines:
            if line.lower().startswith(("error", "hint")):
                return line
        return lines[-1] if lines else f"exit {outcome.returncode}"


@dataclass(frozen=True)
class UvToolchain(_Launching):
    _refusal: ClassVar[re.Pattern[str]] = _UV_REFUSAL

    @property
    def installer(self) -> Installer:
        return Installer.UV

    @property
    def version_in_env(self) -> bool:
        return False

    @property
    def exe(self) -> str:
        assert self.uv is not None, "toolchains() makes a UvToolchain only when uv exists"
        return self.uv

    def version(self) -> str:
        return _uv_version(self.exe)

    def env_version(self, interp: Interpreter, env_python: Path) -> str:
        return self.version()

    def create_env(self, interp: Interpreter, dest: Path) -> proc.Outcome:
        argv = [self.exe, "venv", "--quiet", "--no-project", "--python", interp.path, str(dest)]
        return self.run(interp, argv, timeout=120)

    def dry_run(self, interp: Interpreter, env_python: Path, wheel: Path) -> proc.Outcome:
        argv = [self.exe, "pip", "install", "--dry-run", "--python", str(env_python), str(wheel)]
        return self.run(interp, argv, timeout=300)

    def install(self, interp: Interpreter, env_python: Path, wheel: Path) -> proc.Outcome:
        """Install one wheel as a user would: its runtime dependencies (cffi's _cffi_backend) from the index."""
        return self.run(interp, [self.exe, "pip", "install", "--python", str(env_python), str(wheel)], timeout=300)

    def install_requirements(self, interp: Interpreter, env_python: Path, requirements: Sequence[str]) -> proc.Outcome:
        return self.run(interp, [self.exe, "pip", "install", "--python", str(env_python), *requirements], timeout=600)

    def install_target(self, interp: Interpreter, env_python: Path, items: Sequence[str], target: Path) -> proc.Outcome:
        argv = [self.exe, "pip", "install", "--python", str(env_python), "--target", str(target), *items]
        return self.run(interp, argv, timeout=600)

    def resolve(self, requires: Sequence[str], interp: Interpreter) -> tuple[list[str] | None, proc.Outcome]:
        """Pin the build requirements as they resolve for *interp* today."""
        argv = [self.exe, "pip", "compile", "-", "--python", interp.path, "--no-header", "--no-annotate", "--quiet"]
        out = self.run(interp, argv, stdin="\n".join(requires) + "\n", timeout=300)
        if not out.ok:
            return None, out
        pins = [line.strip() for line in out.stdout.splitlines() if "==" in line and not line.startswith("#")]
        return sorted(pins, key=str.lower), out

    def build_wheel(
        self,
        interp: Interpreter,
        source: Path,
        out_dir: Path,
        config_settings: Sequence[tuple[str, str]],
        env: Mapping[str, str],
        constraints: Path,
        timeout: float,
    ) -> proc.Outcome:
        """A PEP 517 build in an isolated environment, build requirements held to *constraints*."""
        argv = [self.exe, "build", "--wheel", "--python", interp.path, "--out-dir", str(out_dir), str(source)]
        argv += ["--build-constraints", str(constraints)]
        # One argument per setting: a value starting with "--" would be read as a flag.
        argv += [f"--config-setting={k}={v}" for k, v in config_settings]
        return self.run(interp, argv, cwd=source, env=env, timeout=timeout)


@dataclass(frozen=True)
class PipToolchain(_Launching):
    _refusal: ClassVar[re.Pattern[str]] = _PIP_REFUSAL

    @property
    def installer(self) -> Installer:
        return Installer.PIP

    @property
    def version_in_env(self) -> bool:
        return True

    def version(self) -> str:
        return "pip (the version inside each environment)"

    def env_version(self, interp: Interpreter, env_python: Path) -> str:
        """'pip 26.0.1' as seeded into environments of *interp* (asked once per interpreter)."""
        key = (interp.id, interp.path)
        if key not in _PIP_VERSIONS:
            out = self.run(interp, [str(env_python), "-m", "pip", "--version"], timeout=60)
            _PIP_VERSIONS[key] = " ".join(out.stdout.split()[:2]) if out.ok else "pip (version unknown)"
        return _PIP_VERSIONS[key]

    def create_env(self, interp: Interpreter, dest: Path) -> proc.Outcome:
        """uv creates pip's environments too (--seed), much faster than ensurepip."""
        if self.uv:
            argv = [self.uv, "venv", "--quiet", "--no-project", "--seed", "--python", interp.path, str(dest)]
            return self.run(interp, argv, timeout=120)
        return self.run(interp, [interp.path, "-m", "venv", str(dest)], timeout=300)

    def dry_run(self, interp: Interpreter, env_python: Path, wheel: Path) -> proc.Outcome:
        return self.run(interp, [str(env_python), "-m", "pip", "install", "--dry-run", str(wheel)], timeout=300)

    def install(self, interp: Interpreter, env_python: Path, wheel: Path) -> proc.Outcome:
        return self.run(interp, [str(env_python), "-m", "pip", "install", "--no-cache-dir", str(wheel)], timeout=300)

    def install_requirements(self, interp: Interpreter, env_python: Path, requirements: Sequence[str]) -> proc.Outcome:
        return self.run(interp, [str(env_python), "-m", "pip", "install", *requirements], timeout=600)

    def install_target(self, interp: Interpreter, env_python: Path, items: Sequence[str], target: Path) -> proc.Outcome:
        argv = [str(env_python), "-m", "pip", "install", "--no-cache-dir", "--target", str(target), *items]
        return self.run(interp, argv, timeout=600)

    def resolve(self, requires: Sequence[str], interp: Interpreter) -> tuple[list[str] | None, proc.Outcome]:
        if not requires:  # pip refuses an empty install ("You must give at least one requirement"); nothing to pin
            return [], proc.Outcome(("pip", "install", "(no build requirements)"), 0, "", "", 0.0)
        argv = [interp.path, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", "-"]
        out = self.run(interp, [*argv, *requires], timeout=300)
        if not out.ok:
            return None, out
        try:
            report = pip_report(out)
        except HarnessError as exc:  # the failed resolution's message says why
            return None, dataclasses.replace(out, stderr=f"{out.stderr}\nerror: {exc}")
        pins = [f"{item.metadata.name}=={item.metadata.version}" for item in report.install]
        return sorted(pins, key=str.lower), out

    def build_wheel(
        self,
        interp: Interpreter,
        source: Path,
        out_dir: Path,
        config_settings: Sequence[tuple[str, str]],
        env: Mapping[str, str],
        constraints: Path,
        timeout: float,
    ) -> proc.Outcome:
        argv = [interp.path, "-m", "pip", "wheel", "--no-deps", "-w", str(out_dir), str(source)]
        argv += [f"--config-settings={k}={v}" for k, v in config_settings]
        # pip hands PIP_CONSTRAINT on to the pip that fills the isolated build environment.
        return self.run(interp, argv, cwd=source, env={**env, "PIP_CONSTRAINT": str(constraints)}, timeout=timeout)


def _flat(text: str) -> str:
    """uv wraps long messages to the terminal width; match on one line."""
    return " ".join(text.split())
