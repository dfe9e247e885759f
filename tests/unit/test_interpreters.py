"""Ids and deduplication over recorded probe facts (no interpreter is run)."""

from __future__ import annotations

from dataclasses import replace

from harness.interpreters.discover import assign_ids
from harness.model import Interpreter, Provider


def unnamed(interp: Interpreter, **changes: object) -> Interpreter:
    return replace(interp, **{"id": "", **changes})  # type: ignore[arg-type]


def test_ids_from_probe_facts(cp39: Interpreter, cp313: Interpreter, cp315: Interpreter, cp315t: Interpreter) -> None:
    debug = unnamed(cp315, debug=True, path="/usr/bin/python3.15d", soabi="cpython-315d-x86_64-linux-gnu")
    ids = [i.id for i in assign_ids([unnamed(cp313), unnamed(cp315t), unnamed(cp39), unnamed(cp315), debug])]
    assert ids == ["cp39", "cp313", "cp315", "cp315d", "cp315t"]


def test_same_version_elsewhere_gets_provider_suffix(cp313: Interpreter) -> None:
    debian = unnamed(
        cp313,
        provider=Provider("debian"),
        root="/cache/debian/unstable/root",
        path="/usr/bin/python3.13",
        base_prefix="/usr",
        version=(3, 13, 18),
    )
    system = unnamed(cp313, provider=Provider("path"), path="/usr/bin/python3.13", base_prefix="/usr")
    ids = {i.id: i.provider for i in assign_ids([debian, system, unnamed(cp313)])}
    # pyenv is preferred for the bare id; a rootfs's /usr is not the host's /usr
    assert ids == {"cp313": Provider("pyenv"), "cp313-debian": Provider("debian"), "cp313-path": Provider("path")}


def test_two_paths_to_one_installation_are_one_column(cp312: Interpreter) -> None:
    venv = unnamed(cp312, provider=Provider("path"), path="/work/.nox/x/bin/python3", is_venv=True)
    (only,) = assign_ids([venv, unnamed(cp312)])
    assert only.path == cp312.path  # the real installation, not the venv
    assert only.id == "cp312"


def test_explicit_interpreter_keeps_its_id_and_wins(cp312: Interpreter) -> None:
    local = unnamed(
        cp312,
        provider=Provider("explicit"),
        id="cp312-main",
        path="/home/me/cpython/python",
        base_prefix="/home/me/cpython",
    )
    ids = sorted(i.id for i in assign_ids([unnamed(cp312), local]))
    assert ids == ["cp312", "cp312-main"]
