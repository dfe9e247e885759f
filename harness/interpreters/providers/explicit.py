"""The user's own interpreters: [[interpreters]] in matrix.toml and `--python PATH`. Always asked, never
a [discovery] source; each must exist, run and be CPython (a configuration error otherwise)."""

from __future__ import annotations

import os

from harness.errors import ConfigError
from harness.interpreters.providers.base import Candidate, Context
from harness.model import Provider

NAME = Provider("explicit")


class Explicit:
    name = NAME
    source = False
    required = True

    def candidates(self, ctx: Context) -> list[Candidate]:
        found = [Candidate(path, NAME, id_) for path, id_ in ctx.configured]
        found += [Candidate(path, NAME) for path in ctx.extra_paths]
        problems = []
        for cand in found:
            if not os.path.isfile(cand.path) or not os.access(cand.path, os.X_OK):
                where = "--python" if cand.path in ctx.extra_paths else f"{ctx.matrix_path}: [[interpreters]] path"
                problems.append(f"{where} {cand.path!r}: no executable file there; give the path of a python binary")
        if problems:
            raise ConfigError(problems)
        return found

    def note_when_empty(self, ctx: Context) -> str:
        return ""


PROVIDER = Explicit()
