"""The wheel cache key and the dynamic-requirements key, on inputs recorded from a real build
(scikit-build-core/c-api on cp312, its recipe asking for a newer cmake and ninja than the host's)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.build.keys import digest_of
from harness.build.requires import build_backend, settings_dict
from tests.conftest import FIXTURES

RECORDED: dict[str, Any] = json.loads((FIXTURES / "build_keys" / "skbuild-dynamic.json").read_text())


def with_pins(facts: dict[str, Any], key: str, change: dict[str, str | None]) -> dict[str, Any]:
    """*facts* with pins renamed (name -> new version) or dropped (name -> None)."""
    pins = []
    for pin in facts[key]:
        name = pin.partition("==")[0]
        if name not in change:
            pins.append(pin)
        elif change[name] is not None:
            pins.append(f"{name}=={change[name]}")
    return {**facts, key: pins}


def test_recorded_key_is_reproduced_from_its_inputs() -> None:
    assert digest_of(RECORDED["key_facts"]) == RECORDED["key"]
    # the dynamic requirements the backend named are pinned among the wheel's build tools
    assert {"cmake", "ninja"} <= {p.partition("==")[0] for p in RECORDED["key_facts"]["pins"]}
    assert RECORDED["tools"] == RECORDED["key_facts"]["pins"]


@pytest.mark.parametrize(
    "change",
    [
        {"cmake": "4.4.3"},  # a dynamic pin moved
        {"ninja": "1.13.1"},
        {"cmake": None, "ninja": None},  # the dynamic ones not pinned at all (the old, dishonest key)
        {"scikit-build-core": "1.1.1"},  # a static pin moved
    ],
)
def test_every_build_requirement_pin_is_in_the_wheel_key(change: dict[str, str | None]) -> None:
    assert digest_of(with_pins(RECORDED["key_facts"], "pins", change)) != RECORDED["key"]


def test_the_backends_answer_is_asked_again_when_its_inputs_change() -> None:
    facts = RECORDED["requires_answer"]["facts"]
    key = digest_of(facts)
    assert digest_of(json.loads(json.dumps(facts))) == key  # stable across a JSON round trip
    assert digest_of(with_pins(facts, "static", {"scikit-build-core": "1.1.1"})) != key
    assert digest_of({**facts, "programs": facts["programs"][1:]}) != key  # no cmake on PATH any more
    assert digest_of({**facts, "settings": []}) != key
    assert digest_of({**facts, "env": [["CMAKE_ARGS", "-GNinja"]]}) != key


def test_config_settings_repeat_as_lists() -> None:
    settings = [("cmake.define.A", "1"), ("x", "a"), ("x", "b"), ("x", "c")]
    assert settings_dict(settings) == {"cmake.define.A": "1", "x": ["a", "b", "c"]}


def test_pep517_default_backend(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert build_backend(tmp_path) == ("setuptools.build_meta:__legacy__", [])
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["_build"]\n'
    )
    assert build_backend(tmp_path) == ("backend", ["_build"])
