"""The C probe: compiled against a build's own headers once per stable-ABI level, it prints the
sizes/offsets of the structs the stable ABI fixes and the values of its constants."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shlex
import shutil
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from harness.errors import HarnessError
from harness.infra import atomic, proc, rootfs
from harness.model import Interpreter
from harness.surface.model import Level, LevelProbe
from harness.surface.promise import constants, members, structs

PROBE_TIMEOUT_S = 300


def probe_template() -> str:
    return resources.files("harness.resources").joinpath("surface_probe.c").read_text()


def render_probe(level: Level) -> tuple[str, dict[int, str]]:
    """The probe's C source at *level* and which source line prints which item."""
    head, _, tail = probe_template().replace("@DEFINES@", level.defines).partition("@ITEMS@")
    lines: list[str] = []
    owners: dict[int, str] = {}
    first = head.count("\n") + 1

    def emit(text: str, owner: str = "") -> None:
        if owner:
            owners[first + len(lines)] = owner
        lines.append(text)

    for struct in structs(level):
        emit(f'    printf("size {struct} %lu\\n", (unsigned long)sizeof({struct}));', struct)
        for member in members(struct, level):
            key = f"{struct}.{member}"
            emit(f'    printf("offset {key} %lu\\n", (unsigned long)offsetof({struct}, {member}));', key)
    for name, _ in () if level.full else constants():  # the full level is for layouts
        emit(f"#ifdef {name}")
        emit(f'    printf("const {name} %lld\\n", (long long)({name}));', name)
        emit("#else")
        emit(f'    printf("const {name} absent\\n");')
        emit("#endif")
    return head + "\n".join(lines) + tail, owners


_DIAGNOSTIC = re.compile(r"probe\.c:(\d+):\d+: (error|note): (.*)")


def blamed_items(stderr: str, owners: dict[int, str]) -> dict[str, str]:
    """Items a compile error points at (directly, or through a note "in expansion of macro")."""
    blamed: dict[str, str] = {}
    last_error = ""
    for line in stderr.splitlines():
        if ": error: " in line:
            last_error = line.split(": error: ", 1)[1].strip()
        m = _DIAGNOSTIC.search(line)
        if m and int(m.group(1)) in owners:
            owner = owners[int(m.group(1))]
            message = m.group(3).strip() if m.group(2) == "error" else last_error
            blamed.setdefault(owner, message or "does not compile")
    return blamed


def headers_digest(include_dirs: Sequence[str], root: str = "") -> str:
    h = hashlib.sha256()
    for directory in sorted(set(include_dirs)):
        base = Path(root + directory)
        for path in sorted(base.rglob("*.h")) if base.is_dir() else []:
            h.update(str(path.relative_to(base)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:24]


def run_probe(interp: Interpreter, level: Level, include_dirs: Sequence[str], cache: Path) -> LevelProbe:
    """Compile and run the probe at *level* against *interp*'s headers (inside its rootfs, if any);
    cached by content: headers, level, rendered source."""
    source, owners = render_probe(level)
    key_raw = f"{interp.root}|{headers_digest(include_dirs, interp.root)}|{level.name}|{source}"
    key = hashlib.sha256(key_raw.encode()).hexdigest()[:24]
    cached = cache / "surface" / "probes" / f"{key}.json"
    with contextlib.suppress(OSError, HarnessError):  # missing, unreadable or no probe: compile again
        return LevelProbe.decode(cached.read_bytes(), source=cached)
    work = cache / "surface" / "build" / f"{key}-{os.getpid()}"  # two runs never share a work dir
    result = compile_probe(interp, level.name, (source, owners), include_dirs, work, [cache])
    if result.ok:
        atomic.write_text(cached, json.dumps(result.to_json(), indent=1, sort_keys=True))
    return result


def compile_probe(
    interp: Interpreter,
    level: str,
    rendered: tuple[str, dict[int, str]],
    include_dirs: Sequence[str],
    work: Path,
    binds: Sequence[Path],
) -> LevelProbe:
    """Compile and run a rendered probe in *work* (removed after), dropping the items the compiler
    blames (each is recorded as absent with the compiler's message) until it compiles."""
    source, owners = rendered
    missing = [d for d in include_dirs if not Path(interp.root + d, "Python.h").is_file()]
    if not include_dirs or len(missing) == len(include_dirs):
        return LevelProbe(level, False, f"no Python.h in {', '.join(include_dirs) or 'any include dir'}")
    if not interp.root and shutil.which("gcc") is None:
        return LevelProbe(level, False, "no gcc on PATH to compile the probe with")
    work.mkdir(parents=True, exist_ok=True)
    absent: dict[str, str] = {}
    includes = " ".join(f"-I{shlex.quote(d)}" for d in include_dirs)
    argv = ["sh", "-c", f"cd {shlex.quote(str(work))} && gcc -w {includes} probe.c -o probe && ./probe"]
    if interp.root:
        argv = rootfs.command(interp.root, argv, binds)
    for _attempt in range(4):  # each round drops the items the compiler blamed
        (work / "probe.c").write_text(source)
        outcome = proc.run(argv, timeout=PROBE_TIMEOUT_S)
        blamed = {} if outcome.ok else blamed_items(outcome.stderr, owners)
        if not blamed:
            break
        absent.update(blamed)
        source = "\n".join(
            "    /* dropped: does not compile */" if owners.get(n + 1) in blamed else line
            for n, line in enumerate(source.split("\n"))
        )
    shutil.rmtree(work, ignore_errors=True)
    if not outcome.ok:
        detail = proc.last_line(outcome.stderr or outcome.stdout, prefer_errors=True)
        return LevelProbe(level, False, f"probe does not compile or run: {detail}")
    return parse_probe_output(level, outcome.stdout, absent)


def parse_probe_output(level: str, stdout: str, absent: dict[str, str]) -> LevelProbe:
    """The probe's "size|offset|const NAME VALUE" lines; items the compiler refused are absent (None)."""
    const_names = {name for name, _ in constants()}
    layouts: dict[str, int | None] = {k: None for k in absent if k not in const_names}
    consts: dict[str, int | None] = {k: None for k in absent if k in const_names}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        kind, name, value = parts
        if kind in ("size", "offset"):
            layouts[name] = int(value)
        elif kind == "const":
            consts[name] = None if value == "absent" else int(value)
    return LevelProbe(
        level, True, "gcc", tuple(sorted(layouts.items())), tuple(sorted(consts.items())), tuple(sorted(absent.items()))
    )
