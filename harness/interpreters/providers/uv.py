"""uv-managed interpreters: the user's own `uv python install`s and those `provision uv` put in the cache."""

from __future__ import annotations

import argparse
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec

from harness.errors import HarnessError
from harness.infra import atomic, proc
from harness.interpreters.providers.base import Candidate, Context, Say
from harness.model import Provider
from harness.schema.decode import decode_json

NAME = Provider("uv")
UV_VERSIONS = ("3.13t", "3.14t", "3.15t")


def find_uv() -> str | None:
    """uv on PATH, else the binary shipped by the `uv` PyPI package in this environment."""
    uv = shutil.which("uv")
    if uv:
        return uv
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return None


def uv_python_dir(cache: Path) -> Path:
    """Where `provision uv` installs interpreters (UV_PYTHON_INSTALL_DIR), inside the harness cache."""
    return cache / "uv-python"


class UvPython(msgspec.Struct, frozen=True):
    """One entry of `uv python list --output-format json` (uv 0.13): the part read; uv writes more keys."""

    path: str | None = None  # None: a download uv knows of, not installed


def installed_paths(out: proc.Outcome) -> list[str]:
    """The interpreter paths uv listed, or HarnessError naming what in its answer does not fit."""
    source = "uv python list --output-format json"
    entries = decode_json(out.stdout, tuple[UvPython, ...], source=source, error=HarnessError)
    return [entry.path for entry in entries if entry.path]


class Uv:
    name = NAME
    source = True
    required = False
    unread = ""  # why uv's last answer was not read (said when nothing was found)

    def candidates(self, ctx: Context) -> list[Candidate]:
        uv = find_uv()
        if uv is None:
            return []
        found: dict[str, Candidate] = {}
        self.unread = ""
        for install_dir in (None, uv_python_dir(ctx.provision_dir)):
            # An empty PATH: uv would otherwise ask every python on PATH (each pyenv shim a bash script:
            # 1.3 s a call here) for interpreters that are not its own and are dropped below anyway.
            env = {"PATH": "", **({"UV_PYTHON_INSTALL_DIR": str(install_dir)} if install_dir else {})}
            argv = [uv, "python", "list", "--only-installed", "--output-format", "json"]
            out = proc.run(argv, env=env, timeout=60)
            if not out.ok:
                continue
            try:
                paths = installed_paths(out)
            except HarnessError as exc:
                self.unread = str(exc)
                continue
            managed = str(install_dir) if install_dir else "/uv/python/"
            # uv also lists interpreters it saw on PATH or in pyenv; keep only its own installs.
            found.update((path, Candidate(path, NAME)) for path in paths if managed in path)
        return sorted(found.values(), key=lambda c: c.path)

    def note_when_empty(self, ctx: Context) -> str:
        return self.unread if find_uv() else "uv not found (pip install uv)"

    def add_provision_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--uv-python",
            action="append",
            metavar="VERSION",
            help=f"uv python install requests (default: {' '.join(UV_VERSIONS)})",
        )

    def provision(self, into: Path, options: argparse.Namespace, say: Say) -> None:
        provision_uv(into, options.uv_python or list(UV_VERSIONS), say)


def provision_uv(cache: Path, versions: list[str], say: Say, timeout: float = 120) -> list[str]:
    """`uv python install` each version into the cache; an unreachable download is one line, not a stop."""
    uv = find_uv()
    if uv is None:
        say("uv: not found (pip install uv); skipping uv-managed interpreters")
        return list(versions)
    env = {"UV_PYTHON_INSTALL_DIR": str(uv_python_dir(cache)), "UV_HTTP_TIMEOUT": "10", "UV_HTTP_RETRIES": "1"}

    def one(version: str) -> tuple[str, proc.Outcome]:
        return version, proc.run([uv, "python", "install", version], env=env, timeout=timeout)

    failed = []
    with (
        atomic.locked(uv_python_dir(cache).with_name(".uv-python.lock")),
        ThreadPoolExecutor(max_workers=len(versions) or 1) as pool,
    ):
        for version, out in pool.map(one, versions):
            if out.ok:
                say(f"uv: {version}: {proc.last_line(out.stderr or out.stdout, default='installed')}")
            else:
                failed.append(version)
                say(
                    f"uv: {version}: could not install in {out.duration_s:.0f}s ({_cause(out)}); "
                    "continuing with the interpreters that exist"
                )
    return failed


def _cause(out: proc.Outcome) -> str:
    """uv's innermost cause, e.g. 'failed to lookup address information: Name or service not known'."""
    if out.timed_out:
        return "timed out"
    causes = [ln.strip().removeprefix("cause:").strip() for ln in out.stderr.splitlines() if "cause:" in ln]
    return causes[-1] if causes else proc.last_line(out.stderr, default=f"exit {out.returncode}")


PROVIDER = Uv()
