"""The build's files, read through their types: a case's [build-system], the wheel cache's artifact.json,
the backend's cached answer and a remembered resolution (recorded from real builds). A cache entry that
does not fit is a miss (built or asked again), never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import msgspec
import pytest

from harness.build import keys, requires, wheel
from harness.errors import ConfigError
from tests.conftest import FIXTURES, REPO

RECORDED: dict[str, Any] = json.loads((FIXTURES / "build_keys" / "skbuild-dynamic.json").read_text())
ARTIFACT = {
    k: RECORDED[k] for k in ("wheel", "spec", "tools", "dynamic_requires", "key_facts", "frontend", "duration_s")
}


def test_every_case_pyproject_is_read_with_the_backend_it_names() -> None:
    for pyproject in sorted((REPO / "extensions").glob("*/*/pyproject.toml")):
        assert keys.build_system(pyproject.parent).build_backend in pyproject.read_text(), pyproject


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[build-system]\nrequires = "setuptools"\n', "build-system.requires: expected array, got str"),
        ("[build-system]\nrequires = [1]\n", "build-system.requires[0]: expected str, got int"),
        ('[build-system]\nbuild-backend = ["x"]\n', "build-system.build-backend: expected str, got array"),
        ("build-system = 3\n", "build-system: expected object, got int"),
        ("[build-system\n", "not valid TOML"),
    ],
)
def test_a_pyproject_that_does_not_fit_names_file_and_key(tmp_path: Path, text: str, named: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        keys.build_requires(tmp_path)
    assert str(tmp_path / "pyproject.toml") in str(caught.value)
    assert named in str(caught.value)


def test_pep518_defaults_without_a_build_system(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert keys.build_requires(tmp_path) == ["setuptools"]


def _entry(tmp_path: Path, meta: object) -> Path:
    entry: Path = tmp_path / "wheels" / RECORDED["key"]
    entry.mkdir(parents=True)
    (entry / RECORDED["wheel"]).write_bytes(b"PK")
    (entry / "artifact.json").write_text(json.dumps(meta, indent=1))
    return entry


def test_a_recorded_artifact_json_is_read_and_written_byte_identically(tmp_path: Path) -> None:
    entry = _entry(tmp_path, ARTIFACT)
    assert wheel._cached_wheel(entry) == entry / RECORDED["wheel"]
    meta = msgspec.json.decode((entry / "artifact.json").read_bytes(), type=wheel.ArtifactMeta)
    assert json.dumps(msgspec.to_builtins(meta), indent=1) == (entry / "artifact.json").read_text()


@pytest.mark.parametrize(
    "damage",
    [
        {"wheel": 5},
        {"wheel": "../../../etc/hostname"},
        {"wheel": "other.whl"},  # names no file in the entry
        {"tools": "cython==3.3.1"},
        {"duration_s": "fast"},
        {"extra": 1},
    ],
)
def test_an_artifact_json_that_does_not_fit_is_a_miss(tmp_path: Path, damage: dict[str, object]) -> None:
    assert wheel._cached_wheel(_entry(tmp_path, {**ARTIFACT, **damage})) is None


def test_an_unreadable_artifact_json_is_a_miss(tmp_path: Path) -> None:
    entry = _entry(tmp_path, ARTIFACT)
    (entry / "artifact.json").write_bytes(b"\xff\xfe[")
    assert wheel._cached_wheel(entry) is None
    shutil.rmtree(entry)
    assert wheel._cached_wheel(entry) is None


def test_a_cached_backend_answer_is_read_or_asked_again(tmp_path: Path) -> None:
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps(RECORDED["requires_answer"], indent=1))
    assert requires._known_answer(answer) == RECORDED["requires_answer"]["requires"]
    damaged: object
    for damaged in ({**RECORDED["requires_answer"], "requires": [1]}, {"requires": ["cmake"]}, [], "x"):
        answer.write_text(json.dumps(damaged))
        assert requires._known_answer(answer) is None
    assert requires._known_answer(tmp_path / "absent.json") is None


def test_a_remembered_resolution_is_reused_only_when_whole_and_young(tmp_path: Path) -> None:
    path = tmp_path / "pins.json"
    shutil.copy(FIXTURES / "build_keys" / "pins-recorded.json", path)
    recorded = json.loads(path.read_text())
    known = requires._remembered(path, recorded["at"] + 60)
    assert known is not None
    pins, out = known
    assert pins == recorded["pins"]
    assert list(out.cmd) == recorded["cmd"]
    assert out.ok
    assert requires._remembered(path, recorded["at"] + requires.PINS_MAX_AGE_S + 1) is None  # too old
    for damaged in ({**recorded, "at": "yesterday"}, {**recorded, "pins": [None]}, {"at": recorded["at"]}):
        path.write_text(json.dumps(damaged))
        assert requires._remembered(path, recorded["at"]) is None
