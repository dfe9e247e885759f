"""Install interpreters the host lacks into the harness cache, idempotently, by each provider that can.

The providers that provision (base.Provisioner: today a Debian rootfs and uv's builds) do the work;
this step picks them from the registry. Provisioned interpreters are then discovered like any other.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from harness.errors import ConfigError, HarnessError
from harness.infra import proc
from harness.interpreters import providers
from harness.interpreters.providers import Say


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every provisioner's own options on the `provision` subcommand."""
    names = list(providers.provisioners())
    parser.add_argument("providers", nargs="*", metavar="PROVIDER", help=f"{', '.join(names)} (default: all)")
    for provisioner in providers.provisioners().values():
        provisioner.add_provision_arguments(parser)


def choose(names: Sequence[str]) -> list[providers.Provisioner]:
    """The requested provisioners in registry order (all when none is named); unknown names are an error."""
    available = providers.provisioners()
    unknown = [n for n in names if n not in available]
    if unknown:
        problems = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(available), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"choose from {', '.join(available)}"
            problems.append(f"provision: unknown provider {name!r}; {hint}")
        raise ConfigError(problems)
    return [p for name, p in available.items() if not names or name in names]


def provision(names: Sequence[str], into: Path, options: argparse.Namespace, say: Say) -> None:
    for provisioner in choose(names):
        provisioner.provision(into, options, say)


def if_missing(into: Path, say: Say) -> list[str]:
    """What `run --provision` does first: every provisioner with its defaults, idempotently (each one does
    nothing when what it provides is there). Returns one "what (why)" per thing it could not get; the run
    goes on with what exists."""
    if os.geteuid() == 0 and shutil.which("apt-get"):
        # The Debian rootfs needs debootstrap and bwrap on the host; as root they can be had from apt.
        tools = [
            pkg for tool, pkg in (("debootstrap", "debootstrap"), ("bwrap", "bubblewrap")) if not shutil.which(tool)
        ]
        if tools:
            say(f"provision: apt-get install {' '.join(tools)}")
            proc.run(["apt-get", "install", "-y", "-q", *tools], env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=600)
    missing: list[str] = []
    for name, provisioner in providers.provisioners().items():
        defaults = argparse.ArgumentParser(add_help=False)
        provisioner.add_provision_arguments(defaults)
        failed: dict[str, list[str]] = {}  # cause -> what could not be had for it

        def note(line: str, failed: dict[str, list[str]] = failed) -> None:
            if "could not install" in line and "(" in line:  # uv: one line per version it could not get
                what, cause = line.split(": ", 2)[1], line.split("(", 1)[1].split(")", 1)[0]
                failed.setdefault(cause, []).append(what)
            say(line)

        try:
            provisioner.provision(into, defaults.parse_args([]), note)
        except HarnessError as exc:
            failed.setdefault(str(exc).splitlines()[0], []).append("rootfs" if name == "debian" else "")
        missing += [f"{' '.join([name, *filter(None, whats)])} ({cause})" for cause, whats in failed.items()]
    return missing
