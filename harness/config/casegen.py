"""Case files from one source: shared files rendered into cases, new cases renamed from old ones.

Cases stay committed, self-contained directories (each one a reproducer to attach to an upstream
bug), so files repeated across them (abitest_facts.h, the C API sources, the .pyx) are kept once
under <cases_dir>/_shared/ and rendered into each case; `_shared/cases.toml` says which case gets
which file. `sync-cases` writes the copies, `sync-cases --check` and a unit test fail on drift.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config.casefiles import render, source_files
from harness.errors import ConfigError
from harness.infra import atomic
from harness.infra.paths import UnsafePath, part_problem, under
from harness.model import Case
from harness.schema.decode import read_toml

SHARED_DIR = "_shared"  # ignored by config.load_cases: no case starts with "_"
MANIFEST = "cases.toml"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_SKIP = ("*.so", ".mesonpy-*")  # build output left by an in-place build


@dataclass(frozen=True)
class SharedFile:
    """One rendered copy: the case, its path there (rendered) and the template it comes from."""

    case: str
    path: str
    template: str
    key: str  # the destination as cases.toml writes it ("src/{module}.c"): new-case copies it so


def names(backend: str, binding: str) -> dict[str, str]:
    """The substitutions a case's files get; the same names model.Case derives."""
    dist_name = f"abitest-{backend}-{binding}".lower()
    return {"dist_name": dist_name, "module": dist_name.replace("-", "_")}


def manifest_path(cases_dir: Path) -> Path:
    return cases_dir / SHARED_DIR / MANIFEST


def load_manifest(cases_dir: Path) -> tuple[SharedFile, ...]:
    """Parse _shared/cases.toml; every problem (unknown case, unsafe path, missing template) reported at once.

    Case ids, destinations and templates become paths: each must fit the path grammar, a destination stays
    inside its case and a template inside _shared/ (no `..`, no absolute path, no symlink leading out)."""
    path = manifest_path(cases_dir)
    if not path.is_file():
        return ()
    return parse_manifest(cases_dir, read_toml(path, dict[str, Any]))  # UTF-8 TOML; its shape checked there


def parse_manifest(cases_dir: Path, data: dict[str, Any]) -> tuple[SharedFile, ...]:
    """The parsed cases.toml as shared files, or one ConfigError naming every bad key."""
    path = manifest_path(cases_dir)
    problems: list[str] = []
    files: list[SharedFile] = []
    for case_id, table in data.items():
        why = _case_problem(cases_dir, case_id)
        if why is None and not isinstance(table, dict):
            why = f'expected a table of "path in the case" = "template", got {type(table).__name__}'
        if why is not None:
            problems.append(f"{path}: [{case_id!r}]: {why}")
            continue
        backend, _, binding = case_id.partition("/")
        for dest, template in table.items():
            copy = render(dest, names(backend, binding))
            if not isinstance(template, str):
                problems.append(f"{path}: [{case_id!r}].{dest!r}: expected a template's name, got {template!r:.40}")
                continue
            why = _file_problem(cases_dir / case_id, copy, "destination") or _template_problem(path.parent, template)
            if why is not None:
                problems.append(f"{path}: [{case_id!r}].{dest!r}: {why}")
                continue
            files.append(SharedFile(case_id, copy, template, dest))
    if problems:
        raise ConfigError(problems)
    return tuple(files)


def _case_problem(cases_dir: Path, case_id: str) -> str | None:
    parts = case_id.split("/")
    if len(parts) != 2:
        return "expected a case id BACKEND/BINDING"
    why = next((w for w in map(part_problem, parts) if w is not None), None)
    if why is not None:
        return f"not a case id: {why}"
    if not (cases_dir / case_id / "case.toml").is_file():
        return f"no case {cases_dir / case_id / 'case.toml'}"
    return _file_problem(cases_dir, case_id, "case")


def _file_problem(root: Path, rel: str, what: str) -> str | None:
    """Why root/rel is no safe place for a file of *root*, or None."""
    try:
        under(root, rel)
    except UnsafePath as exc:
        return f"{what} {rel!r}: {exc}"
    return None


def _template_problem(shared: Path, template: str) -> str | None:
    why = _file_problem(shared, template, "template")
    if why is None and not (shared / template).is_file():
        why = f"no template {shared / template}"
    return why


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start}); case files are UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None


def rendered(cases_dir: Path, shared: SharedFile) -> str:
    backend, _, binding = shared.case.partition("/")
    return render(_read(cases_dir / SHARED_DIR / shared.template), names(backend, binding))


def drift(cases_dir: Path) -> list[tuple[Path, str]]:
    """(copy, what differs) for every rendered copy that is missing or differs from its template."""
    out = []
    for shared in load_manifest(cases_dir):
        copy = cases_dir / shared.case / shared.path
        want = rendered(cases_dir, shared)
        if not copy.is_file():
            out.append((copy, "missing"))
        elif (have := _read(copy)) != want:
            diff = difflib.unified_diff(
                want.splitlines(), have.splitlines(), f"_shared/{shared.template}", str(copy), lineterm="", n=0
            )
            out.append((copy, "\n".join(list(diff)[:12])))
    return out


def sync(cases_dir: Path) -> list[Path]:
    """Render every shared file into its cases; the copies that changed. Everything is read and checked
    before the first file is written."""
    wanted = [(cases_dir / s.case / s.path, rendered(cases_dir, s)) for s in load_manifest(cases_dir)]
    changed = [(copy, want) for copy, want in wanted if not copy.is_file() or _read(copy) != want]
    for copy, want in changed:
        copy.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(copy, want)  # a symlink at the copy is replaced by the file, not written through
    return [copy for copy, _ in changed]


def _renamer(old: dict[str, str], new: dict[str, str]) -> Callable[[str], str]:
    # Every occurrence, also as a prefix (src/abitest_setuptools_cffi_build.py): no case names another's.
    by_old = {old[k]: new[k] for k in ("dist_name", "module") if old[k] != new[k]}
    if not by_old:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(k) for k in sorted(by_old, key=len, reverse=True)))
    return lambda text: pattern.sub(lambda m: by_old[m.group(0)], text)


def _free(into: Path, backend: str, binding: str) -> Path:
    """into/backend/binding: nothing there yet (not even a dangling symlink), no file where a parent directory
    should be, no symlink on the way out of *into*."""
    given = f"new-case BACKEND/BINDING {backend}/{binding}"
    try:
        dest = under(into, backend, binding)
    except UnsafePath as exc:
        raise ConfigError(f"{given}: {exc}") from None
    if dest.exists() or dest.is_symlink():
        raise ConfigError(f"{given}: {dest} already exists; choose another name or remove it")
    for parent in dest.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"{given}: {parent} is a file, not a directory")
            break
    return dest


def _stage(source: Case, cases_dir: Path, entries: list[SharedFile], stage: Path, new: dict[str, str]) -> None:
    """The new case's files written under *stage*: the source's renamed, its shared files rendered anew."""
    rename = _renamer(names(source.backend, source.binding), new)
    for path in source_files(source.path):
        rel = path.relative_to(source.path)
        if any(fnmatch.fnmatch(part, pattern) for part in rel.parts for pattern in _SKIP):
            continue
        target = stage / rename(str(rel))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.write_text(rename(path.read_text()))
        except UnicodeDecodeError:
            shutil.copyfile(path, target)
        shutil.copymode(path, target)
    for shared in entries:
        target = stage / rename(shared.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(_read(cases_dir / SHARED_DIR / shared.template), new))


def new_case(
    source: Case, cases_dir: Path, backend: str, binding: str, into: Path, validate: Callable[[Path, Path], object]
) -> Path:
    """Copy *source* to into/backend/binding with its names changed; shared files rendered anew.

    Everything is checked before the first byte lands in *into*: the names, the destination, and the renamed
    case itself (*validate*(case.toml, its cases dir), on a staged copy in a temporary directory). When *into*
    is *cases_dir*, the new case also gets the source's entry in _shared/cases.toml, so sync-cases keeps it
    in step."""
    for part, what in ((backend, "BACKEND"), (binding, "BINDING")):
        if not _NAME.fullmatch(part):
            raise ConfigError(f"new-case: {what} {part!r}: use lower-case letters, digits and dashes")
    dest = _free(into, backend, binding)
    entries = [s for s in load_manifest(cases_dir) if s.case == source.id]
    joins = bool(entries) and into.resolve() == cases_dir.resolve()
    manifest = manifest_path(cases_dir)
    lines = [f'\n["{backend}/{binding}"]\n'] + [f'"{s.key}" = "{s.template}"\n' for s in entries]
    appended = _read(manifest) + "".join(lines) if joins else ""
    with tempfile.TemporaryDirectory(prefix="abi-harness-new-case-") as tmp:
        staged = Path(tmp) / backend / binding
        _stage(source, cases_dir, entries, staged, names(backend, binding))
        validate(staged / "case.toml", Path(tmp))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, dest)
    if joins:
        atomic.write_text(manifest, appended)
    return dest


def pick_source(cases: tuple[Case, ...], backend: str, binding: str, wanted: str | None) -> Case:
    """--from CASE, or else the closest case id among the same backend's (then the same binding's, then all)."""
    by_id = {c.id: c for c in cases}
    if wanted is not None:
        if wanted not in by_id:
            close = difflib.get_close_matches(wanted, by_id, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"choose from {', '.join(by_id)}"
            raise ConfigError(f"new-case --from {wanted!r}: no such case; {hint}")
        return by_id[wanted]
    pool = [c.id for c in cases if c.backend == backend] or [c.id for c in cases if c.binding == binding]
    pool = pool or list(by_id)
    if not pool:
        raise ConfigError("new-case: no case to start from; name one with --from")
    close = difflib.get_close_matches(f"{backend}/{binding}", pool, n=1, cutoff=0) or pool
    return by_id[close[0]]
