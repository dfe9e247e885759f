"""python3, python3.X[t] and pypy3[.X] on PATH (pyenv's shims skipped: pyenv finds those itself)."""

from __future__ import annotations

import os
import re

from harness.interpreters.providers.base import Candidate, Context
from harness.model import Provider

NAME = Provider("path")
_PATH_NAME = re.compile(r"(python3(\.\d+t?)?|pypy3(\.\d+)?)")


class OnPath:
    name = NAME
    source = True
    required = False

    def candidates(self, ctx: Context) -> list[Candidate]:
        found: list[Candidate] = []
        seen: set[str] = set()
        for directory in os.environ.get("PATH", "").split(os.pathsep):
            # pyenv shims only redirect to pyenv's versions (found directly) and fail for inactive ones.
            if not directory or directory.rstrip("/").endswith("/shims") or directory in seen:
                continue
            seen.add(directory)
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                continue
            for name in names:
                exe = os.path.join(directory, name)
                if _PATH_NAME.fullmatch(name) and os.access(exe, os.X_OK) and os.path.isfile(exe):
                    found.append(Candidate(exe, NAME))
        return found

    def note_when_empty(self, ctx: Context) -> str:
        return ""


PROVIDER = OnPath()
