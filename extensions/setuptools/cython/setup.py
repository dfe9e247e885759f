"""setuptools + Cython build of abitest_setuptools_cython.

One setup.py serves every ABI target, so the limited API is switched by
environment variables that the harness sets per target:

    ABITEST_LIMITED_API=0x03090000   (the Py_LIMITED_API value to compile with)
    ABITEST_TARGET_ABI3T=0x030F0000  (also define Py_TARGET_ABI3T: abi3t, PEP 803)

When it is set we do what Cython's "Limited API" guide documents for
setuptools: define Py_LIMITED_API to the version hex (Cython >= 3.1 then turns
on CYTHON_LIMITED_API by itself in the generated C) and pass
Extension(py_limited_api=True), which names the file *.abi3.so. The abi3
wheel tag is bdist_wheel's py_limited_api option, passed by the harness as
the PEP 517 config setting --build-option=--py-limited-api=cp39.
abi3t is the same switch plus the user's Py_TARGET_ABI3T define (PEP 803; setuptools
defines no macro itself): whether Cython's generated C compiles under it is the point.
"""
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

limited_api = os.environ.get("ABITEST_LIMITED_API", "").strip()
target_abi3t = os.environ.get("ABITEST_TARGET_ABI3T", "").strip()

ext_kwargs = {}
if limited_api:
    ext_kwargs["py_limited_api"] = True
    macros = [("Py_LIMITED_API", limited_api)]
    if target_abi3t:
        macros.append(("Py_TARGET_ABI3T", target_abi3t))
    ext_kwargs["define_macros"] = macros

setup(
    ext_modules=cythonize(
        [
            Extension(
                "abitest_setuptools_cython",
                sources=["src/abitest_setuptools_cython.pyx"],
                include_dirs=["src"],
                depends=["src/abitest_facts.h"],
                **ext_kwargs,
            )
        ],
        compiler_directives={"language_level": 3},
    ),
)
