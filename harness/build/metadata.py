"""A wheel's core metadata (its .dist-info/METADATA headers), read without installing it.

Kept apart from the build: what a forced load's environment installs (runtime_requirements) decides
what a cell observes, so this file is part of the reuse key (cell.reuse.EXECUTION_CODE) and the build's
own code is not.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement


def _metadata_headers(wheel: Path, field: str) -> list[str]:
    """Every value of one core-metadata header (`Requires-Dist`, ...) of a wheel's METADATA."""
    prefix = field.lower() + ":"
    with zipfile.ZipFile(wheel) as zf:
        name = next((n for n in zf.namelist() if n.endswith(".dist-info/METADATA")), None)
        if name is None:
            return []
        values = []
        for line in zf.read(name).decode("utf-8", "replace").splitlines():
            if not line.strip():
                break  # headers end at the first blank line
            if line.lower().startswith(prefix):
                values.append(line.split(":", 1)[1].strip())
    return values


def requires_python(wheel: Path) -> str:
    """The wheel's Requires-Python (core metadata), or "" when it declares none."""
    return next(iter(_metadata_headers(wheel, "Requires-Python")), "")


def runtime_requirements(wheel: Path) -> tuple[str, ...]:
    """The wheel's Requires-Dist, markers kept (the installer evaluates them for the interpreter it
    installs into); requirements of an extra are left out, as a plain install leaves them out."""
    kept = []
    for text in _metadata_headers(wheel, "Requires-Dist"):
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            kept.append(text)  # the installer will say what is wrong with it
            continue
        if requirement.marker is None or "extra" not in str(requirement.marker):
            kept.append(text)
    return tuple(kept)
