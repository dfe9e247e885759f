"""setuptools + Cython build of abitest_setuptools_cython.

One setup.py serves every ABI target, so the limited API is switched by an
environment variable that the harness sets for the abi3 target only:

    ABITEST_LIMITED_API=0x03090000   (the Py_LIMITED_API value to compile with)

When it is set we do what Cython's "Limited API" guide documents for
setuptools: define Py_LIMITED_API to the version hex (Cython >= 3.1 then turns
on CYTHON_LIMITED_API by itself in the generated C) and pass
Extension(py_limited_api=True), which names the file *.abi3.so. The abi3
wheel tag is bdist_wheel's py_limited_api option, passed by the harness as
the PEP 517 config setting --build-option=--py-limited-api=cp39.
"""
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

limited_api = os.environ.get("ABITEST_LIMITED_API", "").strip()

ext_kwargs = {}
if limited_api:
    ext_kwargs["py_limited_api"] = True
    ext_kwargs["define_macros"] = [("Py_LIMITED_API", limited_api)]

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
