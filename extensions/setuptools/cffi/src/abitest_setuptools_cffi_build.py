"""cffi API-mode builder for abitest_setuptools_cffi._native.

One build script serves every ABI target, so the limited API is switched by an
environment variable that the harness sets for the abi3 target only:

    ABITEST_LIMITED_API=0x03090000   (the Py_LIMITED_API value to compile with)

cffi's documented switch is set_source(..., py_limited_api=...). Left unset,
cffi turns it on by itself (setuptools >= 26) and its _cffi_include.h defines
a bare Py_LIMITED_API, giving a *.abi3.so even for a "version-specific" build.
So we always pass it explicitly:

  * abi3: py_limited_api=True plus Py_LIMITED_API=<hex> (cffi only defines the
    macro when it is not already defined, so ours wins);
  * version-specific: py_limited_api=False. cffi >= 2.0 then also defines
    _CFFI_NO_LIMITED_API; cffi 1.17 (the newest for Python 3.8) does not, so
    its generated C still defines a bare Py_LIMITED_API while setuptools names
    the file for the specific version. The Py_LIMITED_API constant shows it.

The abi3 wheel tag is bdist_wheel's py_limited_api option, passed by the
harness as the PEP 517 config setting --build-option=--py-limited-api=cp39.

abi3.abi3t (ABITEST_LIMITED_API=0x030F0000, --py-limited-api=cp315) is the
same switch: on a free-threaded 3.15+ build cffi >= 2.1 adds
Py_TARGET_ABI3T=0x030f0000 by itself and setuptools names the file *.abi3t.so
and tags the wheel abi3.abi3t. On a GIL build neither does, so the result is
a plain cp315-abi3 wheel; nothing here forces abi3t behind their backs.
"""
import os

from cffi import FFI

limited_api = os.environ.get("ABITEST_LIMITED_API", "").strip()

ffibuilder = FFI()

ffibuilder.cdef(
    """
    int abitest_add(int a, int b, int *ok);

    #define ABITEST_PY_VERSION_HEX ...
    #define ABITEST_PY_LIMITED_API ...
    #define ABITEST_PY_TARGET_ABI3T ...
    #define ABITEST_PY_GIL_DISABLED ...
    """
)

source_kwargs = {
    "include_dirs": ["src"],
    "depends": ["src/abitest_facts.h"],
}
if limited_api:
    source_kwargs["py_limited_api"] = True
    source_kwargs["define_macros"] = [("Py_LIMITED_API", limited_api)]
else:
    source_kwargs["py_limited_api"] = False

ffibuilder.set_source(
    "abitest_setuptools_cffi._native",
    r"""
    #include <limits.h>
    #include "abitest_facts.h"   /* after cffi's own #include <Python.h> */

    /* a + b on C ints; *ok = 0 when the sum does not fit in a C int.
       Computed in long long, so it never overflows in C. */
    static int abitest_add(int a, int b, int *ok)
    {
        long long sum = (long long)a + (long long)b;
        if (sum > INT_MAX || sum < INT_MIN) {
            *ok = 0;
            return 0;
        }
        *ok = 1;
        return (int)sum;
    }
    """,
    **source_kwargs,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
