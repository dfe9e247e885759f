/*
 * abitest_scikit_build_core_pybind11: pybind11 (C++) extension for the ABI test harness.
 *
 * PYBIND11_MODULE generates the module's PyInit_ function. pybind11 uses CPython internals
 * throughout and has no limited-API mode, so this only ever builds version-specific.
 */
#include <pybind11/pybind11.h>

#include <climits>
#include <stdexcept>

#include "abitest_facts.h"

namespace py = pybind11;

/* An argument that is already a Python int (py::int_ accepts int and its subclasses only,
 * never str or float) as a C int: OverflowError outside the C int range. pybind11's own
 * `int` caster rejects floats, but turns an out-of-range value into a TypeError
 * ("incompatible function arguments"), which the harness contract forbids. */
static int
to_c_int(const py::int_ &value)
{
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (v == -1 && PyErr_Occurred()) {
        throw py::error_already_set();
    }
    if (overflow != 0 || v < INT_MIN || v > INT_MAX) {
        /* pybind11 translates std::overflow_error to OverflowError */
        throw std::overflow_error("add(): argument does not fit in a C int");
    }
    return (int) v;
}

static int
add(const py::int_ &a, const py::int_ &b)
{
    long long sum = (long long) to_c_int(a) + (long long) to_c_int(b);
    if (sum > INT_MAX || sum < INT_MIN) {
        throw std::overflow_error("add(): result does not fit in a C int");
    }
    return (int) sum;
}

/* py::mod_gil_not_used() (pybind11 >= 2.13) declares Py_mod_gil = Py_MOD_GIL_NOT_USED on
 * free-threaded builds; older pybind11 (resolved for old build interpreters) lacks it. */
#if PYBIND11_VERSION_HEX >= 0x020D0000
PYBIND11_MODULE(abitest_scikit_build_core_pybind11, m, py::mod_gil_not_used())
#else
PYBIND11_MODULE(abitest_scikit_build_core_pybind11, m)
#endif
{
    m.doc() = "ABI test extension (pybind11): add() and compile-time header facts.";
    m.def("add", &add, py::arg("a"), py::arg("b"), "Return a + b computed on C ints.");
    m.attr("PY_VERSION_HEX") = (long) ABITEST_PY_VERSION_HEX;
    m.attr("Py_LIMITED_API") = (long) ABITEST_PY_LIMITED_API;
    m.attr("Py_TARGET_ABI3T") = (long) ABITEST_PY_TARGET_ABI3T;
    m.attr("Py_GIL_DISABLED") = (long) ABITEST_PY_GIL_DISABLED;
}
