"""CPython built from a source checkout, not installed: `python` in ~/cpython/build*/ (out-of-tree builds,
e.g. `../configure` run in build-debug/) and in ~/cpython itself. $ABI_HARNESS_CPYTHON_SRC names another
checkout. Opt in with "local" in [discovery] sources; each build becomes its own column (cp315-local)."""

from __future__ import annotations

import os
from pathlib import Path

from ..model import Provider
from .base import Candidate, Context

NAME = Provider("local")


def checkout() -> Path:
    return Path(os.environ.get("ABI_HARNESS_CPYTHON_SRC") or Path.home() / "cpython").expanduser()


class Local:
    name = NAME
    source = True
    required = False

    def candidates(self, ctx: Context) -> list[Candidate]:
        src = checkout()
        found = []
        for build_dir in [src, *sorted(src.glob("build*"))]:
            exe = build_dir / "python"
            if exe.is_file() and os.access(exe, os.X_OK):
                found.append(Candidate(str(exe), NAME))
        return found

    def note_when_empty(self, ctx: Context) -> str:
        return f"no built CPython ({checkout()}/python or {checkout()}/build*/python)"


PROVIDER = Local()
