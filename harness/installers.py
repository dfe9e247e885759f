"""The real installers and build frontends: uv when available, pip otherwise. Commands only, no policy."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import proc
from .errors import HarnessError
from .interpreters import find_uv
from .model import Installer

# What each installer prints when the tags rule a wheel out (as opposed to any other failure).
_REFUSAL = re.compile(
    r"is not a supported wheel on this platform"  # pip
    r"|dependency is incompatible with the current platform"  # uv
    r"|is not compatible with the current platform"  # uv, other phrasing
    r"|has no wheels with a matching [\w ]*tag",  # uv's resolver: Python version / ABI / platform tag
)


@functools.cache
def _uv_version(uv: str) -> str:
    out = proc.run([uv, "--version"], timeout=30)
    return " ".join(out.stdout.split()[:2]) or "uv (unknown version)"


@dataclass(frozen=True)
class Toolchain:
    """One installer, used for build environments, cell environments and installs."""

    installer: Installer
    uv: str | None

    @classmethod
    def choose(cls, requested: Installer | None) -> Toolchain:
        uv = find_uv()
        if requested is Installer.UV and uv is None:
            raise HarnessError("--installer uv: uv not found on PATH nor as the `uv` package; pip install uv")
        if requested is None:
            requested = Installer.UV if uv else Installer.PIP
        return cls(requested, uv)

    def version(self) -> str:
        if self.installer is Installer.UV and self.uv:
            return _uv_version(self.uv)
        return "pip (the version inside each environment)"

    # -- builds --------------------------------------------------------------------------

    def resolve(self, requires: Sequence[str], python: str) -> tuple[list[str] | None, proc.Outcome]:
        """Pin the build requirements as they resolve for *python* today."""
        if self.installer is Installer.UV and self.uv:
            out = proc.run(
                [self.uv, "pip", "compile", "-", "--python", python, "--no-header", "--no-annotate", "--quiet"],
                stdin="\n".join(requires) + "\n",
                timeout=300,
            )
            if not out.ok:
                return None, out
            pins = [line.strip() for line in out.stdout.splitlines() if "==" in line and not line.startswith("#")]
            return sorted(pins, key=str.lower), out
        out = proc.run(
            [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", "-", *requires],
            timeout=300,
        )
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
        python: str,
        source: Path,
        out_dir: Path,
        config_settings: Sequence[tuple[str, str]],
        env: Mapping[str, str],
        constraints: Path,
        timeout: float,
    ) -> proc.Outcome:
        """A PEP 517 build in an isolated environment, build requirements held to *constraints*."""
        settings = [f"{k}={v}" for k, v in config_settings]
        if self.installer is Installer.UV and self.uv:
            cmd = [self.uv, "build", "--wheel", "--python", python, "--out-dir", str(out_dir), str(source)]
            cmd += ["--build-constraints", str(constraints)]
            # One argument per setting: a value starting with "--" would be read as a flag.
            cmd += [f"--config-setting={s}" for s in settings]
            return proc.run(cmd, env=env, timeout=timeout)
        cmd = [python, "-m", "pip", "wheel", "--no-deps", "-w", str(out_dir), str(source)]
        cmd += [f"--config-settings={s}" for s in settings]
        # pip hands PIP_CONSTRAINT on to the pip that fills the isolated build environment.
        return proc.run(cmd, env={**env, "PIP_CONSTRAINT": str(constraints)}, timeout=timeout)

    # -- cells ---------------------------------------------------------------------------

    def create_env(self, python: str, dest: Path) -> proc.Outcome:
        if self.installer is Installer.UV and self.uv:
            return proc.run([self.uv, "venv", "--quiet", "--no-project", "--python", python, str(dest)], timeout=120)
        return proc.run([python, "-m", "venv", str(dest)], timeout=300)

    def install(self, env_python: Path, wheel: Path) -> proc.Outcome:
        """Install one wheel as a user would: its runtime dependencies (cffi's _cffi_backend) from the index."""
        if self.installer is Installer.UV and self.uv:
            return proc.run([self.uv, "pip", "install", "--python", str(env_python), str(wheel)], timeout=300)
        cmd = [str(env_python), "-m", "pip", "install", "--no-cache-dir", str(wheel)]
        return proc.run(cmd, timeout=300)

    def describe_in(self, env_python: Path) -> str:
        """'uv 0.13.9' or 'pip 24.0', as used for one environment."""
        if self.installer is Installer.UV:
            return self.version()
        out = proc.run([str(env_python), "-m", "pip", "--version"], timeout=60)
        return " ".join(out.stdout.split()[:2]) if out.ok else "pip (version unknown)"

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
