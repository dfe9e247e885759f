"""cases.toml fed anything TOML can hold: shared files that stay inside their case, or exit 2 naming the key."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.config import casegen
from harness.errors import ConfigError
from harness.infra.paths import relative_problem
from tests.conftest import REPO

# Keys and strings lean towards the interesting: path separators, dots, placeholders and real names.
_PIECES = st.sampled_from(
    ["..", ".", "/", "src", "{module}", "{x}", "sysconfig", "c-api", "facts.h", ":", " ", "\x1b", "é"]
)
_TEXT = st.one_of(st.text(max_size=12), st.lists(_PIECES, max_size=5).map("".join))
_SCALAR = st.one_of(_TEXT, st.integers(), st.floats(allow_nan=True), st.booleans())
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_TEXT, inner, max_size=3)),
    max_leaves=8,
)
_CASE_ID = st.one_of(_TEXT, st.just("sysconfig/c-api"), st.just("setuptools/c-api"))
_MANIFEST = st.dictionaries(
    _CASE_ID,
    st.one_of(_VALUE, st.dictionaries(_TEXT, st.one_of(_TEXT, st.just("c_api.c"), _VALUE), max_size=4)),
    max_size=4,
)


def _cases(tmp: Path) -> Path:
    cases = tmp / "extensions"
    if not cases.exists():
        for case in ("sysconfig/c-api", "setuptools/c-api"):
            (cases / case).mkdir(parents=True)
            shutil.copy(REPO / "extensions" / case / "case.toml", cases / case / "case.toml")
        shutil.copytree(REPO / "extensions" / "_shared", cases / "_shared")
    return cases


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_MANIFEST)
def test_any_manifest_is_files_inside_their_case_or_named_problems(data: dict[str, Any], tmp_path: Path) -> None:
    cases = _cases(tmp_path)
    try:
        files = casegen.parse_manifest(cases, data)
    except ConfigError as exc:
        problems = exc.problems
    else:
        problems = []
    path = str(casegen.manifest_path(cases))
    for problem in problems:  # each names the file and the case (and key) it is about
        assert problem.startswith(f"{path}: ["), problem
    if problems:
        return
    for shared in files:
        assert shared.case in data
        assert relative_problem(shared.path) is None
        assert relative_problem(shared.template) is None
        assert (cases / shared.case / shared.path).resolve().is_relative_to(cases / shared.case)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(st.binary(max_size=60), st.text(max_size=60).map(str.encode)))
def test_any_bytes_as_cases_toml_is_a_config_error_or_files(raw: bytes, tmp_path: Path) -> None:
    cases = _cases(tmp_path)
    casegen.manifest_path(cases).write_bytes(raw)
    problems: list[str] = []
    try:
        casegen.load_manifest(cases)
    except ConfigError as exc:
        problems = exc.problems
    assert all(p.startswith(str(casegen.manifest_path(cases))) for p in problems), problems
