"""Where the harness keeps things, and the one rule for paths made from data.

Ids that come from files (a run id in environment.json, a case or interpreter id, a cases.toml
destination) become parts of paths. Each such part must fit one grammar (`check_part`), and the
joined path must stay under its root once symlinks are resolved (`under`): a hostile or damaged
file can then neither write nor delete outside the directory it belongs to.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

# Letters, digits, and . _ + - ; never a separator, a leading dot (., .., hidden files) or a leading dash.
_PART = re.compile(r"[A-Za-z0-9_+][A-Za-z0-9._+-]*")
MAX_PART = 128
GRAMMAR = "letters, digits and . _ + - (not first: . or -), at most 128 characters"


class UnsafePath(ValueError):
    """A path part outside the grammar, or a path leaving its root. Callers name the file and key."""


def part_problem(text: object) -> str | None:
    """Why *text* cannot be one part of a path (a directory or file name), or None."""
    if not isinstance(text, str):
        return f"expected a string, got {type(text).__name__}"
    if not text:
        return "empty"
    if len(text) > MAX_PART:
        return f"{len(text)} characters; at most {MAX_PART}"
    if ".." in text:
        return f"{text!r} holds '..'; use {GRAMMAR}"
    if not _PART.fullmatch(text):
        return f"{text!r}: use {GRAMMAR}"
    return None


def check_part(text: str, what: str) -> str:
    """*text* if it fits the grammar; else UnsafePath saying *what* it is."""
    problem = part_problem(text)
    if problem is not None:
        raise UnsafePath(f"{what}: {problem}")
    return text


def relative_problem(text: object) -> str | None:
    """Why *text* cannot be a relative path of safe parts ("src/x.c"), or None."""
    if not isinstance(text, str) or not text:
        return part_problem(text)
    if text.startswith("/"):
        return f"{text!r} is absolute; give a path relative to its directory"
    for part in text.split("/"):
        problem = part_problem(part)
        if problem is not None:
            return f"{text!r}: part {problem}" if part else f"{text!r} has an empty part"
    return None


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def under(root: Path, *parts: str) -> Path:
    """root/parts..., each part checked (a part may be a relative path of safe parts: "src/x.c"), and
    still under *root* once every symlink on the way is resolved; else UnsafePath."""
    for part in parts:
        problem = relative_problem(part)
        if problem is not None:
            raise UnsafePath(f"{root}: {problem}")
    path = root.joinpath(*parts)
    real_root = root.resolve()
    if not _inside(path.resolve(), real_root):
        raise UnsafePath(f"{path}: leads outside {root} (through a symlink)")
    return path


def within(root: Path, path: Path) -> Path:
    """*path* itself, if it stays under *root* once symlinks are resolved; else UnsafePath."""
    if not _inside(path.resolve(), root.resolve()):
        raise UnsafePath(f"{path}: leads outside {root} (through a symlink)")
    return path


def remove_tree(root: Path, path: Path) -> None:
    """Delete *path*, a directory the harness made under *root*; refuses anything else (never follows a
    symlink, never deletes *root* itself or outside it)."""
    if path.is_symlink() or not path.exists():
        return
    real = path.resolve()
    if real == root.resolve() or not _inside(real, root.resolve()):
        raise UnsafePath(f"{path}: not under {root}; not deleted")
    shutil.rmtree(real, ignore_errors=True)


def cache_dir() -> Path:
    """$ABI_HARNESS_CACHE, else $XDG_CACHE_HOME/abi-harness, else ~/.cache/abi-harness."""
    explicit = os.environ.get("ABI_HARNESS_CACHE")
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "abi-harness").resolve()


def provision_dir() -> Path:
    """Where provisioned interpreters live: $ABI_HARNESS_PROVISION_DIR, else the default cache.

    Separate from --cache-dir, so a run with a throwaway wheel cache still finds them."""
    explicit = os.environ.get("ABI_HARNESS_PROVISION_DIR")
    return Path(explicit).expanduser().resolve() if explicit else cache_dir()


def safe_name(text: str) -> str:
    """A cell or build id as a file name: setuptools/c-api:abi3:cp39 -> setuptools_c-api_abi3_cp39."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in text).replace("..", "__")
    return name.lstrip(".-") or "_"
