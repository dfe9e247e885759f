"""Read matrix.toml and every case.toml once into typed objects; every error names its file and key.

Long because every key of both files is checked here, each problem with its own message and key path.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from harness.errors import ConfigError
from harness.infra.paths import part_problem
from harness.model import (
    Case,
    Installer,
    Interpreter,
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
MAX_SECONDS = 86_400  # a timeout above a day is a typo (1e23) or inf, never a wish
# A case directory's backend and the build-backend its pyproject.toml must name (README "Adding a case").
BUILD_BACKENDS = {
    "setuptools": "setuptools.build_meta",
    "meson-python": "mesonpy",
    "scikit-build-core": "scikit_build_core.build",
    "maturin": "maturin",
    "sysconfig": "rawbuild",
}
# The oldest CPython each stable-ABI kind exists on (DOMAIN.md: abi3 since 3.2, PEP 384; abi3t since 3.15).
MIN_PYTHON_FLOOR = {
    TargetKind.ABI3: (3, 2),
    TargetKind.ABI3T: (3, 15),
    TargetKind.ABI3_ABI3T: (3, 15),
}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BUILD_SELECTORS = ("each", "oldest", "newest")
PLACEHOLDERS = ("py_api", "limited_api_hex", "min_python", "module")  # see casefiles.render
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


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
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory; give the path of a .toml file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start}); TOML files must be saved as UTF-8") from None
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


def _enum_value(problems: _Problems, enum_type: Any, value: Any, key: str, choices: tuple[str, ...] = ()) -> Any:
    """*value* as a member of *enum_type*, limited to *choices* when given (so hints list only valid values)."""
    choices = choices or tuple(m.value for m in enum_type)
    if isinstance(value, str) and value in choices:
        return enum_type(value)
    close = difflib.get_close_matches(str(value), choices, n=1)
    hint = (
        f"did you mean {close[0]!r}? (choose from {', '.join(choices)})"
        if close
        else f"choose from {', '.join(choices)}"
    )
    problems.add(key, f"unknown value {value!r}; {hint}")
    return None


def _positive(p: _Problems, table: dict[str, Any], key: str, prefix: str, default: float) -> float:
    """A duration in seconds: a number above zero (a bool is an int to Python, not to us)."""
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_SECONDS:
        p.add(
            f"{prefix}{key}", f"expected a number of seconds above 0 and at most {MAX_SECONDS} (a day), got {value!r}"
        )
        return default
    return float(value)


def _provider(problems: _Problems, value: Any, choices: list[str], key: str) -> Provider | None:
    """A registered provider's name (harness/interpreters/providers/), with "did you mean" like an enum value."""
    if isinstance(value, str) and value in choices:
        return Provider(value)
    close = difflib.get_close_matches(str(value), choices, n=1)
    listed = f"choose from {', '.join(choices)}"
    hint = f"did you mean {close[0]!r}? ({listed})" if close else listed
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


_TOP_KEYS = (
    "schema_version",
    "cases_dir",
    "timeout",
    "build_timeout",
    "installers",
    "discovery",
    "interpreters",
    "targets",
    "known_issue",
)
_SELECTORS = ("case", "target", "build_python", "run_python")
# error too: a package the case needs that refuses to build or install there by design (cffi on a
# free-threaded 3.13) is reported as the install step's error, not as the backend's failure.
_KNOWN_ISSUE_STATUSES = (Status.FAIL.value, Status.CRASH.value, Status.TIMEOUT.value, Status.ERROR.value)
_CPXY = re.compile(r"(?:cp|pp)(\d)(\d+)")


@dataclass(frozen=True)
class ProviderNames:
    """What matrix.toml and case.toml may name as interpreter providers. The registry lives a step
    higher (interpreters/providers/, `providers.names()`), so the caller passes its names in."""

    known: tuple[str, ...]  # every registered provider, in preference order
    sources: tuple[str, ...]  # those `[discovery] sources` may select (the rest go in [[interpreters]])


def load_matrix(path: Path, providers: ProviderNames) -> Matrix:
    """Parse matrix.toml; raises ConfigError listing every problem."""
    data = _read_toml(path)
    p = _Problems(path)
    cases_dir, timeout, build_timeout, installers = _top_level(p, data)
    sources, min_version = _discovery(p, data, providers)
    explicit = _interpreters(p, data)
    targets = _targets(p, data)
    known = _known_issues(p, data)
    p.raise_if_any()
    return Matrix(
        path=path,
        cases_dir=path.parent / cases_dir,
        min_version=min_version,
        sources=sources,
        explicit=explicit,
        targets=targets,
        known_issues=known,
        timeout_s=timeout,
        build_timeout_s=build_timeout,
        installers=installers,
    )


def _top_level(p: _Problems, data: dict[str, Any]) -> tuple[str, float, float, tuple[Installer, ...]]:
    p.unknown_keys(data, _TOP_KEYS, "")
    schema = data.get("schema_version", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION or isinstance(schema, bool):
        p.add("schema_version", f"this harness reads schema_version {SCHEMA_VERSION}, got {schema!r}")
    cases_dir = p.get(data, "cases_dir", str, "", "extensions")
    if cases_dir == "":
        p.add("cases_dir", "empty; give the directory of the cases, e.g. 'extensions'")
    cases_dir = cases_dir or "extensions"
    timeout = _positive(p, data, "timeout", "", 60)
    build_timeout = _positive(p, data, "build_timeout", "", 900)
    listed = p.get(data, "installers", list, "", None)
    if listed == []:
        p.add("installers", "empty: name at least one (uv, pip), or leave the key out for the default")
    installers = [_enum_value(p, Installer, name, f"installers[{i}]") for i, name in enumerate(listed or [])]
    return cases_dir, timeout, build_timeout, tuple(dict.fromkeys(i for i in installers if i is not None))


def _discovery(p: _Problems, data: dict[str, Any], names: ProviderNames) -> tuple[tuple[Provider, ...], Version]:
    discovery = p.get(data, "discovery", dict, "", {}) or {}
    p.unknown_keys(discovery, ("sources", "min_version"), "discovery.")
    sources: list[Provider] = []
    for i, name in enumerate(p.get(discovery, "sources", list, "discovery.", ["pyenv", "uv", "path"]) or []):
        if isinstance(name, str) and name in names.known and name not in names.sources:
            p.add(f"discovery.sources[{i}]", f"{name} interpreters go in [[interpreters]] entries, not here")
        elif (provider := _provider(p, name, list(names.sources), f"discovery.sources[{i}]")) is not None:
            sources.append(provider)
    min_version = _version(p, discovery.get("min_version", "3.8"), "discovery.min_version") or (3, 8)
    return tuple(sources), min_version


def _interpreters(p: _Problems, data: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    explicit: list[tuple[str, str]] = []
    first_of: dict[str, int] = {}
    path_of: dict[str, int] = {}
    for i, entry in enumerate(p.get(data, "interpreters", list, "", []) or []):
        key = f"interpreters[{i}]."
        if not isinstance(entry, dict):
            p.add(f"interpreters[{i}]", "expected a table with 'path' (use [[interpreters]])")
            continue
        p.unknown_keys(entry, ("path", "id"), key)
        ipath = p.get(entry, "path", str, key)
        id_ = p.get(entry, "id", str, key, "") or ""
        if id_ and (why := part_problem(id_)) is not None:
            p.add(f"{key}id", f"not an id (it is a column and a part of cell ids and paths): {why}")
        elif id_ and id_ in first_of:
            p.add(f"{key}id", f"{id_!r} is already the id of interpreters[{first_of[id_]}]; ids name one column each")
        elif id_:
            first_of[id_] = i
        if not ipath:
            p.add(f"{key}path", "missing: the interpreter's executable, e.g. '/opt/cpython/bin/python3'")
            continue
        same = path_of.setdefault(os.path.realpath(ipath), i)
        if same != i:
            p.add(f"{key}path", f"{ipath!r} is already interpreters[{same}]: one entry per interpreter")
            continue
        explicit.append((ipath, id_))
    return tuple(explicit)


def _targets(p: _Problems, data: dict[str, Any]) -> tuple[Target, ...]:
    targets: list[Target] = []
    for name, table in (p.get(data, "targets", dict, "", {}) or {}).items():
        key = f"targets.{name}."
        if not isinstance(table, dict):
            p.add(f"targets.{name}", "expected a table")
            continue
        if (why := part_problem(name)) is not None:
            p.add(f"targets.{name}", f"not a target name (it is a part of cell ids and paths): {why}")
        p.unknown_keys(table, ("kind", "min_python", "build_on"), key)
        kind = _enum_value(p, TargetKind, table.get("kind", name), f"{key}kind")
        min_python = None
        if kind is None:
            pass  # the kind is already reported; min_python cannot be judged without it
        elif not kind.version_free:
            if "min_python" not in table:
                p.add(f"{key}min_python", f"required for a {kind.value} target, e.g. '3.9'")
            else:
                min_python = _min_python(p, kind, table["min_python"], f"{key}min_python")
        elif "min_python" in table:
            article = "an" if kind.value[0] in "aeiou" else "a"
            p.add(f"{key}min_python", f"{article} {kind.value} target has no stable-ABI minimum")
        build_on = p.get(table, "build_on", list, key, ["each"]) or []
        if not build_on:
            p.add(f"{key}build_on", f"empty: use one of {', '.join(BUILD_SELECTORS)} or an interpreter id glob")
        for j, selector in enumerate(build_on):
            if not isinstance(selector, str) or not selector:
                p.add(f"{key}build_on[{j}]", f"expected one of {', '.join(BUILD_SELECTORS)} or an interpreter id glob")
        if kind is not None:
            targets.append(Target(name, kind, min_python, tuple(str(s) for s in build_on)))
    if not targets and "targets" not in data:
        p.add("targets", "missing: add at least [targets.version-specific]")
    return tuple(targets)


def _min_python(p: _Problems, kind: TargetKind, value: Any, key: str) -> Version | None:
    version = _version(p, value, key)
    floor = MIN_PYTHON_FLOOR.get(kind)
    if version is not None and floor is not None and version < floor:
        p.add(key, f"{value!r}: {kind.value} exists from Python {'.'.join(map(str, floor))} on")
        return None
    return version


def _link_problem(link: str) -> str | None:
    """A known issue's link is shown as a link in the reports: an http(s) URL with a host, nothing else."""
    try:
        url = urlsplit(link)
    except ValueError:
        url = urlsplit("")
    if url.scheme not in ("http", "https") or not url.hostname or any(c.isspace() or ord(c) < 32 for c in link):
        return f"required: the upstream issue's http(s) URL, so the entry can be removed when it is fixed; got {link!r}"
    return None


def _known_issues(p: _Problems, data: dict[str, Any]) -> tuple[KnownIssue, ...]:
    known: list[KnownIssue] = []
    for i, entry in enumerate(p.get(data, "known_issue", list, "", []) or []):
        key = f"known_issue[{i}]."
        if not isinstance(entry, dict):
            p.add(f"known_issue[{i}]", "expected a table (use [[known_issue]])")
            continue
        p.unknown_keys(entry, (*_SELECTORS, "status", "link", "note"), key)
        if not any(s in entry for s in _SELECTORS):
            p.add(
                f"known_issue[{i}]",
                "no selector: it would match every cell; narrow it with case/target/build_python/run_python, "
                'or write case = "*" if every cell is meant',
            )
        status = _enum_value(p, Status, entry.get("status", "fail"), f"{key}status", _KNOWN_ISSUE_STATUSES)
        link = p.get(entry, "link", str, key, "") or ""
        if (why := _link_problem(link)) is not None:
            p.add(f"{key}link", why)
        selectors = {s: _globs(p, entry, s, key) for s in _SELECTORS}
        if status is not None:
            known.append(
                KnownIssue(
                    index=i,
                    **selectors,
                    status=status,
                    link=link,
                    note=p.get(entry, "note", str, key, "") or "",
                )
            )
    return tuple(known)


class SelectorCheck(NamedTuple):
    warnings: list[str]  # known issues matching nothing: likely typos
    absent: str  # one line naming the known issues only for interpreters this machine lacks ("": none)


def check_selectors(matrix: Matrix, interpreters: Sequence[Interpreter], cases: Sequence[Case]) -> SelectorCheck:
    """Selectors judged against what exists: a build_on glob matching no interpreter is an error (a typo
    would plan no wheel); a known issue matching nothing is a warning, as interpreters differ between
    machines, except where its interpreter globs only name interpreters absent here (`absent`)."""
    p = _Problems(matrix.path)
    ids = [i.id for i in interpreters]
    for target in matrix.targets:
        for j, selector in enumerate(target.build_on):
            if selector in BUILD_SELECTORS or any(fnmatch.fnmatchcase(i, selector) for i in ids):
                continue
            close = difflib.get_close_matches(selector, (*BUILD_SELECTORS, *ids), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(BUILD_SELECTORS)}"
            p.add(
                f"targets.{target.name}.build_on[{j}]",
                f"{selector!r} is no keyword and matches no interpreter (found: {', '.join(ids) or 'none'}); {hint}",
            )
    p.raise_if_any()
    universe = {
        "case": [c.id for c in cases],
        "target": [t.name for t in matrix.targets],
        "build_python": ids,
        "run_python": ids,
    }
    warnings, absent = [], []
    for issue in matrix.known_issues:
        unmatched = [
            selector
            for selector in _SELECTORS
            if not any(fnmatch.fnmatchcase(v, g) for v in universe[selector] for g in getattr(issue, selector))
        ]
        if unmatched and all(_names_interpreters(selector, getattr(issue, selector)) for selector in unmatched):
            absent.append(f"known_issue[{issue.index}] ({', '.join(g for s in unmatched for g in getattr(issue, s))})")
        elif unmatched:
            selector = unmatched[0]
            warnings.append(
                f"{matrix.path}: known_issue[{issue.index}].{selector}: {list(getattr(issue, selector))} matches "
                f"nothing (have: {', '.join(universe[selector]) or 'none'}); the entry applies to no cell"
            )
    # Another machine's interpreters (a free-threaded 3.15): one line, not a warning per entry.
    note = f"{matrix.path}: known issues for interpreters not found here: {', '.join(absent)}" if absent else ""
    return SelectorCheck(warnings, note)


def _names_interpreters(selector: str, globs: Sequence[str]) -> bool:
    """An interpreter selector whose globs all read as interpreter ids (cp315t*, pp311): a machine
    without those interpreters, not a typo."""
    return selector in {"build_python", "run_python"} and all(_CPXY.match(g) for g in globs)


def check_explicit_id(id_: str, interp: Interpreter) -> str | None:
    """A user-chosen id that reads like cpXY must name the interpreter's real version."""
    m = _CPXY.match(id_)
    if not m or (int(m.group(1)), int(m.group(2))) == interp.version[:2]:
        return None
    return (
        f"id {id_!r} reads as Python {m.group(1)}.{m.group(2)} but the interpreter is {interp.version_str}; "
        f"use {interp.base_id!r} or a name not starting with cpXY"
    )


def load_case(case_toml: Path, cases_dir: Path, providers: ProviderNames) -> Case:
    """Parse one extensions/<backend>/<binding>/case.toml."""
    data = _read_toml(case_toml)
    p = _Problems(case_toml)
    p.unknown_keys(data, ("description", "notes", "targets", "unsupported", "build"), "")
    rel = case_toml.parent.relative_to(cases_dir).parts
    if len(rel) != 2:
        p.add("", f"a case lives at {cases_dir}/<backend>/<binding>/case.toml")
        p.raise_if_any()
    backend, binding = rel
    for part in rel:
        if (why := part_problem(part)) is not None:
            p.add("", f"case directory {part!r} is not a name (it is a part of cell ids and paths): {why}")
    description = p.get(data, "description", str, "", "") or ""
    if not description:
        p.add("description", "missing: one line saying what this case builds and how")

    recipes = _recipes(p, data)
    unsupported = _unsupported(p, data, recipes)  # problems in file order: targets, unsupported, build
    build_providers, build_reason = _build_providers(p, data, providers)
    case = Case(
        backend=backend,
        binding=binding,
        path=case_toml.parent,
        description=description,
        notes=p.get(data, "notes", str, "", "") or "",
        recipes=tuple(recipes),
        unsupported=unsupported,
        build_providers=build_providers,
        build_reason=build_reason,
    )
    case = _check_project(p, case)
    p.raise_if_any()
    return case


def _unsupported(
    p: _Problems, data: dict[str, Any], recipes: list[tuple[TargetKind, TargetRecipe]]
) -> tuple[tuple[TargetKind, str], ...]:
    """[unsupported]: targets the case cannot build, each with its reason."""
    unsupported: list[tuple[TargetKind, str]] = []
    for name, reason in (p.get(data, "unsupported", dict, "", {}) or {}).items():
        kind = _enum_value(p, TargetKind, name, f"unsupported.{name}")
        if not isinstance(reason, str) or not reason:
            p.add(f"unsupported.{name}", "expected the reason as a string")
        elif kind is not None:
            if kind in dict(recipes):
                p.add(f"unsupported.{name}", f"also declared in [targets.{name}]; keep one")
            unsupported.append((kind, reason))
    return tuple(unsupported)


def _build_providers(p: _Problems, data: dict[str, Any], names: ProviderNames) -> tuple[tuple[Provider, ...], str]:
    """[build] providers and reason: only these providers' interpreters may build the case, and why."""
    build = p.get(data, "build", dict, "", {}) or {}
    p.unknown_keys(build, ("providers", "reason"), "build.")
    providers: list[Provider] = []
    for i, name in enumerate(p.get(build, "providers", list, "build.", []) or []):
        provider = _provider(p, name, list(names.known), f"build.providers[{i}]")
        if provider is not None:
            providers.append(provider)
    build_reason = p.get(build, "reason", str, "build.", "") or ""
    if providers and not build_reason:
        p.add("build.reason", "required with build.providers: why only these interpreters can build the case")
    return tuple(providers), build_reason


def _recipes(p: _Problems, data: dict[str, Any]) -> list[tuple[TargetKind, TargetRecipe]]:
    """A case.toml's [targets.KIND] tables: config settings and environment, placeholders checked."""
    recipes: list[tuple[TargetKind, TargetRecipe]] = []
    for name, table in (p.get(data, "targets", dict, "", {}) or {}).items():
        key = f"targets.{name}."
        kind = _enum_value(p, TargetKind, name, f"targets.{name}")
        if not isinstance(table, dict):
            p.add(f"targets.{name}", "expected a table")
            continue
        p.unknown_keys(table, ("config_settings", "env"), key)
        recipe = TargetRecipe(p.str_table(table, "config_settings", key), p.str_table(table, "env", key))
        for name_, _ in recipe.env:
            if not _ENV_NAME.fullmatch(name_):
                p.add(f"{key}env.{name_}", "not an environment variable name: letters, digits and _, not first a digit")
        for sub, items in (("config_settings", recipe.config_settings), ("env", recipe.env)):
            for k, v in items:
                for word in _PLACEHOLDER.findall(v):
                    if word not in PLACEHOLDERS:
                        p.add(
                            f"{key}{sub}.{k}",
                            f"unknown placeholder {{{word}}}; known: {', '.join('{' + x + '}' for x in PLACEHOLDERS)}",
                        )
        if kind is not None:
            recipes.append((kind, recipe))
    return recipes


def _check_project(p: _Problems, case: Case) -> Case:
    """The distribution name is derived from the case path; the project must use it. Reads requires-python."""
    pyproject = case.path / "pyproject.toml"
    if not pyproject.is_file():
        p.add("", f"{pyproject} is missing: a case is a PEP 517 project")
        return case
    try:
        document = _read_toml(pyproject)
    except ConfigError as exc:
        p.items += exc.problems
        return case
    _check_build_system(p, pyproject, document.get("build-system"), case.backend)
    project = document.get("project", {})
    if not isinstance(project, dict):
        p.add("", f"{pyproject}: [project] must be a table, got {project!r}")
        return case
    name = project.get("name", "")
    if not isinstance(name, str) or name.replace("_", "-").lower() != case.dist_name:
        p.add(
            "",
            f"{pyproject}: [project] name is {name!r}; this case's name must be {case.dist_name!r} "
            f"(import name {case.module!r}) so wheels of different cases never clash",
        )
    requires = project.get("requires-python", "")
    if not isinstance(requires, str):
        p.add("", f"{pyproject}: [project] requires-python must be a string such as '>=3.9', got {requires!r}")
        return case
    try:
        SpecifierSet(requires)
    except InvalidSpecifier:
        p.add("", f"{pyproject}: [project] requires-python {requires!r} is not a version specifier")
        return case
    return replace(case, requires_python=requires)


def _check_build_system(p: _Problems, pyproject: Path, table: Any, backend: str) -> None:
    """[build-system]: present, `requires` a list of strings, `build-backend` the case directory's backend."""
    if not isinstance(table, dict):
        p.add("", f"{pyproject}: [build-system] missing (or not a table): a case names its PEP 517 backend")
        return
    requires = table.get("requires")
    if not isinstance(requires, list) or not all(isinstance(r, str) and r.strip() for r in requires):
        p.add("", f"{pyproject}: [build-system] requires: expected a list of requirement strings, got {requires!r}")
    wanted = BUILD_BACKENDS.get(backend)
    named = table.get("build-backend")
    if not isinstance(named, str) or (wanted is not None and named != wanted):
        expected = f"{wanted!r}, the backend of {backend}/" if wanted else "the module path of the backend"
        p.add("", f"{pyproject}: [build-system] build-backend is {named!r}; expected {expected}")


def load_cases(cases_dir: Path, providers: ProviderNames) -> tuple[Case, ...]:
    """Every case under *cases_dir*, sorted by id; all problems reported together."""
    if not cases_dir.is_dir():
        raise ConfigError(f"{cases_dir}: cases directory not found (matrix.toml: cases_dir)")
    cases: list[Case] = []
    problems: list[str] = []
    problems += _layout_problems(cases_dir)
    for case_toml in sorted(cases_dir.glob("*/*/case.toml")):
        if case_toml.parent.parent.name.startswith("_"):
            continue  # _shared/: the files rendered into cases (harness/casegen.py), not a backend
        try:
            cases.append(load_case(case_toml, cases_dir, providers))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return tuple(cases)


def _layout_problems(cases_dir: Path) -> list[str]:
    """A case.toml at the wrong depth, or a <backend>/<binding> directory without one, would vanish silently."""
    problems = []
    for stray in sorted(cases_dir.rglob("case.toml")):
        if len(stray.relative_to(cases_dir).parts) != 3:
            problems.append(f"{stray}: a case lives at {cases_dir}/<backend>/<binding>/case.toml; move it there")
    for backend in sorted(d for d in cases_dir.iterdir() if d.is_dir() and not d.name.startswith((".", "_"))):
        for binding in sorted(d for d in backend.iterdir() if d.is_dir() and not d.name.startswith((".", "_"))):
            case_toml = binding / "case.toml"
            if case_toml.is_symlink() and not case_toml.exists():
                problems.append(f"{case_toml}: a symlink that resolves to no file (a loop, or its target is missing)")
            elif not case_toml.is_file():
                problems.append(
                    f"{binding}: no case.toml; every <backend>/<binding> directory is a case "
                    "(add one, see README 'Adding a case'), or remove the directory"
                )
    return problems
