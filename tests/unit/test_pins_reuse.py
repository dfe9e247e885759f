"""Build requirements resolved by one run and reused by the next while young (a warm run asks no index)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from harness.build import requires
from harness.infra import proc
from harness.model import Installer, Interpreter
from tests.conftest import recorded


class Counting:
    """A toolchain that answers `resolve` as uv would and counts the questions (nothing else is called)."""

    installer = Installer.UV

    def __init__(self) -> None:
        self.asked = 0

    def version(self) -> str:
        return "uv 0.13.9"

    def resolve(self, requires: list[str], interp: Interpreter) -> tuple[list[str] | None, proc.Outcome]:
        self.asked += 1
        pins = [f"{r}==1.0" for r in requires]
        return pins, proc.Outcome(("uv", "pip", "compile", "-"), 0, "\n".join(pins), "", 0.3)


@pytest.fixture
def interp(tmp_path: Path) -> Interpreter:
    exe = tmp_path / "python3"
    exe.write_bytes(b"binary")
    return Interpreter.from_json({**recorded("cp312").to_json(), "path": str(exe)})


def resolve(toolchain: Any, interp: Interpreter, cache: Path, fresh: bool = False) -> list[str] | None:
    requires._RESOLVED.clear()  # a new run: nothing remembered in the process
    return requires._resolve_once(toolchain, ["setuptools"], interp, cache, fresh)[0]


def test_a_second_run_reuses_a_young_resolution(interp: Interpreter, tmp_path: Path) -> None:
    toolchain = Counting()
    assert resolve(toolchain, interp, tmp_path / "cache") == ["setuptools==1.0"]
    assert resolve(toolchain, interp, tmp_path / "cache") == ["setuptools==1.0"]
    assert toolchain.asked == 1


def test_an_old_resolution_or_rebuild_asks_again(interp: Interpreter, tmp_path: Path) -> None:
    toolchain = Counting()
    cache = tmp_path / "cache"
    resolve(toolchain, interp, cache)
    (stored,) = (cache / "pins").iterdir()
    data = json.loads(stored.read_text())
    stored.write_text(json.dumps({**data, "at": time.time() - requires.PINS_MAX_AGE_S - 1}))
    resolve(toolchain, interp, cache)
    assert toolchain.asked == 2
    resolve(toolchain, interp, cache, fresh=True)  # --rebuild
    assert toolchain.asked == 3


def test_a_rebuilt_interpreter_asks_again(interp: Interpreter, tmp_path: Path) -> None:
    toolchain = Counting()
    resolve(toolchain, interp, tmp_path / "cache")
    Path(interp.path).write_bytes(b"rebuilt binary")  # another size: another identity
    resolve(toolchain, interp, tmp_path / "cache")
    assert toolchain.asked == 2
