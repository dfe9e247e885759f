"""A build whose backend refused is remembered under its key, so a warm run does not compile it again only
to fail the same way; the entry is typed, bounded in age, and a miss whenever it does not fit. The
failure is a real one: maturin/pyo3's abi3t build on Debian's 3.15, recorded from a run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.build import wheel
from harness.build.keys import BuildFailure
from harness.build.requires import PINS_MAX_AGE_S
from tests.conftest import FIXTURES

LOG = (FIXTURES / "build_keys" / "failed-maturin_pyo3_abi3t_cp315.log").read_text()
SPEC = "maturin/pyo3:abi3t:cp315"
KEY = "ff211296c54bda8e32a6"
REASON = "build failed (exit 2): cause: The build backend returned an error"


def _failure(cache: Path) -> BuildFailure:
    return BuildFailure(SPEC, REASON, cache / "logs" / "x.log", (("maturin", "1.16.0"),))


def test_a_remembered_failure_comes_back_as_the_build_saw_it(tmp_path: Path) -> None:
    wheel.remember_failure(tmp_path, KEY, _failure(tmp_path), LOG)
    again = wheel.remembered_failure(tmp_path, SPEC, KEY, time.time())
    assert again is not None
    assert (again.spec_id, again.reason, again.tools, again.cached) == (SPEC, REASON, (("maturin", "1.16.0"),), True)
    assert again.build_log.read_text() == LOG  # the log, written again where the run copies it from
    assert again.build_log.parent == tmp_path / "logs"


@pytest.mark.parametrize(
    ("spec", "age", "why"),
    [
        (SPEC, PINS_MAX_AGE_S + 1, "too old: a failure of the moment heals"),
        (SPEC, -60.0, "from the future: a clock that moved"),
        ("setuptools/cython:abi3t:cp315", 0.0, "another build's entry"),
    ],
)
def test_an_entry_out_of_bounds_is_a_miss(tmp_path: Path, spec: str, age: float, why: str) -> None:
    wheel.remember_failure(tmp_path, KEY, _failure(tmp_path), LOG)
    assert wheel.remembered_failure(tmp_path, spec, KEY, time.time() + age) is None, why


@pytest.mark.parametrize("damage", [b"", b"{", b'{"at": "yesterday"}', b"[1, 2]", b'{"at": 1, "extra": 2}'])
def test_a_damaged_entry_is_a_miss_not_a_traceback(tmp_path: Path, damage: bytes) -> None:
    wheel.remember_failure(tmp_path, KEY, _failure(tmp_path), LOG)
    (tmp_path / "build-failures" / f"{KEY}.json").write_bytes(damage)
    assert wheel.remembered_failure(tmp_path, SPEC, KEY, time.time()) is None
