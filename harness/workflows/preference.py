"""The `preference` use case: which wheel pip and uv pick when several fit (the CLI and the nightly call it)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.build.installers import parse_installers
from harness.config.matrix import load_cases, load_matrix
from harness.errors import ConfigError
from harness.interpreters import providers
from harness.interpreters.discover import discover, select
from harness.preference import judge as preference
from harness.preference import run as preference_run
from harness.run import records as results


@dataclass(frozen=True)
class PreferenceRequest:
    """The `preference` command's options, typed."""

    matrix: Path
    cache_dir: Path
    case: str
    installer: str
    seed: int
    jobs: int
    python: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    json: bool = False
    output: Path | None = None
    keep_output: Path | None = None


def run(request: PreferenceRequest) -> int:
    matrix = load_matrix(request.matrix, providers.names())
    discovery = discover(matrix, request.cache_dir, [p for p in request.python if os.sep in p])
    cases = {c.id: c for c in load_cases(matrix.cases_dir, providers.names())}
    if request.case not in cases:
        raise ConfigError(f"--case {request.case}: no such case; choose from {', '.join(sorted(cases))}")
    pythons = (
        select(discovery, list(request.python))
        if request.python
        else preference_run.default_pythons(discovery.interpreters)
    )
    installers = parse_installers(request.installer)
    choices = [s.value for s in preference.Source]
    unknown = [s for s in request.source if s not in choices]
    if unknown:
        raise ConfigError(f"--source {', '.join(unknown)}: choose from {', '.join(choices)}")
    sources = tuple(s for s in preference.Source if s.value in request.source) or tuple(preference.Source)
    settings = preference_run.Settings(
        cases[request.case],
        matrix.targets,
        discovery.interpreters,
        pythons,
        installers,
        request.cache_dir,
        seed=request.seed,
        jobs=request.jobs,
        sources=sources,
        keep=request.keep_output,
    )
    result = preference_run.run(settings, lambda line: print(line, file=sys.stderr, flush=True))
    data = result.to_json()
    if request.output:
        results.write_json(request.output, data)
    print(json.dumps(data, indent=2) if request.json else "\n".join(preference.markdown(result)))
    return 0
