"""Read matrix.toml and every case.toml once into typed objects; every error names its file and key."""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from .errors import ConfigError
from .model import (
    Case,
    Installer,
    KnownIssue,
    Matrix,
    Provider,
    Status,
    Target,
    TargetKind,
    TargetRecipe,
    Version,
    parse_version,
)

SCHEMA_VERSION = 1
BUILD_SELECTORS = ("each", "oldest", "newest")


class _Problems:
    """Collects every problem of one load, so the user fixes them all in one go."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, key: str, message: str) -> None:
        where = f"{self.path}: {key}" if key else str(self.path)
        self.items.append(f"{where}: {message}")

    def unknown_keys(self, table: dict[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
                self.add(f"{prefix}{key}", f"unknown key{hint}")

    def get(
        self, table: dict[str, Any], key: str, kind: type | tuple[type, ...], prefix: str, default: Any = None
    ) -> Any:
        value = table.get(key, default)
        if value is not None and not isinstance(value, kind):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            expected = " or ".join(k.__name__ for k in kinds)
            self.add(f"{prefix}{key}", f"expected {expected}, got {type(value).__name__} {value!r}")
            return default
        return value

    def str_table(self, table: dict[str, Any], key: str, prefix: str) -> tuple[tuple[str, str], ...]:
        value = self.get(table, key, dict, prefix, {})
        items: list[tuple[str, str]] = []
        for k, v in (value or {}).items():
            if not isinstance(v, str):
                self.add(f"{prefix}{key}.{k}", f"expected a string, got {v!r}")
            else:
                items.append((k, v))
        return tuple(items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None


def _version(problems: _Problems, value: Any, key: str) -> Version | None:
    if not isinstance(value, str):
        problems.add(key, f"expected a version string like '3.9', got {value!r}")
        return None
    try:
        return parse_version(value)
    except ValueError as exc:
        problems.add(key, str(exc))
        return None


def _enum_value(problems: _Problems, enum_type: Any, value: Any, key: str) -> Any:
    choices = [m.value for m in enum_type]
    if value in choices:
        return enum_type(value)
    close = difflib.get_close_matches(str(value), choices, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"choose from {', '.join(choices)}"
    problems.add(key, f"unknown value {value!r}; {hint}")
    return None


def _globs(p: _Problems, table: dict[str, Any], key: str, prefix: str) -> tuple[str, ...]:
    """A selector: one glob or a list of globs (default: everything)."""
    value = table.get(key, "*")
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        p.add(f"{prefix}{key}", f"expected a glob or a list of globs, got {value!r}")
        return ("*",)
    return tuple(values)


def load_matrix(path: Path) -> Matrix:
    """Parse matrix.toml; raises ConfigError listing every problem."""
    data = _read_toml(path)
    p = _Problems(path)
    p.unknown_keys(
        data,
        (
            "schema_version",
            "cases_dir",
            "timeout",
            "build_timeout",
            "installers",
            "discovery",
            "interpreters",
            "targets",
            "known_issue",
        ),
        "",
    )
    schema = data.get("schema_version", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        p.add("schema_version", f"this harness reads schema_version {SCHEMA_VERSION}, got {schema!r}")

    cases_dir = path.parent / p.get(data, "cases_dir", str, "", "extensions")
    timeout = p.get(data, "timeout", (int, float), "", 60)
    build_timeout = p.get(data, "build_timeout", (int, float), "", 900)
    installers = [
        _enum_value(p, Installer, name, f"installers[{i}]")
        for i, name in enumerate(p.get(data, "installers", list, "", []) or [])
    ]

    discovery = p.get(data, "discovery", dict, "", {}) or {}
    p.unknown_keys(discovery, ("sources", "min_version"), "discovery.")
    sources: list[Provider] = []
    for i, name in enumerate(p.get(discovery, "sources", list, "discovery.", ["pyenv", "uv", "path"]) or []):
        provider = _enum_value(p, Provider, name, f"discovery.sources[{i}]")
        if provider is Provider.EXPLICIT:
            p.add(f"discovery.sources[{i}]", "explicit interpreters go in [[interpreters]] entries")
        elif provider is not None:
            sources.append(provider)
    min_version = _version(p, discovery.get("min_version", "3.8"), "discovery.min_version") or (3, 8)

    explicit: list[tuple[str, str]] = []
    for i, entry in enumerate(p.get(data, "interpreters", list, "", []) or []):
        key = f"interpreters[{i}]."
        if not isinstance(entry, dict):
            p.add(f"interpreters[{i}]", "expected a table with 'path' (use [[interpreters]])")
            continue
        p.unknown_keys(entry, ("path", "id"), key)
        ipath = p.get(entry, "path", str, key)
        if not ipath:
            p.add(f"{key}path", "missing: the interpreter's executable, e.g. '/opt/cpython/bin/python3'")
            continue
        explicit.append((ipath, p.get(entry, "id", str, key, "") or ""))

    targets: list[Target] = []
    for name, table in (p.get(data, "targets", dict, "", {}) or {}).items():
        key = f"targets.{name}."
        if not isinstance(table, dict):
            p.add(f"targets.{name}", "expected a table")
            continue
        p.unknown_keys(table, ("kind", "min_python", "build_on"), key)
        kind = _enum_value(p, TargetKind, table.get("kind", name), f"{key}kind")
        min_python = None
        if kind not in (None, TargetKind.VERSION_SPECIFIC):
            if "min_python" not in table:
                p.add(f"{key}min_python", f"required for a {kind.value} target, e.g. '3.9'")
            else:
                min_python = _version(p, table["min_python"], f"{key}min_python")
        elif "min_python" in table:
            p.add(f"{key}min_python", "a version-specific target has no stable-ABI minimum")
        build_on = p.get(table, "build_on", list, key, ["each"]) or []
        for j, selector in enumerate(build_on):
            if not isinstance(selector, str) or not selector:
                p.add(f"{key}build_on[{j}]", f"expected one of {BUILD_SELECTORS} or an interpreter id glob")
        if kind is not None:
            targets.append(Target(name, kind, min_python, tuple(str(s) for s in build_on)))
    if not targets and "targets" not in data:
        p.add("targets", "missing: add at least [targets.version-specific]")

    known: list[KnownIssue] = []
    for i, entry in enumerate(p.get(data, "known_issue", list, "", []) or []):
        key = f"known_issue[{i}]."
        if not isinstance(entry, dict):
            p.add(f"known_issue[{i}]", "expected a table (use [[known_issue]])")
            continue
        p.unknown_keys(entry, ("case", "target", "build_python", "run_python", "status", "link", "note"), key)
        status = _enum_value(p, Status, entry.get("status", "fail"), f"{key}status")
        if status not in (None, Status.FAIL, Status.CRASH, Status.TIMEOUT):
            p.add(f"{key}status", "a known issue expects fail, crash or timeout")
        link = p.get(entry, "link", str, key, "") or ""
        if not link.startswith(("http://", "https://")):
            p.add(f"{key}link", "required: the upstream issue's URL, so the entry can be removed when it is fixed")
        if status is not None:
            known.append(
                KnownIssue(
                    index=i,
                    case=_globs(p, entry, "case", key),
                    target=_globs(p, entry, "target", key),
                    build_python=_globs(p, entry, "build_python", key),
                    run_python=_globs(p, entry, "run_python", key),
                    status=status,
                    link=link,
                    note=p.get(entry, "note", str, key, "") or "",
                )
            )
    p.raise_if_any()
    return Matrix(
        path=path,
        cases_dir=cases_dir,
        min_version=min_version,
        sources=tuple(sources),
        explicit=tuple(explicit),
        targets=tuple(targets),
        known_issues=tuple(known),
        timeout_s=float(timeout),
        build_timeout_s=float(build_timeout),
        installers=tuple(dict.fromkeys(i for i in installers if i is not None)),
    )


def load_case(case_toml: Path, cases_dir: Path) -> Case:
    """Parse one extensions/<backend>/<binding>/case.toml."""
    data = _read_toml(case_toml)
    p = _Problems(case_toml)
    p.unknown_keys(data, ("description", "notes", "targets", "unsupported", "build"), "")
    rel = case_toml.parent.relative_to(cases_dir).parts
    if len(rel) != 2:
        p.add("", f"a case lives at {cases_dir}/<backend>/<binding>/case.toml")
        p.raise_if_any()
    backend, binding = rel
    description = p.get(data, "description", str, "", "") or ""
    if not description:
        p.add("description", "missing: one line saying what this case builds and how")

    recipes: list[tuple[TargetKind, TargetRecipe]] = []
    for name, table in (p.get(data, "targets", dict, "", {}) or {}).items():
        key = f"targets.{name}."
        kind = _enum_value(p, TargetKind, name, f"targets.{name}")
        if not isinstance(table, dict):
            p.add(f"targets.{name}", "expected a table")
            continue
        p.unknown_keys(table, ("config_settings", "env"), key)
        recipe = TargetRecipe(p.str_table(table, "config_settings", key), p.str_table(table, "env", key))
        if kind is not None:
            recipes.append((kind, recipe))
    unsupported: list[tuple[TargetKind, str]] = []
    for name, reason in (p.get(data, "unsupported", dict, "", {}) or {}).items():
        kind = _enum_value(p, TargetKind, name, f"unsupported.{name}")
        if not isinstance(reason, str) or not reason:
            p.add(f"unsupported.{name}", "expected the reason as a string")
        elif kind is not None:
            if kind in dict(recipes):
                p.add(f"unsupported.{name}", f"also declared in [targets.{name}]; keep one")
            unsupported.append((kind, reason))

    build = p.get(data, "build", dict, "", {}) or {}
    p.unknown_keys(build, ("providers", "reason"), "build.")
    providers: list[Provider] = []
    for i, name in enumerate(p.get(build, "providers", list, "build.", []) or []):
        provider = _enum_value(p, Provider, name, f"build.providers[{i}]")
        if provider is not None:
            providers.append(provider)
    build_reason = p.get(build, "reason", str, "build.", "") or ""
    if providers and not build_reason:
        p.add("build.reason", "required with build.providers: why only these interpreters can build the case")

    case = Case(
        backend=backend,
        binding=binding,
        path=case_toml.parent,
        description=description,
        notes=p.get(data, "notes", str, "", "") or "",
        recipes=tuple(recipes),
        unsupported=tuple(unsupported),
        build_providers=tuple(providers),
        build_reason=build_reason,
    )
    case = _check_project(p, case)
    p.raise_if_any()
    return case


def _check_project(p: _Problems, case: Case) -> Case:
    """The distribution name is derived from the case path; the project must use it. Reads requires-python."""
    pyproject = case.path / "pyproject.toml"
    if not pyproject.is_file():
        p.add("", f"{pyproject} is missing: a case is a PEP 517 project")
        return case
    try:
        project = tomllib.loads(pyproject.read_text()).get("project", {})
    except tomllib.TOMLDecodeError as exc:
        p.add("", f"{pyproject}: malformed TOML: {exc}")
        return case
    name = project.get("name", "")
    if name.replace("_", "-").lower() != case.dist_name:
        p.add(
            "",
            f"{pyproject}: [project] name is {name!r}; this case's name must be {case.dist_name!r} "
            f"(import name {case.module!r}) so wheels of different cases never clash",
        )
    requires = project.get("requires-python", "")
    try:
        SpecifierSet(requires)
    except InvalidSpecifier:
        p.add("", f"{pyproject}: [project] requires-python {requires!r} is not a version specifier")
        return case
    return replace(case, requires_python=requires)


def load_cases(cases_dir: Path) -> tuple[Case, ...]:
    """Every case under *cases_dir*, sorted by id; all problems reported together."""
    if not cases_dir.is_dir():
        raise ConfigError(f"{cases_dir}: cases directory not found (matrix.toml: cases_dir)")
    cases: list[Case] = []
    problems: list[str] = []
    for case_toml in sorted(cases_dir.glob("*/*/case.toml")):
        if case_toml.parent.parent.name.startswith("_"):
            continue  # _shared/: the files rendered into cases (harness/casegen.py), not a backend
        try:
            cases.append(load_case(case_toml, cases_dir))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return tuple(cases)
