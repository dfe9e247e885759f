"""Frozen value types shared by every step of the data flow.

Long because the shared vocabulary (cells, targets, cases, specs, interpreters) is one import for every step.
"""

from __future__ import annotations

import enum
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class Status(enum.StrEnum):
    """The whole verdict taxonomy; every record carries one of these plus a reason."""

    PASS = "pass"
    FAIL = "fail"
    XFAIL = "xfail"
    XPASS = "xpass"
    SKIP = "skip"
    CRASH = "crash"
    TIMEOUT = "timeout"
    ERROR = "error"

    @property
    def is_problem(self) -> bool:
        """Statuses that make a run exit non-zero and get listed in the summary."""
        return self in {Status.FAIL, Status.XPASS, Status.CRASH, Status.TIMEOUT, Status.ERROR}


class TargetKind(enum.StrEnum):
    """The ABI a wheel claims (see DOMAIN.md, "The ABI targets a wheel can claim")."""

    VERSION_SPECIFIC = "version-specific"
    ABI3 = "abi3"
    ABI3T = "abi3t"
    ABI3_ABI3T = "abi3.abi3t"
    # py3-none: nothing compiled against Python (e.g. a cffi ABI-mode library), so one build serves
    # every interpreter its Requires-Python admits, PyPy and free-threaded builds included.
    ABI_NONE = "abi-none"

    @property
    def version_free(self) -> bool:
        """Kinds without a stable-ABI baseline (min_python)."""
        return self in {TargetKind.VERSION_SPECIFIC, TargetKind.ABI_NONE}


class Provider(str):
    """Where an interpreter was found: the name of a module in harness/interpreters/providers/ (its registry key).

    An open set, so a string rather than an enum: a new provider is one new module and one registry
    line, and records keep plain names. `.value` mirrors the enum this used to be; its preference is
    `providers.rank(name)` (the registry sits above this module)."""

    __slots__ = ()

    @property
    def value(self) -> str:
        return str(self)


class Installer(enum.StrEnum):
    UV = "uv"
    PIP = "pip"


Version = tuple[int, int]


def ext_suffix(path: str) -> str:
    """'pkg/m.cpython-312-x86_64-linux-gnu.so' -> '.cpython-312-x86_64-linux-gnu.so' (all after the first dot)."""
    name = path.rsplit("/", 1)[-1]
    return "." + name.split(".", 1)[1] if "." in name else name


def parse_version(text: str) -> Version:
    """'3.9' -> (3, 9); raises ValueError with the offending text."""
    m = re.fullmatch(r"(\d+)\.(\d+)", text.strip())
    if not m:
        raise ValueError(f"expected a MAJOR.MINOR version like '3.9', got {text!r}")
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True, kw_only=True)
class Interpreter:
    """One probed interpreter: facts reported by the interpreter itself, never guessed from its name."""

    id: str
    path: str
    provider: Provider
    implementation: str  # sys.implementation.name: "cpython", "pypy"
    version: tuple[int, int, int]
    free_threaded: bool
    debug: bool
    soabi: str
    ext_suffixes: tuple[str, ...]
    platform: str  # sysconfig.get_platform(), e.g. "linux-x86_64"
    glibc: str | None
    base_prefix: str
    is_venv: bool
    supported_tags: tuple[str, ...] = ()  # packaging.tags.sys_tags() computed inside it
    tags_source: str = ""  # "packaging 26.3" or why tags are unavailable
    root: str = ""  # a provisioned rootfs the interpreter runs in (through bwrap); "" for the host
    build_dir: str = ""  # an uninstalled CPython build (`./python` after `make`): its build directory

    @property
    def host_path(self) -> str:
        """Where the executable is on the host's file system."""
        return self.root + self.path if self.root else self.path

    @property
    def minor(self) -> Version:
        return self.version[0], self.version[1]

    @property
    def version_str(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def is_cpython(self) -> bool:
        return self.implementation == "cpython"

    @property
    def base_id(self) -> str:
        """cp312, cp315t, cp315d, cp315td, pp311: what the interpreter is, not where it lives."""
        prefix = {"cpython": "cp", "pypy": "pp"}.get(self.implementation, self.implementation[:2])
        flags = ("t" if self.free_threaded else "") + ("d" if self.debug else "")
        return f"{prefix}{self.version[0]}{self.version[1]}{flags}"

    def describe(self) -> str:
        gil = "free-threaded" if self.free_threaded else "GIL"
        extra = ", debug" if self.debug else ""
        where = f"{self.path} in {self.root}" if self.root else self.path
        where += ", not installed" if self.build_dir else ""
        return f"{self.id} ({self.implementation} {self.version_str}, {gil}{extra}, {self.provider.value}: {where})"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path,
            "provider": self.provider.value,
            "implementation": self.implementation,
            "version": self.version_str,
            "free_threaded": self.free_threaded,
            "debug": self.debug,
            "soabi": self.soabi,
            "ext_suffixes": list(self.ext_suffixes),
            "platform": self.platform,
            "glibc": self.glibc,
            "base_prefix": self.base_prefix,
            "is_venv": self.is_venv,
            "supported_tags": list(self.supported_tags),
            "tags_source": self.tags_source,
            "root": self.root,
            # Only where set: the records (and reuse keys) of installed interpreters stay as they were.
            **({"build_dir": self.build_dir} if self.build_dir else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Interpreter:
        major, minor, micro = (int(p) for p in str(data["version"]).split(".")[:3])
        return cls(
            id=data["id"],
            path=data["path"],
            provider=Provider(data["provider"]),
            implementation=data["implementation"],
            version=(major, minor, micro),
            free_threaded=bool(data["free_threaded"]),
            debug=bool(data["debug"]),
            soabi=data["soabi"],
            ext_suffixes=tuple(data["ext_suffixes"]),
            platform=data["platform"],
            glibc=data.get("glibc"),
            base_prefix=data["base_prefix"],
            is_venv=bool(data["is_venv"]),
            supported_tags=tuple(data.get("supported_tags", ())),
            tags_source=data.get("tags_source", ""),
            root=data.get("root", ""),
            build_dir=data.get("build_dir", ""),
        )


@dataclass(frozen=True)
class Target:
    """A named ABI target from matrix.toml, e.g. 'abi3' = kind abi3, minimum 3.9."""

    name: str
    kind: TargetKind
    min_python: Version | None  # the stable-ABI baseline; None for version-specific and abi-none
    build_on: tuple[str, ...]  # selectors: "each", "oldest", "newest" or interpreter id globs

    def to_json(self) -> dict[str, Any]:
        """As environment.json keeps it (py_api for readers; from_json needs the rest)."""
        return {
            "name": self.name,
            "kind": self.kind.value,
            "py_api": self.py_api,
            "min_python": ".".join(map(str, self.min_python)) if self.min_python else None,
            "build_on": list(self.build_on),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Target:
        floor = parse_version(data["min_python"]) if data.get("min_python") else None
        return cls(data["name"], TargetKind(data["kind"]), floor, tuple(data.get("build_on", ())))

    @property
    def py_api(self) -> str:
        """The wheel's Python tag for a stable-ABI target, e.g. cp39."""
        if self.min_python is None:
            return ""
        return f"cp{self.min_python[0]}{self.min_python[1]}"

    @property
    def limited_api_hex(self) -> str:
        if self.min_python is None:
            return ""
        return f"0x{self.min_python[0]:02X}{self.min_python[1]:02X}0000"


@dataclass(frozen=True)
class TargetRecipe:
    """How one case asks its backend for one target kind (from case.toml)."""

    config_settings: tuple[tuple[str, str], ...] = ()
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class Case:
    """One static extension project under extensions/<backend>/<binding>/."""

    backend: str
    binding: str
    path: Path
    description: str
    notes: str
    recipes: tuple[tuple[TargetKind, TargetRecipe], ...]
    unsupported: tuple[tuple[TargetKind, str], ...] = ()
    build_providers: tuple[Provider, ...] = ()  # empty: any interpreter may build it
    build_reason: str = ""  # why build_providers restricts it
    requires_python: str = ""  # [project] requires-python: interpreters outside it do not build the case

    @property
    def id(self) -> str:
        return f"{self.backend}/{self.binding}"

    @property
    def dist_name(self) -> str:
        """Distribution name derived from the case, so wheels of two cases never clash."""
        return f"abitest-{self.backend}-{self.binding}".lower()

    @property
    def module(self) -> str:
        return self.dist_name.replace("-", "_")

    def recipe(self, kind: TargetKind) -> TargetRecipe | None:
        return dict(self.recipes).get(kind)

    def unsupported_reason(self, kind: TargetKind) -> str | None:
        """Why this case cannot build *kind*, or None when it can."""
        reason = dict(self.unsupported).get(kind)
        if reason:
            return reason
        if self.recipe(kind) is None:
            return f"{self.path / 'case.toml'} declares no [targets.{kind.value}]"
        return None


@dataclass(frozen=True, kw_only=True)
class KnownIssue:
    """An upstream bug that makes matching cells fail; the cell is then xfail, or xpass when fixed."""

    index: int
    case: tuple[str, ...]  # each selector: globs, any of which may match
    target: tuple[str, ...]
    build_python: tuple[str, ...]
    run_python: tuple[str, ...]
    status: Status
    link: str
    note: str

    def matches(self, case: str, target: str, build_python: str, run_python: str) -> bool:
        pairs = (
            (self.case, case),
            (self.target, target),
            (self.build_python, build_python),
            (self.run_python, run_python),
        )
        return all(any(fnmatch.fnmatchcase(value, p) for p in patterns) for patterns, value in pairs)


@dataclass(frozen=True, kw_only=True)
class Matrix:
    """matrix.toml, parsed and validated once."""

    path: Path
    cases_dir: Path
    min_version: Version
    sources: tuple[Provider, ...]
    explicit: tuple[tuple[str, str], ...]  # (path, optional id)
    targets: tuple[Target, ...]
    known_issues: tuple[KnownIssue, ...]
    timeout_s: float
    build_timeout_s: float
    installers: tuple[Installer, ...] = ()  # default for --installer; empty: uv when available, else pip


@dataclass(frozen=True)
class BuildSpec:
    """One wheel to build: (case, target, build interpreter)."""

    case: Case
    target: Target
    python: Interpreter

    @property
    def id(self) -> str:
        return f"{self.case.id}:{self.target.name}:{self.python.id}"

    def cell(self, run: Interpreter) -> Cell:
        """This wheel's cell on the run interpreter *run*."""
        return Cell(self.case.id, self.target.name, self.python.id, run.id)

    @property
    def build_interpreter(self) -> Interpreter | None:
        return self.python

    @property
    def imports(self) -> tuple[str, ...]:
        """What a cell imports: the case's module (then calls its add())."""
        return (self.case.module,)

    def template_values(self) -> dict[str, str]:
        return {
            "py_api": self.target.py_api,
            "limited_api_hex": self.target.limited_api_hex,
            "min_python": ".".join(map(str, self.target.min_python or ())),
            "module": self.case.module,
        }


@dataclass(frozen=True, kw_only=True)
class WheelSpec:
    """A wheel built elsewhere (`check`): a release's wheel, its tag set as the target.

    Its cells have the matrix's stages; there is no build interpreter, so nothing is checked against
    a target it asked for: the tags are the claim, the cells say where it holds."""

    case: Case  # backend "check", binding "NAME==VERSION"
    target: Target  # named by the wheel's compressed tag set
    wheel: Path
    source: str  # "index" or "file": the grid's "built on" column
    imports: tuple[str, ...]  # every top-level package, then every extension module (or --import)
    origin: str  # the file given, or the index URL and sha256
    record_problems: tuple[str, ...] = ()  # where its RECORD lies: every cell fails at "build"

    @property
    def id(self) -> str:
        return f"{self.case.id}:{self.target.name}:{self.source}"

    @property
    def build_interpreter(self) -> Interpreter | None:
        return None

    def cell(self, run: Interpreter) -> Cell:
        return Cell(self.case.id, self.target.name, self.source, run.id)


AnySpec = BuildSpec | WheelSpec


@dataclass(frozen=True, kw_only=True)
class Artifact:
    """A built wheel and what we know about how it was made."""

    spec_id: str
    wheel: Path
    tags: tuple[str, ...]  # the expanded compressed tag set, e.g. ("cp39-abi3-linux_x86_64",)
    build_log: Path
    tools: tuple[tuple[str, str], ...]  # build-environment package versions
    frontend: str
    cached: bool
    duration_s: float
    cache_key: str
    ext_files: tuple[str, ...] = ()  # compiled files inside the wheel
    requires_python: str = ""  # the wheel's Requires-Python metadata


@dataclass(frozen=True, order=True)
class Cell:
    """(case, target, build interpreter, run interpreter); str() and parse() round-trip."""

    case: str
    target: str
    build_python: str
    run_python: str

    def __str__(self) -> str:
        return f"{self.case}:{self.target}:{self.build_python}:{self.run_python}"

    @classmethod
    def parse(cls, text: str) -> Cell:
        parts = text.split(":")
        if len(parts) != 4 or not all(parts):
            raise ValueError(f"a cell id is CASE:TARGET:BUILD_PYTHON:RUN_PYTHON, got {text!r}")
        return cls(*parts)


@dataclass(frozen=True)
class Expectation:
    """What the tag rules say an installer must do with a wheel on an interpreter, and why."""

    accept: bool
    rule: str
    known_issue: KnownIssue | None = None

    @property
    def label(self) -> str:
        base = "install+work" if self.accept else "refuse"
        if self.known_issue is not None:
            return f"{base}, known issue: {self.known_issue.status.value}"
        return base


@dataclass(frozen=True)
class Verdict:
    status: Status
    reason: str
    stage: str  # build, install, import, call, plan
