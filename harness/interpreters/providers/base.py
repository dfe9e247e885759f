"""The one small Protocol every interpreter provider implements, and the values it passes around."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from harness.model import Provider

Say = Callable[[str], None]


@dataclass(frozen=True)
class Candidate:
    """A path that may be a Python interpreter, before it is probed."""

    path: str
    provider: Provider
    id: str = ""  # a user-chosen id from [[interpreters]]
    root: str = ""  # a provisioned rootfs: path is inside it (see rootfs.py)

    @property
    def host_path(self) -> str:
        return self.root + self.path if self.root else self.path


@dataclass(frozen=True)
class Context:
    """What providers may look at while finding candidates."""

    provision_dir: Path  # where `provision` put interpreters (paths.provision_dir())
    matrix_path: Path = Path("matrix.toml")  # named in errors about [[interpreters]]
    configured: tuple[tuple[str, str], ...] = ()  # [[interpreters]] (path, id)
    extra_paths: tuple[str, ...] = ()  # --python PATH


@runtime_checkable
class InterpreterProvider(Protocol):
    """Finds interpreters. Its place in the registry is its preference when two paths are one installation."""

    @property
    def name(self) -> str:
        """The registry key: `[discovery] sources`, `[build] providers`, records and ids use it."""

    @property
    def source(self) -> bool:
        """Whether `[discovery] sources` selects it; False: always asked (the user's explicit interpreters)."""

    @property
    def required(self) -> bool:
        """The user named these: one that does not run, or is not CPython, is a configuration error,
        and discovery.min_version does not apply."""

    def candidates(self, ctx: Context) -> list[Candidate]: ...

    def note_when_empty(self, ctx: Context) -> str:
        """Said as "not used: NAME: ..." when candidates() found nothing ("" to stay quiet)."""


@runtime_checkable
class Provisioner(InterpreterProvider, Protocol):
    """A provider that can also install interpreters into the cache (`python -m harness provision NAME`)."""

    def add_provision_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Its own `provision` options (prefixed with its name where ambiguous)."""

    def provision(self, into: Path, options: argparse.Namespace, say: Say) -> None:
        """Idempotent: already there is one line, not a second install. Failures raise HarnessError."""
