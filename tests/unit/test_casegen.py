"""Shared case files have one source; new cases are renamed copies that the harness accepts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.__main__ import main
from harness.config import casegen
from harness.config.matrix import load_case, load_cases, load_matrix
from harness.errors import ConfigError
from harness.interpreters import providers
from harness.model import Case
from tests.conftest import REPO

CASES_DIR = load_matrix(REPO / "matrix.toml", providers.names()).cases_dir
CASES = load_cases(CASES_DIR, providers.names())


def test_shared_files_are_in_sync() -> None:
    """Edit extensions/_shared/ and run `python -m harness sync-cases`, never a copy in a case."""
    assert casegen.drift(CASES_DIR) == []


def test_every_manifest_case_exists_and_shared_dir_is_no_case() -> None:
    shared = casegen.load_manifest(CASES_DIR)
    assert {s.case for s in shared} <= {c.id for c in CASES}
    assert not any(c.backend.startswith("_") for c in CASES)
    # each template serves more than one case, else it belongs in the case
    templates = [s.template for s in shared]
    assert all(templates.count(t) > 1 for t in templates)


@pytest.fixture
def cases_copy(tmp_path: Path) -> Path:
    shutil.copytree(CASES_DIR, tmp_path / "extensions")
    return tmp_path / "extensions"


def test_an_edited_copy_is_drift_and_sync_restores_it(cases_copy: Path) -> None:
    copy = cases_copy / "setuptools" / "c-api" / "src" / "abitest_setuptools_c_api.c"
    original = copy.read_text()
    copy.write_text(original.replace("INT_MAX", "INT_MAX - 1"))
    (cases_copy / "sysconfig" / "c-api" / "src" / "abitest_facts.h").unlink()
    assert [(p.relative_to(cases_copy).as_posix(), what[:7]) for p, what in casegen.drift(cases_copy)] == [
        ("setuptools/c-api/src/abitest_setuptools_c_api.c", "--- _sh"),
        ("sysconfig/c-api/src/abitest_facts.h", "missing"),
    ]
    assert len(casegen.sync(cases_copy)) == 2
    assert copy.read_text() == original
    assert casegen.drift(cases_copy) == []


def test_a_template_edit_reaches_every_case_using_it(cases_copy: Path) -> None:
    facts = cases_copy / casegen.SHARED_DIR / "abitest_facts.h"
    facts.write_text(facts.read_text() + "/* new */\n")
    users = {s.case for s in casegen.load_manifest(cases_copy) if s.template == "abitest_facts.h"}
    assert {p.parent.parent.relative_to(cases_copy).as_posix() for p in casegen.sync(cases_copy)} == users


def test_manifest_naming_a_missing_case_or_template(cases_copy: Path) -> None:
    manifest = casegen.manifest_path(cases_copy)
    manifest.write_text(manifest.read_text() + '\n["nope/none"]\n"a.c" = "c_api.c"\n\n["setuptools/c-api"]\n')
    with pytest.raises(ConfigError, match=r"cases\.toml: .*cannot declare .* twice \(at line"):  # a case listed twice
        casegen.load_manifest(cases_copy)
    manifest.write_text('["nope/none"]\n"a.c" = "c_api.c"\n["setuptools/c-api"]\n"x" = "missing.c"\n')
    with pytest.raises(ConfigError) as exc:
        casegen.load_manifest(cases_copy)
    assert len(exc.value.problems) == 2


def test_names_match_the_case_model() -> None:
    for case in CASES:
        assert casegen.names(case.backend, case.binding) == {"dist_name": case.dist_name, "module": case.module}


def valid(case_toml: Path, cases_dir: Path) -> Case:
    return load_case(case_toml, cases_dir, providers.names())


@pytest.mark.parametrize("source", CASES, ids=lambda c: c.id)
def test_new_case_from_each_case_is_a_valid_renamed_case(source: Case, tmp_path: Path) -> None:
    backend, binding = source.backend, f"{source.binding}-new"
    dest = casegen.new_case(source, CASES_DIR, backend, binding, tmp_path, valid)
    case = load_case(dest / "case.toml", tmp_path, providers.names())  # pyproject's name must match the new case
    assert case.id == f"{backend}/{binding}"
    # nothing still carries the old import or distribution name (it would clash with the source case)
    for path in dest.rglob("*"):
        assert source.module not in str(path.relative_to(dest)).replace(case.module, "")
        if path.is_file():
            text = path.read_text(errors="replace").replace(case.module, "").replace(case.dist_name, "")
            assert source.module not in text, path
            assert source.dist_name not in text, path
    # shared files are rendered with the new names, exactly as sync-cases would
    for shared in casegen.load_manifest(CASES_DIR):
        if shared.case == source.id:
            rel = shared.path.replace(source.module, case.module)
            template = (CASES_DIR / casegen.SHARED_DIR / shared.template).read_text()
            assert (dest / rel).read_text() == template.replace("{module}", case.module)


def test_new_case_in_the_cases_dir_joins_the_manifest(cases_copy: Path) -> None:
    cases = load_cases(cases_copy, providers.names())
    source = casegen.pick_source(cases, "setuptools", "c-api-heaptype", "setuptools/c-api")
    casegen.new_case(source, cases_copy, "setuptools", "c-api-heaptype", cases_copy, valid)
    mine = {s.path: s.template for s in casegen.load_manifest(cases_copy) if s.case == "setuptools/c-api-heaptype"}
    assert mine == {"src/abitest_facts.h": "abitest_facts.h", "src/abitest_setuptools_c_api_heaptype.c": "c_api.c"}
    assert casegen.drift(cases_copy) == []
    with pytest.raises(Exception, match="already exists"):
        casegen.new_case(source, cases_copy, "setuptools", "c-api-heaptype", cases_copy, valid)


def test_pick_source() -> None:
    assert casegen.pick_source(CASES, "setuptools", "cython-x", None).id == "setuptools/cython"
    assert casegen.pick_source(CASES, "pdm-backend", "cython", None).binding == "cython"
    with pytest.raises(ConfigError, match="did you mean 'setuptools/c-api'"):
        casegen.pick_source(CASES, "setuptools", "x", "setuptools/capi")


@pytest.mark.parametrize("name", ["Setuptools/x", "setuptools/_x", "setuptools/a b"])
def test_new_case_rejects_bad_names(name: str, tmp_path: Path) -> None:
    backend, _, binding = name.partition("/")
    with pytest.raises(ConfigError, match="lower-case"):
        casegen.new_case(CASES[0], CASES_DIR, backend, binding, tmp_path, valid)


def test_load_cases_ignores_the_shared_dir(cases_copy: Path) -> None:
    (cases_copy / casegen.SHARED_DIR / "x").mkdir()
    (cases_copy / casegen.SHARED_DIR / "x" / "case.toml").write_text("not a case")
    assert [c.id for c in load_cases(cases_copy, providers.names())] == [c.id for c in CASES]


def test_cli_sync_check_and_new_case(cases_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    matrix = cases_copy.parent / "matrix.toml"
    matrix.write_text(f'cases_dir = "{cases_copy}"\n[targets.version-specific]\n')
    assert main(["sync-cases", "--check", "--matrix", str(matrix)]) == 0
    copy = cases_copy / "meson-python" / "cython" / "src" / "abitest_meson_python_cython.pyx"
    copy.write_text(copy.read_text().replace("INT_MAX", "INT_MAX - 1"))
    assert main(["sync-cases", "--check", "--matrix", str(matrix)]) == 1
    assert "1 case files differ" in capsys.readouterr().out
    assert main(["sync-cases", "--matrix", str(matrix)]) == 0
    assert f"updated {copy}" in capsys.readouterr().out
    assert main(["new-case", "setuptools/cython-x", "--matrix", str(matrix)]) == 0
    assert "new case setuptools/cython-x from setuptools/cython" in capsys.readouterr().out
    assert (cases_copy / "setuptools" / "cython-x" / "src" / "abitest_setuptools_cython_x.pyx").is_file()
    assert main(["sync-cases", "--check", "--matrix", str(matrix)]) == 0  # the new case joined the manifest
    assert main(["new-case", "setuptools", "--matrix", str(matrix)]) == 2
    assert "expected BACKEND/BINDING" in capsys.readouterr().err


def test_new_case_that_would_not_be_valid_writes_nothing(cases_copy: Path) -> None:
    """The renamed case is validated on a staged copy: refused, neither the case nor the manifest is written."""
    manifest = casegen.manifest_path(cases_copy).read_bytes()
    source = next(c for c in load_cases(cases_copy, providers.names()) if c.id == "setuptools/c-api")
    seen: list[Path] = []

    def refuse(case_toml: Path, root: Path) -> None:
        seen.append(case_toml)
        assert case_toml.is_file()
        raise ConfigError(f"{case_toml}: description: missing")

    with pytest.raises(ConfigError, match="description: missing"):
        casegen.new_case(source, cases_copy, "setuptools", "c-api-x", cases_copy, refuse)
    assert seen
    assert not seen[0].exists()  # the staging directory is gone
    assert not (cases_copy / "setuptools" / "c-api-x").exists()
    assert casegen.manifest_path(cases_copy).read_bytes() == manifest
