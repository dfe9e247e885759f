"""`[unsupported]` is for what is impossible by design; a tool's current limit is built and held as a
known issue in matrix.toml, so its fix shows as xpass. Adding a pair here is a decision, not a fix."""

from __future__ import annotations

from harness.config.matrix import load_cases, load_matrix
from harness.interpreters import providers
from tests.conftest import REPO

STABLE = ("abi3", "abi3t", "abi3.abi3t")
BY_DESIGN = {
    # compiles nothing against Python: a C-ABI cdylib loaded by cffi's ABI mode, tagged py3-none
    # and builds only the abi-none row: no version-specific build either
    *(("maturin/cffi", kind) for kind in ("version-specific", *STABLE)),
    # uses CPython internals throughout, no limited-API mode (pybind11#1755)
    *(("scikit-build-core/pybind11", kind) for kind in STABLE),
    # legacy PyInit_ + static PyModuleDef: PyModuleDef and PyObject are opaque under Py_TARGET_ABI3T
    *(
        (f"{backend}/c-api", kind)
        for backend in ("meson-python", "scikit-build-core", "setuptools")
        for kind in STABLE[1:]
    ),
    # single-phase init (PyModule_Create on a static PyModuleDef) has no abi3t form at all
    *(("setuptools/c-api-single-phase", kind) for kind in STABLE[1:]),
}


def test_unsupported_is_only_what_is_impossible_by_design() -> None:
    cases = load_cases(load_matrix(REPO / "matrix.toml", providers.names()).cases_dir, providers.names())
    declared = {(case.id, kind.value) for case in cases for kind, _ in case.unsupported}
    assert declared == BY_DESIGN
