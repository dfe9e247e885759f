"""Read a check corpus (corpus.toml): pinned requirements of real packages for `check`, and the known
issues of their wheels, in matrix.toml's [[known_issue]] form. Every problem names the file and key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from harness.config.matrix import _known_issues, _Problems, _read_toml
from harness.model import KnownIssue

SCHEMA_VERSION = 1
PACKAGE_KEYS = ("requirement", "language", "note", "import", "wheels")


@dataclass(frozen=True)
class Package:
    requirement: str  # NAME==VERSION
    language: str  # what the extension is written in / bound with: "Rust/PyO3", "C", "cffi", ...
    note: str = ""
    imports: tuple[str, ...] = ()  # what to import instead of every module the wheel lists
    wheels: tuple[str, ...] = ()  # globs over the wheels' tag sets (cp39-abi3-*): which to check; empty: all


@dataclass(frozen=True)
class Corpus:
    path: Path
    packages: tuple[Package, ...]
    known_issues: tuple[KnownIssue, ...]


def load_corpus(path: Path) -> Corpus:
    data = _read_toml(path)
    p = _Problems(path)
    p.unknown_keys(data, ("schema_version", "package", "known_issue"), "")
    if data.get("schema_version") != SCHEMA_VERSION:
        p.add("schema_version", f"expected {SCHEMA_VERSION}, got {data.get('schema_version')!r}")
    packages = []
    for i, entry in enumerate(p.get(data, "package", list, "", []) or []):
        key = f"package[{i}]."
        if not isinstance(entry, dict):
            p.add(f"package[{i}]", "expected a table (use [[package]])")
            continue
        p.unknown_keys(entry, PACKAGE_KEYS, key)
        text = p.get(entry, "requirement", str, key, "") or ""
        try:
            pinned = [s for s in Requirement(text).specifier if s.operator == "=="]
            if not pinned:
                p.add(f"{key}requirement", f"{text!r}: pin it (NAME==VERSION), so the nightly checks one release")
        except InvalidRequirement as exc:
            p.add(f"{key}requirement", f"{text!r}: {exc}")
        imports = p.get(entry, "import", list, key, []) or []
        language = p.get(entry, "language", str, key, "") or ""
        if not language:
            p.add(f"{key}language", "required: what the extension is written in (C, C++, Cython, Rust/PyO3, cffi)")
        wheels = p.get(entry, "wheels", list, key, []) or []
        note = p.get(entry, "note", str, key, "") or ""
        packages.append(Package(text, language, note, tuple(map(str, imports)), tuple(map(str, wheels))))
    if not packages:
        p.add("package", "no [[package]]: list the requirements to check")
    known = _known_issues(p, data)
    p.raise_if_any()
    return Corpus(path, tuple(packages), known)
