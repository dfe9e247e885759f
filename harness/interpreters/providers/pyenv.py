"""pyenv's installed versions ($PYENV_ROOT/versions/*/bin)."""

from __future__ import annotations

import os
from pathlib import Path

from harness.interpreters.providers.base import Candidate, Context
from harness.model import Provider

NAME = Provider("pyenv")


class Pyenv:
    name = NAME
    source = True
    required = False

    def candidates(self, ctx: Context) -> list[Candidate]:
        root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
        found = []
        for version_dir in sorted((root / "versions").glob("*")):
            for name in ("python3", "pypy3", "python"):
                exe = version_dir / "bin" / name
                if exe.is_file():
                    found.append(Candidate(str(exe), NAME))
                    break
        return found

    def note_when_empty(self, ctx: Context) -> str:
        return ""


PROVIDER = Pyenv()
