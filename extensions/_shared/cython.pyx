# cython: language_level=3
# cython: freethreading_compatible=True
"""ABI test extension written in Cython: add() and compile-time header facts."""

from operator import index

cdef extern from "<limits.h>":
    const int INT_MAX
    const int INT_MIN

# Plain integer macros computed by the C preprocessor from the CPython headers
# this module is compiled against (see abitest_facts.h).
cdef extern from "abitest_facts.h":
    const long ABITEST_PY_VERSION_HEX
    const long ABITEST_PY_LIMITED_API
    const long ABITEST_PY_TARGET_ABI3T
    const long ABITEST_PY_GIL_DISABLED

PY_VERSION_HEX = ABITEST_PY_VERSION_HEX
Py_LIMITED_API = ABITEST_PY_LIMITED_API
Py_TARGET_ABI3T = ABITEST_PY_TARGET_ABI3T
Py_GIL_DISABLED = ABITEST_PY_GIL_DISABLED


def add(a, b):
    """Return a + b computed on C ints.

    Arguments go through operator.index() first: a Cython ``int``-typed
    parameter would accept a float and truncate it (Cython converts through
    __int__), where the contract wants TypeError like PyArg_Parse's "i".
    Converting the resulting Python int to a C int raises OverflowError when
    it does not fit; the sum is computed in long long, so it cannot overflow.
    """
    cdef int ca = index(a)
    cdef int cb = index(b)
    cdef long long total = <long long>ca + <long long>cb
    if total > INT_MAX or total < INT_MIN:
        raise OverflowError("add(): result does not fit in a C int")
    return <int>total
