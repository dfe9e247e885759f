"""Where the harness keeps things outside the repository."""

from __future__ import annotations

import os
from pathlib import Path


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
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
