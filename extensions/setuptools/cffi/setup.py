"""setuptools + cffi (API mode) build of abitest_setuptools_cffi._native.

The extension is declared through cffi's setuptools hook, cffi_modules;
src/abitest_setuptools_cffi_build.py holds the FFI builder and reads the
ABITEST_LIMITED_API environment variable (see there).
"""
from setuptools import setup

setup(cffi_modules=["src/abitest_setuptools_cffi_build.py:ffibuilder"])
