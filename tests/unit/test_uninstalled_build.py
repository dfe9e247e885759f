"""A CPython run from its build tree (`./python` after `make`, not installed): what the probe reports and
how discovery and the reuse key treat it. No CPython checkout exists on this machine: the build's facts are
a recorded installed probe (Debian's 3.15.2) with what sysconfig says inside a build tree put in its place
(sys.prefix stays the configured /usr/local; sysconfig.is_python_build() is true)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from importlib import resources
from pathlib import Path

import msgspec

from harness.cell.reuse import interpreter_files
from harness.interpreters.discover import ProbeFacts, assign_ids, from_probe
from harness.interpreters.providers import Candidate
from harness.model import Interpreter, Provider
from tests.conftest import recorded


def build_facts(build_dir: str) -> dict[str, object]:
    facts = recorded("cp315").to_json()
    facts.pop("id")
    return {
        **facts,
        "path": f"{build_dir}/python",
        "prefix": "/usr/local",
        "base_prefix": "/usr/local",
        "root": "",
        "build_dir": build_dir,
    }


def built(build_dir: str) -> Interpreter:
    facts = msgspec.convert(build_facts(build_dir), ProbeFacts)
    return from_probe(Candidate(f"{build_dir}/python", Provider("explicit")), facts)


def test_the_probe_reports_an_installed_interpreter_as_installed() -> None:
    """The real probe, run by this interpreter (installed): no build directory."""
    source = resources.files("harness.resources").joinpath("probe.py").read_text()
    out = subprocess.run([sys.executable, "-I", "-c", source], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1])["build_dir"] == ""


def test_uninstalled_builds_are_columns_of_their_own() -> None:
    """Two build trees of one checkout and an installed 3.15 share prefix, version and SOABI: the build
    directory keeps them apart (else discovery would call them one installation)."""
    installed = replace(recorded("cp315"), id="", base_prefix="/usr/local", root="")
    found = assign_ids([built("/src/cpython"), built("/src/cpython/build-pgo"), installed])
    assert sorted(i.build_dir for i in found) == ["", "/src/cpython", "/src/cpython/build-pgo"]
    assert len({i.id for i in found}) == 3
    assert "not installed" in built("/src/cpython").describe()


def test_installed_interpreters_keep_their_recorded_form() -> None:
    """No build_dir key where there is none: records and reuse keys of installed interpreters do not change."""
    assert "build_dir" not in recorded("cp315").to_json()
    again = Interpreter.from_json(built("/src/cpython").to_json())
    assert again.build_dir == "/src/cpython"


def test_the_reuse_key_covers_the_libpython_make_left_in_the_build_tree(tmp_path: Path) -> None:
    (tmp_path / "python").write_bytes(b"exe")
    (tmp_path / "libpython3.15.so.1.0").write_bytes(b"lib")
    interp = replace(built(str(tmp_path)), path=str(tmp_path / "python"))
    assert str(tmp_path / "libpython3.15.so.1.0") in interpreter_files(interp)
