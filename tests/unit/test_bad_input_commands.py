"""Bad and hostile input for every command but `run` (whose matrix and case rows are in test_bad_input.py).

Each row builds one tree in tmp_path: the project of test_bad_input (matrix.toml, one case), a shared file
for sync-cases, two recorded runs (tests/fixtures/runs: results/base, results/new), two shard runs made
from base (results/s1, results/s2), and a sentinel tree (victim/) outside every root. It then runs
`main(argv)` and checks: the exit code, what the message names, no traceback, the sentinel untouched,
every results.jsonl byte for byte as before, and for a refused command (exit 2 or 3) nothing written
at all outside the cache.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.sentinel import sentinel, snapshot
from tests.unit.test_bad_input import CASE, Bad, _project, recorded_probe, run_main

__all__ = ["recorded_probe"]  # the fixture, used below by name

BASE = "{root}/results/base"
NEW = "{root}/results/new"
S1, S2 = "{root}/results/s1", "{root}/results/s2"
MATRIX = "{root}/matrix.toml"
MANIFEST = "extensions/_shared/cases.toml"
GOOD_MANIFEST = '["sysconfig/c-api"]\n"src/abitest_facts.h" = "facts.h"\n'


@dataclass(frozen=True)
class Row:
    id: str
    argv: tuple[str, ...]
    says: tuple[str, ...]
    code: int = 2
    files: dict[str, str | bytes | None] = field(default_factory=dict)  # None: delete (a directory too)
    links: dict[str, str] = field(default_factory=dict)  # path -> symlink target ({root} filled in)
    dirs: tuple[str, ...] = ()  # directories to make (where a file is expected)
    absent: tuple[str, ...] = ()  # must not exist afterwards
    never: tuple[str, ...] = ()
    rewrites: bool = False  # report --rejudge that succeeds rewrites results.jsonl on purpose


def _fill(text: str, root: Path) -> str:
    return text.replace("{root}", str(root))


def _shard(root: Path, name: str, index: Any, count: Any, records: list[str]) -> None:
    run = root / "results" / name
    run.mkdir(parents=True)
    env = json.loads((FIXTURES / "runs" / "base" / "environment.json").read_text())
    env["shard"] = {"index": index, "count": count, "plan_digest": "d"}
    (run / "environment.json").write_text(json.dumps(env))
    (run / "results.jsonl").write_text("".join(line + "\n" for line in records))


def build(root: Path, row: Row) -> None:
    _project(root, Bad("base", ()))
    (root / "extensions" / "_shared").mkdir(parents=True)
    (root / MANIFEST).write_text(GOOD_MANIFEST)
    (root / "extensions" / "_shared" / "facts.h").write_text("/* {module} */\n")
    for name, fixture in (("base", "base"), ("new", "regressed")):
        shutil.copytree(FIXTURES / "runs" / fixture, root / "results" / name)
    lines = (FIXTURES / "runs" / "base" / "results.jsonl").read_text().splitlines()
    _shard(root, "s1", 1, 2, lines[::2])
    _shard(root, "s2", 2, 2, lines[1::2])
    sentinel(root)
    for rel, content in row.files.items():
        path = root / rel
        if content is None:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(_fill(content, root))
    for rel in row.dirs:
        (root / rel).mkdir(parents=True, exist_ok=True)
    for rel, target in row.links.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(_fill(target, root))


def _results_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "results").rglob("results.jsonl"))
        if p.is_file()
    }


def _outside_cache(tree: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in tree.items() if not k.startswith("cache")}


def check(row: Row, root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ABI_HARNESS_CACHE", str(root / "cache"))
    monkeypatch.setenv("ABI_HARNESS_PROVISION_DIR", str(root / "cache"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    build(root, row)
    victim, recorded, everything = snapshot(root / "victim"), _results_hashes(root), snapshot(root)
    code = run_main([_fill(a, root) for a in row.argv])
    err = capsys.readouterr().err
    for said in row.says:
        assert _fill(said, root) in err, err
    for text in row.never:
        assert _fill(text, root) not in err, err
    assert "Traceback" not in err
    assert code == row.code, err
    assert snapshot(root / "victim") == victim, "touched outside the roots"
    now = _results_hashes(root)
    if not row.rewrites:
        assert {k: now.get(k) for k in recorded} == recorded, "a record rewritten"
    if code in (2, 3):
        assert _outside_cache(snapshot(root)) == _outside_cache(everything), "refused, yet wrote"
    for rel in row.absent:
        assert not (root / _fill(rel, root)).exists(), rel
    return err


def report(*args: str) -> tuple[str, ...]:
    return ("report", *args)


def sync(*args: str) -> tuple[str, ...]:
    return ("sync-cases", "--matrix", MATRIX, *args)


def manifest(dest: str, template: str = "facts.h", case: str = "sysconfig/c-api") -> dict[str, str | bytes | None]:
    return {MANIFEST: f'["{case}"]\n"{dest}" = "{template}"\n'}


def shard_env(index: object, count: object) -> dict[str, str | bytes | None]:
    env = json.loads((FIXTURES / "runs" / "base" / "environment.json").read_text())
    env["shard"] = {"index": index, "count": count, "plan_digest": "d"}
    return {"results/s2/environment.json": json.dumps(env)}


def new_case(*args: str) -> tuple[str, ...]:
    return ("new-case", args[0], "--matrix", MATRIX, *args[1:])


def gate(*args: str) -> tuple[str, ...]:
    return ("gate", "--matrix", MATRIX, *args)


def check_cmd(*args: str) -> tuple[str, ...]:
    return ("check", "--matrix", MATRIX, *args)


NEW_BUILD = ("--python", "cp312")
MERGE = ("merge", S1, S2, "--out")
BAD_FORMAT = "--format {bad}: unknown; choose from md,html,junit,summary"

ROWS = [
    # --- report: flags checked before anything is read or rewritten -----------------------------------------
    Row(
        "report-rejudge-format-bogus",
        report(BASE, "--rejudge", "--format", "bogus", "--matrix", MATRIX),
        (BAD_FORMAT.replace("{bad}", "bogus"),),
    ),
    Row("report-format-bogus", report(BASE, "--format", "pdf"), (BAD_FORMAT.replace("{bad}", "pdf"),)),
    Row("report-format-one-bogus", report(BASE, "--format", "md,pdf"), (BAD_FORMAT.replace("{bad}", "pdf"),)),
    Row("report-format-empty", report(BASE, "--format", ""), ("--format '': empty",)),
    Row("report-format-commas", report(BASE, "--format", ",,"), ("--format ',,': empty",)),
    Row(
        "report-rejudge-format-empty",
        report(BASE, "--rejudge", "--format", "", "--matrix", MATRIX),
        ("--format '': empty",),
    ),
    Row(
        "report-baseline-missing",
        report(BASE, "--baseline", "{root}/nope"),
        ("--baseline {root}/nope: no such directory",),
    ),
    Row("report-baseline-file", report(BASE, "--baseline", MATRIX), (f"--baseline {MATRIX}: is a file",)),
    Row(
        "report-baseline-not-a-run",
        report(BASE, "--baseline", "{root}/extensions"),
        ("--baseline {root}/extensions: no results.jsonl there",),
    ),
    Row("report-baseline-empty", report(BASE, "--baseline", ""), ("argument --baseline: empty",)),
    Row("report-run-missing", report("{root}/nope"), ("RUN_DIR {root}/nope: no such directory",)),
    Row("report-run-file", report(MATRIX), (f"RUN_DIR {MATRIX}: is a file",)),
    Row("report-run-not-a-run", report("{root}/extensions"), ("RUN_DIR {root}/extensions: no results.jsonl",)),
    Row("report-run-empty", report(""), ("argument run_dir: empty",)),
    Row(
        "report-run-symlink-loop",
        report("{root}/results/loop"),
        ("RUN_DIR {root}/results/loop: no such",),
        links={"results/loop": "{root}/results/loop"},
    ),
    Row(
        "report-all-flags-together",
        report("{root}/nope", "--format", "x", "--baseline", "{root}/nope2"),
        ("RUN_DIR {root}/nope:", "--format x:", "--baseline {root}/nope2:"),
    ),
    Row(
        "report-rejudge-matrix-missing",
        report(BASE, "--rejudge", "--matrix", "{root}/none.toml"),
        ("{root}/none.toml: file not found",),
    ),
    Row(
        "report-rejudge-matrix-malformed",
        report(BASE, "--rejudge", "--matrix", "{root}/bad.toml"),
        ("{root}/bad.toml", "TOML"),
        files={"bad.toml": "[targets\n"},
    ),
    Row(
        "report-rejudge-matrix-latin1",
        report(BASE, "--rejudge", "--matrix", "{root}/bad.toml"),
        ("{root}/bad.toml: not UTF-8",),
        files={"bad.toml": b"# caf\xe9\n"},
    ),
    Row(
        "report-rejudge-installers-empty",
        report(BASE, "--rejudge", "--matrix", "{root}/bad.toml"),
        ("{root}/bad.toml: installers: empty",),
        files={"bad.toml": "installers = []\n[targets.abi3]\nmin_python = '3.9'\n"},
    ),
    Row(
        "report-rejudge-link-javascript",
        report(BASE, "--rejudge", "--matrix", "{root}/bad.toml"),
        ("{root}/bad.toml: known_issue[0].link: required",),
        files={
            "bad.toml": "[targets.abi3]\nmin_python = '3.9'\n"
            "[[known_issue]]\ncase = '*'\nlink = 'javascript:alert(1)'\n"
        },
    ),
    Row(
        "report-md-is-a-directory",
        report(BASE),
        ("{root}/results/base/report.md: a directory where a report goes",),
        code=1,
        dirs=("results/base/report.md",),
        absent=("results/base/report.html",),
    ),
    Row(
        "report-html-is-a-directory",
        report(BASE),
        ("report.html: a directory where a report goes",),
        code=1,
        dirs=("results/base/report.html/x",),
        absent=("results/base/report.md",),
    ),
    Row(
        "report-junit-is-a-directory",
        report(BASE, "--format", "md,junit"),
        ("junit.xml: a directory",),
        code=1,
        dirs=("results/base/junit.xml",),
        absent=("results/base/report.md",),
    ),
    Row(
        "report-rejudge-md-is-a-directory",
        report(BASE, "--rejudge", "--matrix", MATRIX),
        ("report.md: a directory where a report goes",),
        code=1,
        dirs=("results/base/report.md",),
    ),
    Row("report-md-symlink-out", report(BASE), (), code=0, links={"results/base/report.md": "{root}/victim/keep.txt"}),
    Row(
        "report-html-symlink-out",
        report(BASE, "--format", "html"),
        (),
        code=0,
        links={"results/base/report.html": "{root}/victim/sub/data"},
    ),
    Row(
        "report-junit-symlink-out",
        report(BASE, "--format", "junit,summary"),
        (),
        code=0,
        links={"results/base/junit.xml": "{root}/victim/keep.txt", "results/base/summary.md": "{root}/victim/sub/data"},
    ),
    Row(
        "report-tmp-symlink-out",
        report(BASE, "--rejudge", "--matrix", MATRIX),
        (),
        code=0,
        links={
            "results/base/results.tmp": "{root}/victim/keep.txt",
            "results/base/environment.tmp": "{root}/victim/sub",
        },
        rewrites=True,
    ),
    Row(
        "report-surface-latin1",
        report(BASE),
        ("{root}/results/base/surface.md: not UTF-8",),
        code=3,
        files={"results/base/surface.md": b"\xff\xfe"},
    ),
    Row(
        "report-surface-symlink-out",
        report(BASE),
        ("surface.md: leads outside",),
        code=3,
        links={"results/base/surface.md": "{root}/victim/keep.txt"},
    ),
    Row(
        "report-latest-is-a-directory",
        report("{root}/results/latest"),
        (),
        code=0,
        files={"results/latest/results.jsonl": (FIXTURES / "runs" / "base" / "results.jsonl").read_text()},
    ),
    # --- diff ---------------------------------------------------------------------------------------------
    Row("diff-baseline-missing", ("diff", "{root}/nope", NEW), ("BASELINE_RUN {root}/nope: no such directory",)),
    Row("diff-new-missing", ("diff", BASE, "{root}/nope"), ("NEW_RUN {root}/nope: no such directory",)),
    Row("diff-both-missing", ("diff", "{root}/a", "{root}/b"), ("BASELINE_RUN {root}/a:", "NEW_RUN {root}/b:")),
    Row("diff-baseline-file", ("diff", MATRIX, NEW), (f"BASELINE_RUN {MATRIX}: is a file",)),
    Row("diff-new-not-a-run", ("diff", BASE, "{root}/extensions"), ("NEW_RUN {root}/extensions: no results.jsonl",)),
    Row("diff-empty", ("diff", "", NEW), ("argument BASELINE_RUN: empty",)),
    Row("diff-regression", ("diff", BASE, NEW), (), code=1),
    # --- merge --------------------------------------------------------------------------------------------
    Row("merge-out-file", (*MERGE, MATRIX), (f"--out {MATRIX}: is a file",)),
    Row("merge-out-under-file", (*MERGE, "{root}/matrix.toml/x"), ("{root}/matrix.toml is a file",)),
    Row("merge-out-empty", (*MERGE, ""), ("argument --out: empty",)),
    Row("merge-out-exists", (*MERGE, BASE), ("{root}/results/base/results.jsonl: exists",)),
    Row("merge-run-missing", ("merge", S1, "{root}/nope", "--out", "{root}/m"), ("RUN_DIR {root}/nope: no such",)),
    Row("merge-run-file", ("merge", S1, MATRIX, "--out", "{root}/m"), (f"RUN_DIR {MATRIX}: is a file",)),
    Row(
        "merge-shard-3-of-2",
        (*MERGE, "{root}/m"),
        ("{root}/results/s2/environment.json", "shard"),
        code=3,
        files=shard_env(3, 2),
    ),
    Row(
        "merge-shard-count-huge",
        (*MERGE, "{root}/m"),
        ("{root}/results/s2/environment.json", "shard.count"),
        code=3,
        files=shard_env(1, 100000000000),
    ),
    Row(
        "merge-shard-index-zero",
        (*MERGE, "{root}/m"),
        ("{root}/results/s2/environment.json", "shard.index"),
        code=3,
        files=shard_env(0, 2),
    ),
    Row(
        "merge-shard-index-text",
        (*MERGE, "{root}/m"),
        ("{root}/results/s2/environment.json", "shard.index"),
        code=3,
        files=shard_env("two", 2),
    ),
    Row(
        "merge-shard-index-bool",
        (*MERGE, "{root}/m"),
        ("{root}/results/s2/environment.json", "shard.index"),
        code=3,
        files=shard_env(True, 2),
    ),
    Row("merge-not-a-shard", ("merge", BASE, S1, "--out", "{root}/m"), ("no `shard` entry",)),
    Row("merge-same-shard-twice", ("merge", S1, S1, "--out", "{root}/m"), ("shard 1/2 also in",)),
    Row("merge-a-shard-missing", ("merge", S1, "--out", "{root}/m"), ("missing shard 2/2",)),
    Row(
        "merge-logs-symlink-out",
        (*MERGE, "{root}/m"),
        (),
        code=0,
        links={"results/s1/logs/cells/secret.log": "{root}/victim/keep.txt"},
        absent=("m/logs/cells/secret.log",),
    ),
    Row(
        "merge-logs-dir-symlink-out",
        (*MERGE, "{root}/m"),
        (),
        code=0,
        links={"results/s1/logs": "{root}/victim"},
        absent=("m/logs/keep.txt",),
    ),
    Row(
        "merge-surface-symlink-out",
        (*MERGE, "{root}/m"),
        (),
        code=0,
        links={"results/s1/surface.md": "{root}/victim/keep.txt"},
        absent=("m/surface.md",),
    ),
    # --- sync-cases: nothing read or written outside the cases ------------------------------------------------
    Row(
        "sync-dest-dotdot",
        sync(),
        ("cases.toml: ['sysconfig/c-api'].'../../../victim/x': destination",),
        files=manifest("../../../victim/x"),
        absent=("victim/x",),
    ),
    Row(
        "sync-dest-absolute",
        sync(),
        ("destination '{root}/victim/x'", "is absolute"),
        files=manifest("{root}/victim/x"),
    ),
    Row("sync-dest-empty-part", sync(), ("'src//x.h' has an empty part",), files=manifest("src//x.h")),
    Row("sync-dest-unknown-placeholder", sync(), ("'src/{nope}.c'",), files=manifest("src/{nope}.c")),
    Row("sync-dest-hidden", sync(), ("'.git/config'",), files=manifest(".git/config")),
    Row(
        "sync-template-dotdot",
        sync(),
        ("template '../../victim/keep.txt'",),
        files=manifest("src/x.h", "../../victim/keep.txt"),
        absent=(f"{CASE}/src/x.h",),
    ),
    Row(
        "sync-template-absolute",
        sync(),
        ("template '/etc/hostname'", "is absolute"),
        files=manifest("src/x.h", "/etc/hostname"),
        absent=(f"{CASE}/src/x.h",),
    ),
    Row(
        "sync-template-missing",
        sync(),
        ("no template {root}/extensions/_shared/nope.h",),
        files=manifest("src/x.h", "nope.h"),
    ),
    Row(
        "sync-template-symlink-out",
        sync(),
        ("template 'evil.h'", "leads outside"),
        files=manifest("src/x.h", "evil.h"),
        links={"extensions/_shared/evil.h": "{root}/victim/keep.txt"},
        absent=(f"{CASE}/src/x.h",),
    ),
    Row(
        "sync-copy-symlink-out",
        sync(),
        ("destination 'src/abitest_facts.h'", "leads outside"),
        links={f"{CASE}/src/abitest_facts.h": "{root}/victim/keep.txt"},
    ),
    Row(
        "sync-src-dir-symlink-out",
        sync(),
        ("destination 'src/abitest_facts.h'", "leads outside"),
        links={f"{CASE}/src": "{root}/victim"},
        absent=("victim/abitest_facts.h",),
    ),
    Row(
        "sync-case-dotdot",
        sync(),
        ("['../sysconfig']: not a case id",),
        files=manifest("x.h", case="../sysconfig"),
    ),
    Row(
        "sync-case-three-parts",
        sync(),
        ("['sysconfig/../c-api']: expected a case id",),
        files=manifest("x.h", case="sysconfig/../c-api"),
    ),
    Row("sync-case-dotdot-part", sync(), ("['../c-api']:",), files=manifest("x.h", case="../c-api")),
    Row(
        "sync-case-colon",
        sync(),
        ("['sys:config/c-api']: not a case id",),
        files=manifest("x.h", case="sys:config/c-api"),
    ),
    Row(
        "sync-case-one-part",
        sync(),
        ("['sysconfig']: expected a case id BACKEND/BINDING",),
        files=manifest("x.h", case="sysconfig"),
    ),
    Row("sync-case-missing", sync(), ("['sysconfig/nope']: no case",), files=manifest("x.h", case="sysconfig/nope")),
    Row(
        "sync-case-symlink-out",
        sync(),
        ("['sysconfig/out']", "leads outside"),
        files={"victim/case.toml": "x", MANIFEST: '["sysconfig/out"]\n"x.h" = "facts.h"\n'},
        links={"extensions/sysconfig/out": "{root}/victim"},
    ),
    Row("sync-manifest-latin1", sync(), ("cases.toml: not UTF-8",), files={MANIFEST: b"# caf\xe9\n"}),
    Row("sync-manifest-malformed", sync(), ("cases.toml",), files={MANIFEST: "[x\n"}),
    Row(
        "sync-manifest-value-int",
        sync(),
        ("cases.toml", "sysconfig/c-api"),
        files={MANIFEST: '["sysconfig/c-api"]\n"x.h" = 5\n'},
    ),
    Row(
        "sync-manifest-not-a-table",
        sync(),
        ("cases.toml", "sysconfig/c-api"),
        files={MANIFEST: '"sysconfig/c-api" = 5\n'},
    ),
    Row(
        "sync-manifest-nested",
        sync(),
        ("cases.toml",),
        files={MANIFEST: '["sysconfig/c-api".src]\n"x.h" = "facts.h"\n'},
    ),
    Row("sync-template-latin1", sync(), ("facts.h: not UTF-8",), files={"extensions/_shared/facts.h": b"/* \xe9 */"}),
    Row("sync-copy-latin1", sync(), ("abitest_facts.h: not UTF-8",), files={f"{CASE}/src/abitest_facts.h": b"\xe9"}),
    Row("sync-check-dest-dotdot", sync("--check"), ("destination",), files=manifest("../../../victim/x")),
    Row("sync-check-template-dotdot", sync("--check"), ("template",), files=manifest("x.h", "../../victim/keep.txt")),
    Row(
        "sync-check-copy-symlink-out",
        sync("--check"),
        ("leads outside",),
        links={f"{CASE}/src/abitest_facts.h": "{root}/victim/keep.txt"},
    ),
    Row(
        "sync-all-problems-together",
        sync(),
        ("'../a'", "'/b'", "no template"),
        files={MANIFEST: '["sysconfig/c-api"]\n"../a" = "facts.h"\n"/b" = "facts.h"\n"c" = "none.h"\n'},
    ),
    Row("sync-writes-inside", sync(), (), code=0),
    # --- new-case -----------------------------------------------------------------------------------------
    Row(
        "new-case-cases-dir-file",
        ("new-case", "sysconfig/x", "--matrix", MATRIX, "--cases-dir", MATRIX),
        (f"--cases-dir {MATRIX}: is a file",),
    ),
    Row(
        "new-case-cases-dir-under-file",
        ("new-case", "sysconfig/x", "--matrix", MATRIX, "--cases-dir", MATRIX + "/x"),
        ("{root}/matrix.toml is a file",),
    ),
    Row("new-case-exists", new_case("sysconfig/c-api"), ("BACKEND/BINDING sysconfig/c-api:", "already exists")),
    Row(
        "new-case-dangling-symlink",
        new_case("sysconfig/y"),
        ("BACKEND/BINDING sysconfig/y:", "already exists"),
        links={"extensions/sysconfig/y": "{root}/extensions/sysconfig/none"},
    ),
    Row(
        "new-case-dangling-symlink-out",
        new_case("sysconfig/y"),
        ("BACKEND/BINDING sysconfig/y:", "leads outside"),
        links={"extensions/sysconfig/y": "{root}/victim/none"},
    ),
    Row(
        "new-case-backend-symlink-out",
        new_case("meson/x", "--from", "sysconfig/c-api"),
        ("{root}/extensions/meson/sub: no case.toml",),  # refused by the case loader before new-case looks
        links={"extensions/meson": "{root}/victim"},
    ),
    Row(
        "new-case-backend-is-file",
        new_case("meson/x", "--from", "sysconfig/c-api"),
        ("BACKEND/BINDING meson/x: {root}/extensions/meson is a file",),
        files={"extensions/meson": "x"},
    ),
    Row("new-case-from-empty", new_case("sysconfig/x", "--from", ""), ("--from '': no such case",)),
    Row("new-case-empty", new_case(""), ("expected BACKEND/BINDING",)),
    Row("new-case-writes-inside", new_case("sysconfig/y"), (), code=0, absent=("victim/y",)),
    Row("new-case-elsewhere", new_case("sysconfig/y", "--cases-dir", "{root}/more"), (), code=0),
    Row("new-case-dotdot", ("new-case", "../x", "--matrix", MATRIX), ("BACKEND '..'",)),
    Row("new-case-three-parts", ("new-case", "a/b/c", "--matrix", MATRIX), ("BINDING 'b/c'",)),
    Row("new-case-no-binding", ("new-case", "sysconfig", "--matrix", MATRIX), ("expected BACKEND/BINDING",)),
    Row("new-case-upper", ("new-case", "Sysconfig/x", "--matrix", MATRIX), ("BACKEND 'Sysconfig'",)),
    Row("new-case-semicolon", ("new-case", "sysconfig/a;b", "--matrix", MATRIX), ("BINDING 'a;b'",)),
    Row(
        "new-case-from-unknown",
        ("new-case", "sysconfig/x", "--matrix", MATRIX, "--from", "nope/none"),
        ("--from 'nope/none': no such case",),
    ),
    # --- provision, cases, surface, interpreters -------------------------------------------------------------
    Row("provision-into-file", ("provision", "--into", MATRIX), (f"--into {MATRIX}: is a file",)),
    Row("provision-into-empty", ("provision", "--into", ""), ("argument --into: empty",)),
    Row("provision-unknown", ("provision", "conda", "--into", "{root}/p"), ("unknown provider 'conda'",)),
    Row("cases-matrix-missing", ("cases", "--matrix", "{root}/none.toml"), ("{root}/none.toml: file not found",)),
    Row("cases-matrix-empty", ("cases", "--matrix", ""), ("argument --matrix: empty",)),
    Row(
        "cases-bad-env-key",
        ("cases", "--matrix", MATRIX),
        ("targets.abi3.env.A=B: not an environment variable",),
        files={f"{CASE}/case.toml": 'description = "d"\n[targets.abi3]\nenv = { "A=B" = "1" }\n'},
    ),
    Row(
        "surface-diff-unknown",
        ("surface", "--matrix", MATRIX, "--diff", "cp399", "cp312"),
        ("no interpreter matched 'cp399'",),
    ),
    Row(
        "interpreters-python-missing",
        ("interpreters", "--matrix", MATRIX, "--python", "/no/python"),
        ("'/no/python': no executable file there",),
    ),
    # --- preference: its flags before its (long) experiment ---------------------------------------------------
    Row("preference-jobs-zero", ("preference", "--matrix", MATRIX, "--jobs", "0"), ("--jobs 0: expected 1 to",)),
    Row(
        "preference-output-directory",
        ("preference", "--matrix", MATRIX, "--output", "{root}/results"),
        ("--output {root}/results: a directory",),
    ),
    Row(
        "preference-keep-output-file",
        ("preference", "--matrix", MATRIX, "--keep-output", MATRIX),
        (f"--keep-output {MATRIX}: is a file",),
    ),
    Row("preference-case-unknown", ("preference", "--matrix", MATRIX, "--case", "nope/none"), ("--case nope/none",)),
    Row("preference-source-unknown", ("preference", "--matrix", MATRIX, "--source", "ftp"), ("--source ftp",)),
    # --- gate: every flag checked before discovery probes a path or a run directory is made -----------------
    Row("gate-python-none", gate(), ("--python: give the new build once",)),
    Row("gate-python-twice", gate("--python", "cp312", "--python", "cp313"), ("--python: give the new build once",)),
    Row("gate-python-empty", gate("--python", ""), ("--python '': empty",)),
    Row("gate-python-path-missing", gate("--python", "{root}/nope/python"), ("--python {root}/nope/python: no such",)),
    Row("gate-python-path-directory", gate("--python", "{root}/bin"), ("--python {root}/bin: not an executable",)),
    Row("gate-python-not-executable", gate("--python", MATRIX), (f"--python {MATRIX}: not an executable",)),
    Row("gate-baseline-path-missing", gate(*NEW_BUILD, "--baseline", "{root}/nope"), ("--baseline {root}/nope: no",)),
    Row("gate-baseline-empty", gate(*NEW_BUILD, "--baseline", " "), ("--baseline ' ': empty",)),
    Row("gate-case-empty", gate(*NEW_BUILD, "--case", ""), ("--case '': empty",)),
    Row("gate-target-empty", gate(*NEW_BUILD, "--target", ""), ("--target '': empty",)),
    Row("gate-timeout-inf", gate(*NEW_BUILD, "--timeout", "inf"), ("--timeout inf: expected seconds",)),
    Row("gate-timeout-huge", gate(*NEW_BUILD, "--timeout", "1e23"), ("--timeout 1e+23: expected seconds",)),
    Row("gate-installer-unknown", gate(*NEW_BUILD, "--installer", "conda"), ("--installer conda: choose from",)),
    Row("gate-installer-empty", gate(*NEW_BUILD, "--installer", ","), ("--installer ,: choose from",)),
    Row("gate-results-file", gate(*NEW_BUILD, "--results", MATRIX), (f"--results {MATRIX}: is a file",)),
    Row("gate-results-empty", gate(*NEW_BUILD, "--results", ""), ("argument --results: empty",)),
    Row("gate-cache-dir-file", gate(*NEW_BUILD, "--cache-dir", MATRIX), (f"--cache-dir {MATRIX}: is a file",)),
    Row(
        "gate-all-flags-together",
        gate("--python", "{root}/nope", "--baseline", "", "--case", "", "--installer", "x", "--timeout", "inf"),
        (
            "--python {root}/nope: no such",
            "--baseline '': empty",
            "--case '': empty",
            "--installer x:",
            "--timeout inf",
        ),
    ),
    # --- check ----------------------------------------------------------------------------------------------
    Row("check-target-empty", check_cmd(""), ("TARGET '': empty",)),
    Row(
        "check-corpus-missing", check_cmd("--corpus", "{root}/none.toml"), ("--corpus {root}/none.toml: no such file",)
    ),
    Row("check-corpus-directory", check_cmd("--corpus", "{root}/extensions"), ("--corpus {root}/extensions: a dir",)),
    Row("check-corpus-empty", check_cmd("--corpus", ""), ("argument --corpus: empty",)),
    Row("check-import-empty", check_cmd("x==1", "--import", ""), ("--import '': empty",)),
    Row("check-test-empty", check_cmd("x==1", "--test", " "), ("--test ' ': empty",)),
    Row("check-shard-zero", check_cmd("x==1", "--shard", "0/2"), ("--shard",)),
    Row("check-timeout-inf", check_cmd("x==1", "--timeout", "inf"), ("--timeout inf: expected seconds",)),
    Row("check-installer-unknown", check_cmd("x==1", "--installer", "conda"), ("--installer conda: choose from",)),
    Row("check-results-file", check_cmd("x==1", "--results", MATRIX), (f"--results {MATRIX}: is a file",)),
    Row("check-results-empty", check_cmd("x==1", "--results", ""), ("argument --results: empty",)),
    Row(
        "check-all-flags-together",
        check_cmd("", "--corpus", "{root}/none.toml", "--installer", "x", "--shard", "3/2"),
        ("TARGET '': empty", "--corpus {root}/none.toml:", "--installer x:", "--shard"),
    ),
    # --- history --------------------------------------------------------------------------------------------
    Row("history-run-missing", ("history", "{root}/nope"), ("RUN_DIR {root}/nope: no such directory",)),
    Row("history-run-file", ("history", MATRIX), (f"RUN_DIR {MATRIX}: is a file",)),
    Row("history-run-empty", ("history", ""), ("argument RUN_DIR: empty",)),
    Row("history-last-zero", ("history", BASE, "--last", "0"), ("--last 0: expected at least 1",)),
    Row("history-both", ("history", "{root}/nope", "--last", "-1"), ("RUN_DIR {root}/nope:", "--last -1:")),
    Row("history-none-in-run", ("history", BASE), ("no history.json",)),
    # --- nightly --merge ------------------------------------------------------------------------------------
    Row("nightly-out-file", ("nightly", "--merge", S1, S2, "--out", MATRIX), (f"--out {MATRIX}: is a file",)),
    Row(
        "nightly-baseline-missing",
        ("nightly", "--merge", S1, S2, "--out", "{root}/m", "--baseline", "{root}/nope"),
        ("--baseline {root}/nope: no such directory",),
    ),
    Row(
        "nightly-merge-missing",
        ("nightly", "--merge", S1, "{root}/nope", "--out", "{root}/m"),
        ("--merge {root}/nope: no such directory",),
    ),
    Row("nightly-merge-not-shards", ("nightly", "--merge", BASE, NEW, "--out", "{root}/m"), ("no `shard` entry",)),
    Row(
        "nightly-merge-shard-3-of-2",
        ("nightly", "--merge", S1, S2, "--out", "{root}/m"),
        ("{root}/results/s2/environment.json",),
        code=3,
        files=shard_env(3, 2),
    ),
    Row(
        "nightly-shards-zero", ("nightly", "--shards", "0", "--results", "{root}/n"), ("--shards 0: expected 1 to 64",)
    ),
    Row("nightly-shards-huge", ("nightly", "--shards", "100000", "--results", "{root}/n"), ("--shards 100000",)),
    Row("nightly-results-file", ("nightly", "--shards", "1", "--results", MATRIX), (f"--results {MATRIX}: is a file",)),
    Row(
        "nightly-merge-symlinked-logs",
        ("nightly", "--merge", S1, S2, "--out", "{root}/m"),
        (),
        code=0,
        links={"results/s1/logs": "{root}/victim"},
        absent=("m/logs/keep.txt",),
    ),
]


@pytest.mark.usefixtures("recorded_probe")
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input_command(
    row: Row, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    check(row, tmp_path, capsys, monkeypatch)


def test_rows_unique() -> None:
    assert len({r.id for r in ROWS}) == len(ROWS)


def test_preference_output_under_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    row = Row(
        "x",
        ("preference", "--matrix", MATRIX, "--output", MATRIX + "/p.json"),
        ("--output {root}/matrix.toml/p.json: its directory cannot be made",),
    )
    check(row, tmp_path, capsys, monkeypatch)
