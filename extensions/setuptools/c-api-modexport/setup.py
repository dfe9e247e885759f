"""setuptools build of a hand-written C API extension with a PEP 793 entry point
(abitest_setuptools_c_api_modexport).

One setup.py serves every ABI target, so the limited API is switched by environment
variables that the harness sets per target:

    ABITEST_LIMITED_API=0x03090000   the Py_LIMITED_API value to compile with
    ABITEST_TARGET_ABI3T=0x030F0000  also define Py_TARGET_ABI3T (abi3t, PEP 803)

ABITEST_LIMITED_API turns on setuptools' documented switch ``py_limited_api=True``
(which names the file) plus the ``Py_LIMITED_API`` define; setuptools defines no
macro itself, users do (https://docs.python.org/3/c-api/stable.html). The wheel tag is
bdist_wheel's ``py_limited_api=cp3X``, passed as the PEP 517 config setting
``--build-option=--py-limited-api=cp3X``. setuptools has no switch of its own for
abi3t: ``py_limited_api`` gives ``.abi3t`` files and ``abi3.abi3t`` wheels only when
the build interpreter is free-threaded (setuptools#5193), ``.abi3`` / ``abi3`` on a GIL
build, whatever the headers were asked for. Nothing here guesses around that.
"""
import os

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
    ext_modules=[
        Extension(
            "abitest_setuptools_c_api_modexport",
            sources=["src/abitest_setuptools_c_api_modexport.c"],
            include_dirs=["src"],
            depends=["src/abitest_facts.h"],
            **ext_kwargs,
        )
    ],
)
