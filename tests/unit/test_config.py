from __future__ import annotations

from pathlib import Path

import pytest

from harness.config.matrix import BUILD_BACKENDS, load_case, load_cases, load_matrix
from harness.errors import ConfigError
from harness.interpreters import providers
from harness.model import Provider, Status, TargetKind
from harness.reports.markdown import CASES_BEGIN, CASES_END, case_table
from tests.conftest import REPO

GOOD = """
schema_version = 1
[discovery]
sources = ["pyenv"]
min_version = "3.9"
[targets.version-specific]
[targets.abi3]
min_python = "3.9"
build_on = ["oldest", "newest"]
[[known_issue]]
case = "setuptools/*"
status = "crash"
link = "https://github.com/pypa/setuptools/issues/4810"
"""


def write(tmp_path: Path, text: str, name: str = "matrix.toml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_matrix(path, providers.names())
    assert info.value.exit_code == 2
    return info.value.problems


def test_good_matrix(tmp_path: Path) -> None:
    matrix = load_matrix(write(tmp_path, GOOD), providers.names())
    assert matrix.sources == (Provider("pyenv"),)
    assert matrix.min_version == (3, 9)
    assert [(t.name, t.kind, t.min_python) for t in matrix.targets] == [
        ("version-specific", TargetKind.VERSION_SPECIFIC, None),
        ("abi3", TargetKind.ABI3, (3, 9)),
    ]
    assert matrix.targets[0].build_on == ("each",)
    assert matrix.known_issues[0].status is Status.CRASH
    assert matrix.known_issues[0].run_python == ("*",)
    assert matrix.known_issues[0].case == ("setuptools/*",)


def test_repository_matrix_and_cases_load() -> None:
    matrix = load_matrix(REPO / "matrix.toml", providers.names())
    cases = load_cases(matrix.cases_dir, providers.names())
    assert {
        "setuptools/c-api",
        "setuptools/cython",
        "setuptools/cffi",
        "meson-python/c-api",
        "scikit-build-core/c-api",
    } <= {c.id for c in cases}
    # every CPython extension builds version-specific; an ABI-independent one builds abi-none instead
    for case in cases:
        kind = TargetKind.ABI_NONE if case.id == "maturin/cffi" else TargetKind.VERSION_SPECIFIC
        assert case.unsupported_reason(kind) is None


def test_malformed_toml_names_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[targets\n")
    (message,) = problems(path)
    assert str(path) in message
    assert "malformed TOML" in message


def test_unknown_key_suggests_close_match(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('build_on = ["oldest", "newest"]', 'bulid_on = ["oldest"]'))
    (message,) = problems(path)
    assert "targets.abi3.bulid_on" in message
    assert "did you mean 'build_on'?" in message


def test_all_problems_reported_together(tmp_path: Path) -> None:
    text = (
        GOOD.replace('min_version = "3.9"', 'min_version = "three"').replace(
            'link = "https://github.com/pypa/setuptools/issues/4810"', ""
        )
        + "\n[targets.abi3t]\n"
    )
    found = problems(write(tmp_path, text))
    assert any("discovery.min_version" in p for p in found)
    assert any("known_issue[0].link" in p for p in found)
    assert any("targets.abi3t.min_python" in p and "required" in p for p in found)


@pytest.mark.parametrize(
    ("snippet", "key", "words"),
    [
        ('[targets.abi4]\nmin_python = "3.9"\n', "targets.abi4.kind", "did you mean 'abi3'?"),
        ('[discovery]\nsources = ["pyenf"]\n', "discovery.sources[0]", "did you mean 'pyenv'?"),
        ('timeout = "soon"\n', "timeout", "expected a number of seconds above 0"),
        (
            '[[known_issue]]\nstatus = "xfail"\nlink = "https://x"\n',
            "known_issue[0].status",
            "choose from fail, crash, timeout",
        ),
        ('[[interpreters]]\nid = "x"\n', "interpreters[0].path", "missing"),
        ('[[known_issue]]\nrun_python = []\nlink = "https://x"\n', "known_issue[0].run_python", "list of globs"),
        ('[targets.version-specific]\nmin_python = "3.9"\n', "targets.version-specific.min_python", "no stable-ABI"),
    ],
)
def test_specific_errors(tmp_path: Path, snippet: str, key: str, words: str) -> None:
    base = "schema_version = 1\n" + ("" if "[targets." in snippet else "[targets.version-specific]\n")
    if snippet.startswith("[discovery]") or snippet.startswith("[[") or snippet.startswith("[targets"):
        text = base + snippet
    else:
        text = snippet + base
    found = problems(write(tmp_path, text))
    assert any(key in p and words in p for p in found), found


def make_case(root: Path, backend: str, binding: str, case_toml: str, name: str | None = None) -> Path:
    case_dir = root / backend / binding
    case_dir.mkdir(parents=True)
    dist = name or f"abitest-{backend}-{binding}"
    backend_module = BUILD_BACKENDS.get(backend, "some.backend")
    build_system = f'[build-system]\nrequires = ["x"]\nbuild-backend = "{backend_module}"\n'
    (case_dir / "pyproject.toml").write_text(f'{build_system}[project]\nname = "{dist}"\nversion = "1"\n')
    (case_dir / "case.toml").write_text(case_toml)
    return case_dir / "case.toml"


def test_case_loads_with_recipes(tmp_path: Path) -> None:
    path = make_case(
        tmp_path,
        "setuptools",
        "c-api",
        """
description = "d"
[targets.version-specific]
[targets.abi3]
config_settings = { "--build-option" = "--py-limited-api={py_api}" }
[unsupported]
abi3t = "no PyModExport yet"
""",
    )
    case = load_case(path, tmp_path, providers.names())
    assert case.id == "setuptools/c-api"
    assert case.module == "abitest_setuptools_c_api"
    assert case.recipe(TargetKind.ABI3) is not None
    assert case.unsupported_reason(TargetKind.ABI3T) == "no PyModExport yet"
    assert "declares no [targets.abi3.abi3t]" in (case.unsupported_reason(TargetKind.ABI3_ABI3T) or "")


def test_case_errors_name_file_and_key(tmp_path: Path) -> None:
    path = make_case(
        tmp_path,
        "setuptools",
        "c-api",
        """
descripton = "typo"
[targets.abi3]
config_setings = {}
""",
        name="something-else",
    )
    with pytest.raises(ConfigError) as info:
        load_case(path, tmp_path, providers.names())
    text = str(info.value)
    assert f"{path}: descripton: unknown key; did you mean 'description'?" in text
    assert "targets.abi3.config_setings" in text
    assert "'abitest-setuptools-c-api'" in text  # the required distribution name


def test_cases_dir_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cases directory not found"):
        load_cases(tmp_path / "nope", providers.names())


def test_readme_case_table_is_generated_from_case_toml() -> None:
    """README.md lists the cases; regenerate with `python -m harness cases --markdown`."""
    readme = (REPO / "README.md").read_text()
    start, end = readme.index(CASES_BEGIN), readme.index(CASES_END) + len(CASES_END)
    cases = load_cases(load_matrix(REPO / "matrix.toml", providers.names()).cases_dir, providers.names())
    assert readme[start:end] == case_table(cases)


def test_abi_none_target_has_no_baseline(tmp_path: Path) -> None:
    ok = load_matrix(write(tmp_path, GOOD + '\n[targets.abi-none]\nbuild_on = ["oldest"]\n'), providers.names())
    assert [(t.name, t.kind, t.min_python) for t in ok.targets][-1] == ("abi-none", TargetKind.ABI_NONE, None)
    path = write(tmp_path, GOOD + '\n[targets.abi-none]\nmin_python = "3.9"\n')
    assert problems(path) == [f"{path}: targets.abi-none.min_python: an abi-none target has no stable-ABI minimum"]
