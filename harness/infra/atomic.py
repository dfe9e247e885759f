"""Every cache and run-directory file is written here: write then rename, lock where two race.

A reader never sees half a file or half a directory: everything is made under a unique temporary name in
the destination's directory and renamed into place. Steps that cannot be made atomic that way (provisioning
a rootfs, installing interpreters) take an exclusive lock on a lock file for their whole duration.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from harness.infra import paths


def write_text(path: Path, text: str) -> None:
    """*path* holds *text* or what it held before, never a part of it."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """*path* holds *data* or what it held before, never a part of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def point(link: Path, target: str | Path) -> None:
    """*link* becomes a symlink to *target* (relative to the link's directory), swapped in atomically: a
    reader sees the old target or the new one, never no link."""
    tmp = link.parent / f".{link.name}.{os.getpid()}.{threading.get_ident()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    tmp.replace(link)


def write_in(root: Path, name: str, text: str) -> Path:
    """root/name holds *text*. Whatever entry had that name is replaced by a rename, so a symlink there
    (a downloaded run directory may hold one) is replaced, never written through. UnsafePath for a
    name outside the path grammar or a directory in the way; OSError when *root* cannot be written."""
    path = root / paths.check_part(name, f"{root}: file name")
    if path.is_dir() and not path.is_symlink():
        raise paths.UnsafePath(f"{path}: is a directory, not a file; remove it and run again")
    write_text(path, text)
    return path


def publish_dir(staging: Path, dest: Path) -> bool:
    """Rename the finished *staging* directory to *dest*; when another run published *dest* first, theirs
    stays (it was made from the same inputs) and ours is removed. True when ours was published."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        staging.rename(dest)  # rename(2) onto a non-empty directory fails instead of mixing the two
        return True
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not dest.is_dir():
            raise
    shutil.rmtree(staging, ignore_errors=True)
    return False


@contextlib.contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """An exclusive flock(2) on *lock_file* for the block; released by the kernel if the process dies."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
