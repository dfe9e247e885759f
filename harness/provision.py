"""Install interpreters the host lacks into the harness cache, idempotently, by each provider that can.

The providers that provision (base.Provisioner: today a Debian rootfs and uv's builds) do the work;
this step picks them from the registry. Provisioned interpreters are then discovered like any other.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Sequence
from pathlib import Path

from . import providers
from .errors import ConfigError
from .providers import Say


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
