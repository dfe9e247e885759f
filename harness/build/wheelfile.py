"""A wheel someone else built, read as it stands: name, version, tags, what to import, and whether its
RECORD tells the truth. For `check`, which runs the matrix's stages on package authors' own wheels.

Nothing here imports or runs the wheel; the cells do that.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from harness.build.keys import BuildFailure
from harness.build.metadata import requires_python
from harness.errors import ConfigError
from harness.infra import atomic
from harness.model import Artifact, WheelSpec

# An extension module's file name after its module name: .so, .cpython-312-x86_64-linux-gnu.so,
# .abi3.so, .abi3t.so, .abi3-x86_64-linux-gnu.so, .pypy311-pp73-x86_64-linux-gnu.so. Bundled shared
# libraries (auditwheel's `pkg.libs/libssl-1a2b.so.3`) do not match and are not imported.
_EXT_SUFFIX = re.compile(r"\.(?:(?:cpython-\d+[a-z]*|abi3t?|pypy\d+-pp\d+)(?:-[\w-]+)?\.)?so")
_SIGNATURES = ("RECORD", "RECORD.jws", "RECORD.p7s")


@dataclass(frozen=True)
class WheelInfo:
    """One wheel file: what its name says, what its RECORD lists, and what is wrong with it."""

    path: Path
    name: str  # the distribution's canonical name
    version: str
    tags: tuple[str, ...]  # the expanded tag set, e.g. ("cp39-abi3-manylinux_2_17_x86_64", ...)
    ext_files: tuple[str, ...]  # extension modules, paths inside the wheel
    imports: tuple[str, ...]  # top-level packages and modules, then every extension module
    requires_python: str
    record_problems: tuple[str, ...]  # where RECORD and the archive disagree; empty when it tells the truth

    @property
    def tag_name(self) -> str:
        """The compressed tag set as the file name says it: cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64."""
        return "-".join(self.path.name.removesuffix(".whl").split("-")[-3:])


def read_wheel(path: Path) -> WheelInfo:
    """*path* read as a wheel; ConfigError naming the file when it is not one (no archive, no RECORD)."""
    try:
        name, version, _, tags = parse_wheel_filename(path.name)
    except InvalidWheelFilename as exc:
        raise ConfigError(f"{path}: not a wheel: {exc}") from None
    try:
        with zipfile.ZipFile(path) as zf:
            members = {i.filename: i for i in zf.infolist() if not i.is_dir()}
            record_name = _record_name(path, list(members))
            rows = _record_rows(path, zf.read(record_name).decode("utf-8", "replace"))
            problems = _record_problems(zf, members, rows, record_name)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ConfigError(f"{path}: not a wheel: not a readable zip archive ({exc})") from None
    listed = [row for row in rows if row in members]
    ext_files = tuple(sorted(f for f in listed if _importable(f) and is_extension(f)))
    return WheelInfo(
        path=path,
        name=str(canonicalize_name(name)),
        version=str(version),
        tags=tuple(sorted(str(t) for t in tags)),
        ext_files=ext_files,
        imports=import_names(listed, ext_files),
        requires_python=requires_python(path),
        record_problems=problems,
    )


def _record_name(path: Path, names: list[str]) -> str:
    found = [n for n in names if n.count("/") == 1 and n.endswith(".dist-info/RECORD")]
    if len(found) != 1:
        why = "no *.dist-info/RECORD" if not found else f"{len(found)} RECORD files ({', '.join(found)})"
        raise ConfigError(f"{path}: not a wheel: {why}")
    return found[0]


def _record_rows(path: Path, text: str) -> dict[str, tuple[str, str]]:
    """RECORD as {path: (hash, size)}."""
    rows: dict[str, tuple[str, str]] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if not row:
            continue
        if len(row) != 3:
            raise ConfigError(f"{path}: RECORD line {number}: expected path,hash,size; got {row!r:.120}")
        rows[row[0]] = (row[1], row[2])
    return rows


def _record_problems(
    zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], rows: dict[str, tuple[str, str]], record: str
) -> tuple[str, ...]:
    """Files RECORD lists that are missing or differ, and files it leaves out (PEP 376, PEP 427)."""
    problems = []
    dist_info = record.rsplit("/", 1)[0]
    for name, (digest, size) in sorted(rows.items()):
        if name not in members:
            problems.append(f"{name} is listed but not in the archive")
            continue
        if name.rsplit("/", 1)[-1] in _SIGNATURES and name.startswith(dist_info + "/"):
            continue
        algorithm, _, expected = digest.partition("=")
        if algorithm not in hashlib.algorithms_guaranteed or not expected:
            problems.append(f"{name}: no usable hash in RECORD ({digest or 'empty'})")
            continue
        actual = base64.urlsafe_b64encode(hashlib.new(algorithm, zf.read(name)).digest()).rstrip(b"=").decode()
        if actual != expected:
            problems.append(f"{name}: {algorithm} in RECORD is not the file's")
        elif size and size != str(members[name].file_size):
            problems.append(f"{name}: size {size} in RECORD, {members[name].file_size} in the archive")
    unlisted = sorted(n for n in members if n not in rows and n.rsplit("/", 1)[-1] not in _SIGNATURES)
    problems += [f"{name} is in the archive but not in RECORD" for name in unlisted]
    return tuple(problems)


def _importable(path: str) -> bool:
    """A path in the wheel that lands in site-packages (not .dist-info, not .data/scripts or headers)."""
    head = path.split("/", 1)[0]
    return not head.endswith(".dist-info") and not head.endswith(".data")


def is_extension(path: str) -> bool:
    """Whether *path* names an extension module (not a bundled shared library)."""
    parts = path.split("/")
    stem, _, rest = parts[-1].partition(".")
    return (
        all(p.isidentifier() for p in [*parts[:-1], stem])
        and _EXT_SUFFIX.fullmatch("." + rest) is not None
        and not (rest == "so" and stem.startswith("lib"))
    )


def module_name(path: str) -> str:
    """'pkg/sub/_mod.cpython-312-x86_64-linux-gnu.so' -> 'pkg.sub._mod'."""
    parts = path.split("/")
    return ".".join([*parts[:-1], parts[-1].split(".", 1)[0]])


def import_names(files: list[str], ext_files: tuple[str, ...]) -> tuple[str, ...]:
    """Every top-level package or module the wheel installs, then every extension module, each once."""
    top: set[str] = set()
    for path in files:
        if not _importable(path):
            continue
        head, sep, _ = path.partition("/")
        if sep:
            if head.isidentifier() and head != "__pycache__":
                top.add(head)
        elif head.endswith(".py") and head[:-3].isidentifier():
            top.add(head[:-3])
        elif is_extension(head):
            top.add(module_name(head))
    ordered = sorted(top) + sorted(module_name(f) for f in ext_files)
    return tuple(dict.fromkeys(ordered))


def given(spec: WheelSpec, cache: Path) -> Artifact | BuildFailure:
    """A `check` wheel as the pipeline's artifact (nothing built); a lying RECORD fails its cells."""
    digest = hashlib.sha256(spec.wheel.read_bytes()).hexdigest()
    log = cache / "check" / "logs" / f"{digest}.log"
    lines = [
        f"wheel {spec.wheel.name}",
        f"from {spec.origin}",
        f"sha256 {digest}",
        f"imports {', '.join(spec.imports)}",
    ]
    lines += [f"RECORD: {p}" for p in spec.record_problems]
    atomic.write_text(log, "\n".join(lines) + "\n")
    if spec.record_problems:
        shown = "; ".join(spec.record_problems[:5]) + ("; ..." if len(spec.record_problems) > 5 else "")
        return BuildFailure(spec.id, f"the wheel's RECORD lies ({len(spec.record_problems)}): {shown}", log)
    info = read_wheel(spec.wheel)
    return Artifact(
        spec_id=spec.id,
        wheel=spec.wheel,
        tags=info.tags,
        build_log=log,
        tools=(),
        frontend=spec.source,
        cached=True,
        duration_s=0.0,
        cache_key=digest,
        ext_files=info.ext_files,
        requires_python=info.requires_python,
    )
