"""The shared cache's publishing rules: a reader sees all or nothing, the first publisher wins, locks hold."""

from __future__ import annotations

import errno
import fcntl
from pathlib import Path

import pytest

from harness.infra import atomic


def test_write_text_replaces_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "probes" / "key.json"
    atomic.write_text(target, "old")
    atomic.write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["key.json"]


def test_write_text_failure_keeps_the_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "key.json"
    target.write_text("old")

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("harness.infra.atomic.os.replace", full)
    with pytest.raises(OSError, match="No space left"):
        atomic.write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["key.json"]


def test_point_swaps_a_relative_symlink_and_leaves_no_temporary(tmp_path: Path) -> None:
    (tmp_path / "run-1").mkdir()
    (tmp_path / "run-2").mkdir()
    link = tmp_path / "latest"
    atomic.point(link, "run-1")
    atomic.point(link, "run-2")
    assert link.readlink() == Path("run-2")  # relative: the results directory can move
    assert link.resolve() == (tmp_path / "run-2").resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "run-1", "run-2"]


def test_no_hand_rolled_temporary_files_outside_atomic() -> None:
    """Every cache and run-directory file goes through atomic.write_text / atomic.point: no other module
    renames a temporary file into place or swaps a symlink itself."""
    harness = Path(atomic.__file__).parent.parent
    found = []
    for path in sorted(harness.rglob("*.py")):
        if path.name == "atomic.py" or "resources" in path.parts:
            continue
        text = path.read_text()
        found += [
            f"{path.relative_to(harness)}: {word}"
            for word in ("tmp.replace(", "symlink_to(", "os.replace(")
            if word in text
        ]
    assert found == []


def test_publish_dir_first_one_wins(tmp_path: Path) -> None:
    ours, theirs, dest = tmp_path / "ours", tmp_path / "theirs", tmp_path / "wheels" / "key"
    for d, text in ((ours, "ours"), (theirs, "theirs")):
        d.mkdir()
        (d / "artifact.json").write_text(text)
    assert atomic.publish_dir(theirs, dest) is True
    assert atomic.publish_dir(ours, dest) is False
    assert (dest / "artifact.json").read_text() == "theirs"
    assert not ours.exists()


def test_locked_excludes_another_holder(tmp_path: Path) -> None:
    lock = tmp_path / "debian" / ".trixie.lock"
    with atomic.locked(lock), lock.open("a") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with lock.open("a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released after the block
