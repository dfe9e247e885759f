"""ABI test package: maturin's cffi bindings (abitest_maturin_cffi._native) over a Rust cdylib.

cffi exposes C functions, not Python-level ones, so add() is a thin wrapper: cffi's argument
conversion raises TypeError for non-integers and OverflowError for values outside the C int
range; the Rust side reports a sum that does not fit in a C int, and the wrapper raises
OverflowError for it. The constants are the library's own compile-time constants (all 0: the
Rust code is not compiled against Python at all; see src/lib.rs), read through cffi.
"""
from ._native import ffi, lib

__all__ = ["add", "PY_VERSION_HEX", "Py_LIMITED_API", "Py_TARGET_ABI3T", "Py_GIL_DISABLED"]

PY_VERSION_HEX = int(lib.ABITEST_PY_VERSION_HEX)
Py_LIMITED_API = int(lib.ABITEST_PY_LIMITED_API)
Py_TARGET_ABI3T = int(lib.ABITEST_PY_TARGET_ABI3T)
Py_GIL_DISABLED = int(lib.ABITEST_PY_GIL_DISABLED)


def add(a, b):
    """Return a + b computed on C ints."""
    ok = ffi.new("int *")
    result = lib.abitest_add(a, b, ok)
    if not ok[0]:
        raise OverflowError("add(): result does not fit in a C int")
    return result
