"""The real installers and build frontends: uv when available, pip otherwise. Commands only, no policy.

Every command that touches an interpreter goes through `launch`, which runs it inside the
interpreter's rootfs (bubblewrap) when it has one, so the same code serves host and Debian columns.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import proc, rootfs
from .errors import ConfigError, HarnessError
from .interpreters import find_uv
from .model import Installer, Interpreter

# What each installer prints when the tags rule a wheel out (as opposed to any other failure).
_REFUSAL = re.compile(
    r"is not a supported wheel on this platform"  # pip
    r"|dependency is incompatible with the current platform"  # uv
    r"|is not compatible with the current platform"  # uv, other phrasing
    r"|has no wheels with a matching [\w ]*tag"  # uv's resolver: Python version / ABI / platform tag
    r"|the current Python version \([\w.+]+\) does not satisfy Python"  # uv: Requires-Python
    r"|requires a different Python",  # pip: Requires-Python
)


_PIP_VERSIONS: dict[tuple[str, str], str] = {}  # seeded pip differs per interpreter only


@functools.cache
def _uv_version(uv: str) -> str:
    out = proc.run([uv, "--version"], timeout=30)
    return " ".join(out.stdout.split()[:2]) or "uv (unknown version)"


@dataclass(frozen=True)
class Toolchain:
    """One installer, used for build environments, cell environments and installs."""

    installer: Installer
    uv: str | None
    cache: Path

    @classmethod
    def choose(cls, requested: Installer | None, cache: Path) -> Toolchain:
        uv = find_uv()
        if requested is Installer.UV and uv is None:
            raise HarnessError("--installer uv: uv not found on PATH nor as the `uv` package; pip install uv")
        if requested is None:
            requested = Installer.UV if uv else Installer.PIP
        return cls(requested, uv, cache)

    @classmethod
    def parse(cls, spec: str | None, cache: Path) -> tuple[Toolchain, ...]:
        """--installer uv | pip | pip,uv: the first builds and runs the calls; all resolve and install."""
        if not spec:
            return (cls.choose(None, cache),)
        names = [n.strip() for n in spec.split(",") if n.strip()]
        choices = [i.value for i in Installer]
        unknown = [n for n in names if n not in choices]
        if unknown or not names:
            raise ConfigError(f"--installer {spec}: choose from {', '.join(choices)} (comma-separated for several)")
        return tuple(cls.choose(Installer(n), cache) for n in dict.fromkeys(names))

    @property
    def use_uv(self) -> bool:
        return self.installer is Installer.UV and self.uv is not None

    def version(self) -> str:
        if self.use_uv and self.uv:
            return _uv_version(self.uv)
        return "pip (the version inside each environment)"

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
        return proc.run(self.launch(interp, argv, cwd), cwd=cwd, env=env, timeout=timeout, stdin=stdin)

    # -- builds --------------------------------------------------------------------------

    def resolve(self, requires: Sequence[str], interp: Interpreter) -> tuple[list[str] | None, proc.Outcome]:
        """Pin the build requirements as they resolve for *interp* today."""
        if self.use_uv and self.uv:
            argv = [self.uv, "pip", "compile", "-", "--python", interp.path, "--no-header", "--no-annotate", "--quiet"]
            out = self.run(interp, argv, stdin="\n".join(requires) + "\n", timeout=300)
            if not out.ok:
                return None, out
            pins = [line.strip() for line in out.stdout.splitlines() if "==" in line and not line.startswith("#")]
            return sorted(pins, key=str.lower), out
        argv = [interp.path, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", "-"]
        out = self.run(interp, [*argv, *requires], timeout=300)
        if not out.ok:
            return None, out
        try:
            report = json.loads(out.stdout)
            pins = [f"{i['metadata']['name']}=={i['metadata']['version']}" for i in report["install"]]
        except (json.JSONDecodeError, KeyError):
            return None, out
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
        settings = [f"{k}={v}" for k, v in config_settings]
        if self.use_uv and self.uv:
            argv = [self.uv, "build", "--wheel", "--python", interp.path, "--out-dir", str(out_dir), str(source)]
            argv += ["--build-constraints", str(constraints)]
            # One argument per setting: a value starting with "--" would be read as a flag.
            argv += [f"--config-setting={s}" for s in settings]
            return self.run(interp, argv, cwd=source, env=env, timeout=timeout)
        argv = [interp.path, "-m", "pip", "wheel", "--no-deps", "-w", str(out_dir), str(source)]
        argv += [f"--config-settings={s}" for s in settings]
        # pip hands PIP_CONSTRAINT on to the pip that fills the isolated build environment.
        return self.run(interp, argv, cwd=source, env={**env, "PIP_CONSTRAINT": str(constraints)}, timeout=timeout)

    # -- cells ---------------------------------------------------------------------------

    def create_env(self, interp: Interpreter, dest: Path) -> proc.Outcome:
        """A fresh environment; uv creates pip's too (--seed), much faster than ensurepip."""
        if self.uv:
            argv = [self.uv, "venv", "--quiet", "--no-project", "--python", interp.path, str(dest)]
            if not self.use_uv:
                argv.append("--seed")
            return self.run(interp, argv, timeout=120)
        return self.run(interp, [interp.path, "-m", "venv", str(dest)], timeout=300)

    def dry_run(self, interp: Interpreter, env_python: Path, wheel: Path) -> proc.Outcome:
        """Would the installer take this wheel here? (resolve only, nothing installed)"""
        if self.use_uv and self.uv:
            argv = [self.uv, "pip", "install", "--dry-run", "--python", str(env_python), str(wheel)]
            return self.run(interp, argv, timeout=300)
        return self.run(interp, [str(env_python), "-m", "pip", "install", "--dry-run", str(wheel)], timeout=300)

    def install(self, interp: Interpreter, env_python: Path, wheel: Path) -> proc.Outcome:
        """Install one wheel as a user would: its runtime dependencies (cffi's _cffi_backend) from the index."""
        if self.use_uv and self.uv:
            return self.run(interp, [self.uv, "pip", "install", "--python", str(env_python), str(wheel)], timeout=300)
        return self.run(interp, [str(env_python), "-m", "pip", "install", "--no-cache-dir", str(wheel)], timeout=300)

    def describe_in(self, interp: Interpreter, env_python: Path) -> str:
        """'uv 0.13.9' or 'pip 24.0', as used for one environment (the same for every env of *interp*)."""
        if self.use_uv:
            return self.version()
        key = (interp.id, interp.path)
        if key not in _PIP_VERSIONS:
            out = self.run(interp, [str(env_python), "-m", "pip", "--version"], timeout=60)
            _PIP_VERSIONS[key] = " ".join(out.stdout.split()[:2]) if out.ok else "pip (version unknown)"
        return _PIP_VERSIONS[key]

    @staticmethod
    def refused(outcome: proc.Outcome) -> bool:
        """True when the installer said the wheel's tags do not fit, not some other failure."""
        return not outcome.ok and bool(_REFUSAL.search(_flat(outcome.stdout + "\n" + outcome.stderr)))

    @staticmethod
    def message(outcome: proc.Outcome) -> str:
        """The installer's own one-line explanation."""
        flat = _flat(outcome.stderr + "\n" + outcome.stdout)
        match = _REFUSAL.search(flat)
        if match:  # the sentence around the match, whatever the installer's line wrapping
            start = max(flat.rfind(". ", 0, match.start()) + 2, flat.rfind(": ", 0, match.start()) + 2, 0)
            end = flat.find(". ", match.end())
            return flat[start : end if end != -1 else None].strip()
        lines = [ln.strip() for ln in (outcome.stderr + "\n" + outcome.stdout).splitlines() if ln.strip()]
        for line in lines:
            if line.lower().startswith(("error", "hint")):
                return line
        return lines[-1] if lines else f"exit {outcome.returncode}"


def _flat(text: str) -> str:
    """uv wraps long messages to the terminal width; match on one line."""
    return " ".join(text.split())
