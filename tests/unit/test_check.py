"""`check`: wheels built elsewhere read, fetched and judged (no interpreter is run).

Fixtures in tests/fixtures/check/: a real wheel from PyPI (MarkupSafe 3.0.2, cp312), PyPI's PEP 691
JSON and PEP 503 HTML pages of markupsafe (cut to 3.0.1 and 3.0.2), and four records with the
environment.json of a real `check markupsafe==3.0.2 --python cp39 --python cp312 --python cp313` run
(its case ids rewritten from the first naming, check/markupsafe==3.0.2, to markupsafe/3.0.2).
Variants change the one fact a rule reads, with dataclasses.replace.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace as restruct
from packaging.requirements import Requirement

from harness.__main__ import main
from harness.build import index
from harness.build.wheelfile import is_extension, read_wheel
from harness.cell.observe import FileLoad, LoadObs, LoadOutcome, Observed, Route
from harness.config.corpus import load_corpus
from harness.errors import ConfigError, HarnessError
from harness.model import Cell, Status, TargetKind
from harness.reports.html import html_report
from harness.reports.markdown import claims, markdown
from harness.run.manifest import RunManifest
from harness.run.records import Record, load
from harness.run.rejudge import rejudge
from harness.verdict.judge import CellFacts, judge
from harness.verdict.stages import StageResult
from harness.workflows.check import Found, spec_of, target_of
from tests.conftest import FIXTURES, REPO, recorded

CHECK = FIXTURES / "check"
WHEEL = CHECK / "MarkupSafe-3.0.2-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
EXT = "markupsafe/_speedups.cpython-312-x86_64-linux-gnu.so"


def test_a_real_wheel_is_read_with_what_to_import() -> None:
    info = read_wheel(WHEEL)
    assert (info.name, info.version) == ("markupsafe", "3.0.2")
    assert info.tags == ("cp312-cp312-manylinux2014_x86_64", "cp312-cp312-manylinux_2_17_x86_64")
    assert info.ext_files == (EXT,)
    assert info.imports == ("markupsafe", "markupsafe._speedups")
    assert info.record_problems == ()
    assert info.tag_name == "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"


def _rewrite(dest: Path, change: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> Path:
    """A copy of the real wheel with some members changed (bytes) or left out (None), RECORD untouched."""
    with zipfile.ZipFile(WHEEL) as src, zipfile.ZipFile(dest, "w") as out:
        for item in src.infolist():
            data = change.get(item.filename, src.read(item.filename))
            if data is not None:
                out.writestr(item.filename, data)
        for name, data in (add or {}).items():
            out.writestr(name, data)
    return dest


def test_a_lying_record_is_named_file_by_file(tmp_path: Path) -> None:
    lying = _rewrite(
        tmp_path / WHEEL.name,
        {"markupsafe/__init__.py": b"raise SystemExit\n", EXT: None},
        {"markupsafe/extra.py": b""},
    )
    assert read_wheel(lying).record_problems == (
        "markupsafe/__init__.py: sha256 in RECORD is not the file's",
        f"{EXT} is listed but not in the archive",
        "markupsafe/extra.py is in the archive but not in RECORD",
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "not a wheel: "),
        ("pkg-1.0-py3-none-any.whl", b"not a zip", "not a readable zip archive"),
    ],
)
def test_what_is_not_a_wheel_is_a_config_error(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        read_wheel(path)


def test_a_wheel_without_record_is_not_a_wheel(tmp_path: Path) -> None:
    dest = _rewrite(tmp_path / WHEEL.name, {"MarkupSafe-3.0.2.dist-info/RECORD": None})
    with pytest.raises(ConfigError, match=r"not a wheel: no \*\.dist-info/RECORD"):
        read_wheel(dest)


@pytest.mark.parametrize(
    ("path", "extension"),
    [
        ("pkg/_m.cpython-312-x86_64-linux-gnu.so", True),
        ("pkg/_m.cpython-314t-x86_64-linux-gnu.so", True),
        ("pkg/_m.abi3.so", True),
        ("pkg/_m.abi3t.so", True),
        ("_m.pypy311-pp73-x86_64-linux-gnu.so", True),
        ("pkg/_m.so", True),
        ("pkg.libs/libssl-1a2b3c.so.3", False),  # auditwheel's bundled library
        ("pkg/libfoo.so", False),
        ("pkg/_m.py", False),
    ],
)
def test_extension_modules_apart_from_bundled_libraries(path: str, extension: bool) -> None:
    assert is_extension(path) is extension


@pytest.mark.parametrize(
    ("tags", "kind", "floor"),
    [
        (("cp39-abi3-manylinux_2_34_x86_64",), TargetKind.ABI3, (3, 9)),
        (("cp315-abi3-manylinux_2_34_x86_64", "cp315-abi3t-manylinux_2_34_x86_64"), TargetKind.ABI3_ABI3T, (3, 15)),
        (("cp315-abi3t-manylinux_2_34_x86_64",), TargetKind.ABI3T, (3, 15)),
        (("cp314-cp314t-manylinux_2_34_x86_64",), TargetKind.VERSION_SPECIFIC, None),
        (("py3-none-any",), TargetKind.ABI_NONE, None),
    ],
)
def test_a_wheels_tags_give_its_target(tags: tuple[str, ...], kind: TargetKind, floor: tuple[int, int] | None) -> None:
    target = target_of(replace(read_wheel(WHEEL), tags=tags))
    assert (target.kind, target.min_python) == (kind, floor)


def test_spec_groups_by_distribution_and_version() -> None:
    spec = spec_of(Found(read_wheel(WHEEL), "file", str(WHEEL), ()))
    assert spec.id == "markupsafe/3.0.2:cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64:file"
    assert spec.imports == ("markupsafe", "markupsafe._speedups")
    assert spec.build_interpreter is None
    assert spec_of(Found(read_wheel(WHEEL), "file", str(WHEEL), ("markupsafe",))).imports == ("markupsafe",)


# -- the index --------------------------------------------------------------------------------


def test_pep691_json_and_pep503_html_list_the_same_files() -> None:
    url = "https://pypi.org/simple/markupsafe/"
    from_json = index.parse_page(
        (CHECK / "markupsafe-simple.json").read_bytes(), "application/vnd.pypi.simple.v1+json", url
    )
    from_html = index.parse_page((CHECK / "markupsafe-simple.html").read_bytes(), "text/html", url)
    assert len(from_json) == 62
    assert {(f.filename, f.sha256) for f in from_json} == {(f.filename, f.sha256) for f in from_html}


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda page: page.update(files={}), "files: expected array, got object"),
        (lambda page: page["files"][0].update(filename=None), "files[0].filename: expected str, got null"),
        (lambda page: page["files"][1].update(hashes=["sha256"]), "files[1].hashes: expected object, got array"),
        (lambda page: page["files"][2].update(yanked=1), "files[2].yanked: expected bool | str, got int"),
        (lambda page: page.pop("files"), "missing required field files"),
    ],
)
def test_a_pep691_page_that_does_not_fit_names_the_field(damage: Any, named: str) -> None:
    page = json.loads((CHECK / "markupsafe-simple.json").read_text())  # recorded from pypi.org
    damage(page)
    url = "https://pypi.org/simple/markupsafe/"
    with pytest.raises(HarnessError) as caught:
        index.parse_page(json.dumps(page).encode(), "application/vnd.pypi.simple.v1+json", url)
    assert str(caught.value).startswith(f"{url} (PEP 691 JSON): ")
    assert named in str(caught.value)


@pytest.mark.parametrize(
    ("requirement", "version"), [("markupsafe", "3.0.2"), ("markupsafe<3.0.2", "3.0.1"), ("MarkupSafe==3.0.2", "3.0.2")]
)
def test_the_newest_admitted_version_is_chosen(requirement: str, version: str) -> None:
    files = index.parse_page((CHECK / "markupsafe-simple.json").read_bytes(), "json", "https://pypi.org/simple/m/")
    assert str(index.choose_version(Requirement(requirement), files)) == version


def test_a_version_the_index_lacks_is_a_config_error() -> None:
    files = index.parse_page((CHECK / "markupsafe-simple.json").read_bytes(), "json", "https://pypi.org/simple/m/")
    with pytest.raises(ConfigError, match=r"no version matches on the index \(newest: 3.0.1, 3.0.2\)"):
        index.choose_version(Requirement("markupsafe==9"), files)


@pytest.mark.parametrize(
    ("filename", "fits"),
    [
        ("m-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", True),
        ("m-1-cp315-cp315-manylinux_2_39_x86_64.whl", True),  # the oracle decides which glibc suffices
        ("m-1-py3-none-any.whl", True),
        ("m-1-cp312-cp312-musllinux_1_2_x86_64.whl", False),
        ("m-1-cp312-cp312-manylinux_2_17_aarch64.whl", False),
        ("m-1-cp312-cp312-macosx_11_0_arm64.whl", False),
    ],
)
def test_wheels_for_this_platform(filename: str, fits: bool) -> None:
    assert index.fits_here(filename, "x86_64") is fits


def _file_index(root: Path, wheels: list[str]) -> str:
    """A PEP 503 index on the file system (file:// URLs), its wheels copies of the real one renamed."""
    page = root / "simple" / "markupsafe"
    page.mkdir(parents=True)
    links = []
    for name in wheels:
        (root / name).write_bytes(WHEEL.read_bytes())
        links.append(f'<a href="../../{name}#sha256={hashlib.sha256(WHEEL.read_bytes()).hexdigest()}">{name}</a>')
    (page / "index.html").write_text("<html><body>" + "".join(links) + "</body></html>")
    return (root / "simple").as_uri()


def test_a_release_is_downloaded_once_by_hash(tmp_path: Path) -> None:
    url = _file_index(tmp_path / "idx", [WHEEL.name, "MarkupSafe-3.0.2-cp312-cp312-musllinux_1_2_x86_64.whl"])
    release = index.release_wheels(Requirement("markupsafe"), url, tmp_path / "cache", arch="x86_64")
    assert [f.filename for f, _ in release.wheels] == [WHEEL.name]
    assert release.left_out == ("MarkupSafe-3.0.2-cp312-cp312-musllinux_1_2_x86_64.whl",)
    (_, path), digest = release.wheels[0], hashlib.sha256(WHEEL.read_bytes()).hexdigest()
    assert path == tmp_path / "cache" / "check" / "wheels" / digest / WHEEL.name
    assert read_wheel(path).record_problems == ()


def test_a_release_without_a_wheel_for_this_platform_is_a_config_error(tmp_path: Path) -> None:
    url = _file_index(tmp_path / "idx", ["MarkupSafe-3.0.2-cp312-cp312-macosx_11_0_arm64.whl"])
    with pytest.raises(ConfigError, match=r"markupsafe 3\.0\.2 has no wheel for linux x86_64"):
        index.release_wheels(Requirement("markupsafe==3.0.2"), url, tmp_path / "cache", arch="x86_64")


def test_an_unreachable_index_is_said(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="index unreachable"):
        index.project_files("http://127.0.0.1:9/simple", "markupsafe")


# -- judging a check cell ---------------------------------------------------------------------


def _records() -> tuple[list[Record], RunManifest]:
    return load(CHECK / "run")


def _facts(cell_suffix: str, observed: Observed | None = None, run: str | None = None) -> CellFacts:
    records, env = _records()
    record = next(r for r in records if r.cell.endswith(cell_suffix))
    interps = env.interpreters_on_file()
    target = target_of(replace(read_wheel(WHEEL), tags=tuple(record.wheel_tags)))
    assert record.observed is not None
    return CellFacts(
        cell=Cell.parse(record.cell),
        target=target,
        build=None,
        run=recorded(run) if run else interps[record.run_python],
        observed=observed or record.observed,
    )


def test_recorded_check_cells_judge_as_they_did() -> None:
    records, env = _records()
    again, changes = rejudge(records, env, [], [])
    assert changes == []
    installed = next(
        r for r in again if r.cell.endswith("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64:index:cp312")
    )
    assert installed.stages["import"].reason == (
        "imported 2 module(s), each in its own process: markupsafe, markupsafe._speedups"
    )
    assert installed.stages["test"] == StageResult(Status.SKIP, "no smoke command (--test)")


def test_an_extension_module_that_fails_to_import_fails_the_cell_by_name() -> None:
    facts = _facts(":index:cp312")
    first, second = (x for x in facts.observed.loads if x.route is Route.INSTALLED)
    broken = restruct(second, outcome=LoadOutcome.EXCEPTION, exception="ImportError: undefined symbol: PyFoo")
    verdict = judge(replace(facts, observed=restruct(facts.observed, loads=(first, broken))), [])
    assert (verdict.status, verdict.stage) == (Status.FAIL, "import")
    assert verdict.reason == "markupsafe._speedups: import failed: ImportError: undefined symbol: PyFoo"


@pytest.mark.parametrize(
    ("test", "status", "reason"),
    [
        (
            LoadObs(route=Route.TEST, outcome=LoadOutcome.LOADED, returncode=0, module="pytest -x"),
            Status.PASS,
            "`pytest -x` exited 0",
        ),
        (
            LoadObs(route=Route.TEST, outcome=LoadOutcome.EXCEPTION, exception="exit 1: 1 failed", module="pytest -x"),
            Status.FAIL,
            "`pytest -x` failed: exit 1: 1 failed",
        ),
        (
            LoadObs(route=Route.TEST, outcome=LoadOutcome.TIMEOUT, timeout_s=60, module="pytest -x"),
            Status.TIMEOUT,
            "`pytest -x`: the command did not finish within 60s (killed)",
        ),
    ],
)
def test_the_smoke_command_is_its_own_stage(test: LoadObs, status: Status, reason: str) -> None:
    facts = _facts(":index:cp312")
    verdict = judge(replace(facts, observed=restruct(facts.observed, loads=(*facts.observed.loads, test))), [])
    assert verdict.stages["test"] == StageResult(status, reason)
    assert verdict.status is status


GIL_WARNING = "RuntimeWarning: The global interpreter lock (GIL) has been enabled to load module 'markupsafe._speedups'"


def _on_free_threaded(tags: tuple[str, ...]) -> CellFacts:
    """The recorded cp312 cell as if on the recorded cp314t (its tags replaced), the import warning there."""
    facts = _facts(":index:cp312", run="cp314t")
    loads = tuple(
        restruct(x, import_warnings=(GIL_WARNING,) if x.name == "markupsafe._speedups" else ())
        for x in facts.observed.loads
    )
    assert facts.observed.wheel is not None
    wheel = restruct(facts.observed.wheel, tags=tags)
    return replace(facts, observed=restruct(facts.observed, loads=loads, wheel=wheel))


def test_a_wheel_claiming_free_threading_fails_when_its_import_enables_the_gil() -> None:
    verdict = judge(_on_free_threaded(("cp314-cp314t-manylinux_2_17_x86_64",)), [])
    assert (verdict.status, verdict.stage) == (Status.FAIL, "threads")
    assert "importing markupsafe._speedups re-enabled the GIL" in verdict.reason
    assert "the wheel's tags claim free-threading" in verdict.reason


def test_another_wheel_enabling_the_gil_is_a_finding() -> None:
    verdict = judge(_on_free_threaded(("py3-none-any",)), [])
    assert verdict.status is Status.PASS
    assert [(f.route, f.kind) for f in verdict.findings] == [("installed", "re-enables the GIL")]


# -- reports, corpus, command line --------------------------------------------------------------


def test_each_wheel_where_claimed_against_where_it_works() -> None:
    records, env = _records()
    wheel = "| markupsafe/3.0.2 | `cp{}-manylinux_2_17_x86_64.manylinux2014_x86_64` | "
    assert claims(records)[2:] == [
        wheel.format("312-cp312") + "cp312 | cp312 | - | cp39, cp313 |",
        wheel.format("313-cp313t") + "- | - | - | - |",
    ]
    assert "## Where each wheel works" in markdown(records, env)
    assert "<h2>Where each wheel works</h2>" in html_report(records, env)


def test_the_corpus_covers_languages_and_abis() -> None:
    corpus = load_corpus(REPO / "corpus.toml")
    assert len(corpus.packages) >= 12
    languages = " ".join(p.language for p in corpus.packages)
    assert all(word in languages for word in ("Rust/PyO3", "cffi", "C", "C++", "Cython"))
    globs = " ".join(g for p in corpus.packages for g in p.wheels)
    assert all(abi in globs for abi in ("-abi3-", "-abi3.abi3t-", "-cp314t-", "-cp315t-"))


def test_a_bad_corpus_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "corpus.toml"
    path.write_text('schema_version = 1\n[[package]]\nrequirement = "orjson"\nlangauge = "Rust"\n')
    with pytest.raises(ConfigError) as caught:
        load_corpus(path)
    assert caught.value.problems == [
        f"{path}: package[0].langauge: unknown key; did you mean 'language'?",
        f"{path}: package[0].requirement: 'orjson': pin it (NAME==VERSION), so the nightly checks one release",
        f"{path}: package[0].language: required: what the extension is written in (C, C++, Cython, Rust/PyO3, cffi)",
    ]


@pytest.mark.parametrize(
    ("target", "code", "message"),
    [
        ("notes.txt", 2, "not a wheel"),
        ("missing/pkg-1.0-py3-none-any.whl", 2, "no such file or directory"),
        ("empty-dir", 2, "a directory without *.whl files"),
        ("not a requirement!", 2, "not a wheel, a directory or a requirement"),
    ],
)
def test_bad_targets_exit_2_before_anything_is_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    target: str,
    code: int,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty-dir").mkdir()
    assert main(["check", target, "--cache-dir", str(tmp_path / "cache"), "--results", "out"]) == code
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not list(tmp_path.glob("out/*"))


def test_an_unreachable_index_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["check", "markupsafe", "--index-url", "http://127.0.0.1:9/simple", "--cache-dir", str(tmp_path)]
    assert main([*argv, "--results", str(tmp_path / "out")]) == 1
    assert "http://127.0.0.1:9/simple/markupsafe/: index unreachable" in capsys.readouterr().err


REFUSED = "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64:index:cp313"  # its suffix not listed there


@pytest.mark.parametrize(
    ("outcome", "exception", "files", "status", "reason"),
    [
        # recorded: `import markupsafe` ran its pure-Python fallback, markupsafe._speedups was not found
        (None, None, (), Status.PASS, "none of the wheel's extension files loaded (the imports ended: "),
        # cryptography: `_rust/` holds .pyi stubs, so the name imports as a namespace package
        (LoadOutcome.LOADED, "", (), Status.PASS, "none of the wheel's extension files loaded"),
        # frozenlist on 3.8: its Python code fails before any binary is tried
        (LoadOutcome.EXCEPTION, "AttributeError: module 'types' has no attribute 'GenericAlias'", (), Status.PASS, ""),
        (
            LoadOutcome.LOADED,
            "",
            (EXT,),
            Status.FAIL,
            f"did not fire (the interpreter does not list the file's suffix): {EXT} loaded",
        ),
    ],
)
def test_the_file_name_net_of_a_check_cell_is_judged_by_the_binaries_loaded(
    outcome: LoadOutcome | None, exception: str | None, files: tuple[str, ...], status: Status, reason: str
) -> None:
    facts = _facts(REFUSED)
    sys_path = facts.observed.load(Route.SYS_PATH)
    assert sys_path is not None
    if outcome is not None:
        loaded = tuple(FileLoad(file=f, module="markupsafe._speedups") for f in files)
        sys_path = restruct(sys_path, outcome=outcome, exception=exception or "", files=loaded)
    others = tuple(x for x in facts.observed.loads if x.route is not Route.SYS_PATH)
    verdict = judge(replace(facts, observed=restruct(facts.observed, loads=(sys_path, *others))), [])
    assert verdict.stages["load:sys_path"].status is status
    assert reason in verdict.stages["load:sys_path"].reason
