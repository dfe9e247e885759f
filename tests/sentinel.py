"""A tree snapshot: what a bad-input test compares before and after, to prove nothing outside was touched."""

from __future__ import annotations

import hashlib
from pathlib import Path


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under *root* (symlinks not followed): its kind and, for a file, its content's hash."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "link:" + str(path.readlink())
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = "file:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def sentinel(root: Path) -> Path:
    """A small tree outside the harness's roots that no command may touch."""
    victim = root / "victim"
    (victim / "sub").mkdir(parents=True, exist_ok=True)
    (victim / "keep.txt").write_text("do not delete\n")
    (victim / "sub" / "data").write_text("precious\n")
    return victim
