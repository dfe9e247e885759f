"""CPython built from a source checkout, not installed: `python` in ~/cpython/build*/ (out-of-tree builds,
e.g. `../configure` run in build-debug/) and in ~/cpython itself. $ABI_HARNESS_CPYTHON_SRC names another
checkout. Opt in with "local" in [discovery] sources; each build becomes its own column (cp315-local)."""

from __future__ import annotations

import os
from pathlib import Path

from harness.interpreters.providers.base import Candidate, Context
from harness.model import Provider

NAME = Provider("local")


def checkout() -> Path:
    return Path(os.environ.get("ABI_HARNESS_CPYTHON_SRC") or Path.home() / "cpython").expanduser()


class Local:
    name = NAME
    source = True
    required = False

    def candidates(self, ctx: Context) -> list[Candidate]:
        src = checkout()
        exes = [d / "python" for d in [src, *sorted(src.glob("build*"))]]
        return [Candidate(str(e), NAME) for e in exes if e.is_file() and os.access(e, os.X_OK)]

    def note_when_empty(self, ctx: Context) -> str:
        return f"no built CPython ({checkout()}/python or {checkout()}/build*/python)"


PROVIDER = Local()
