"""A case's files: which of them go into a build, and the {placeholder} rendering its strings use.

Config owns them because casegen copies and renders cases too; build reads them from here.
"""

from __future__ import annotations

from pathlib import Path

# Build output a backend may leave in a case directory: never part of the case.
IGNORED = ("__pycache__", "build", "dist", ".mesonpy-build", "target")


def source_files(case_dir: Path) -> list[Path]:
    """The case's files that go into a build (and into its hash), sorted."""
    files = []
    for path in sorted(case_dir.rglob("*")):
        rel = path.relative_to(case_dir)
        if path.is_file() and not any(p in IGNORED or p.endswith(".egg-info") for p in rel.parts):
            files.append(path)
    return files


def render(template: str, values: dict[str, str]) -> str:
    """case.toml strings may use {py_api}, {limited_api_hex}, {min_python}, {module}."""
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out
