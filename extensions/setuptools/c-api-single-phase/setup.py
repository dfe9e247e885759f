"""setuptools build of a hand-written C API extension (abitest_setuptools_c_api_single_phase).

One setup.py serves every ABI target, so the limited API is switched by an
environment variable that the harness sets for the abi3 target only:

    ABITEST_LIMITED_API=0x03090000   (the Py_LIMITED_API value to compile with)

When it is set, the Extension gets setuptools' documented switch
``py_limited_api=True`` (which names the file ``*.abi3.so``) plus the
``Py_LIMITED_API`` define. The wheel tag is a separate, bdist_wheel switch
(``py_limited_api=cp39``) that the harness passes as a PEP 517 config setting:
``--build-option=--py-limited-api=cp39``. Nothing here guesses it.
"""
import os

from setuptools import Extension, setup

limited_api = os.environ.get("ABITEST_LIMITED_API", "").strip()

ext_kwargs = {}
if limited_api:
    ext_kwargs["py_limited_api"] = True
    ext_kwargs["define_macros"] = [("Py_LIMITED_API", limited_api)]

setup(
    ext_modules=[
        Extension(
            "abitest_setuptools_c_api_single_phase",
            sources=["src/abitest_setuptools_c_api_single_phase.c"],
            include_dirs=["src"],
            depends=["src/abitest_facts.h"],
            **ext_kwargs,
        )
    ],
)
