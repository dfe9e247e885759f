"""The probe's output and the probe cache are decoded through ProbeFacts: what does not fit is a named
ProbeFailed (from the program) or a fresh probe (from the cache), never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness.infra import proc
from harness.interpreters.discover import ProbeFailed, probe


def program(tmp_path: Path, prints: str) -> str:
    """An 'interpreter' that prints *prints* whatever it is asked (as a [[interpreters]] path may)."""
    path = tmp_path / "bin" / "fake-python"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{prints}'\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize(
    ("prints", "says"),
    [
        ("{}", "missing required field implementation"),
        ('{"implementation": "cpython", "version": "3.x.y"}', "version: expected str matching"),
        ("[1, 2]", "expected object, got array"),
        ("hello", "not valid JSON"),
    ],
)
def test_a_program_printing_no_facts_is_a_named_probe_failure(tmp_path: Path, prints: str, says: str) -> None:
    with pytest.raises(
        ProbeFailed, match=r"is it a Python 3 interpreter\?\): its output: .*" + says.replace("[", r"\[")
    ):
        probe(program(tmp_path, prints), tmp_path / "cache")


def test_a_damaged_cache_entry_is_probed_again(tmp_path: Path) -> None:
    """A cached probe with version "3.x.y" (or any entry that is no facts) is redone, not trusted."""
    cache = tmp_path / "cache"
    facts = probe(sys.executable, cache)
    (entry,) = (cache / "probes").iterdir()
    data = json.loads(entry.read_text())
    assert data["version"] == facts.version
    entry.write_text(json.dumps({**data, "version": "3.x.y"}))
    again = probe(sys.executable, cache)
    assert again == facts
    assert json.loads(entry.read_text())["version"] == facts.version  # rewritten by the fresh probe
    entry.write_text("[1, 2]")
    assert probe(sys.executable, cache) == facts


def test_the_cache_answers_without_running_the_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    facts = probe(sys.executable, cache)
    monkeypatch.setattr(proc, "run", lambda *a, **k: pytest.fail("probed again"))
    assert probe(sys.executable, cache) == facts
