/*
 * abitest_scikit_build_core_nanobind: nanobind (C++) extension for the ABI test harness.
 *
 * NB_MODULE generates the module's PyInit_ function (multi-phase init; nanobind builds
 * the PyModuleDef itself). Whether this compiles for the version-specific ABI or the
 * limited API is decided by nanobind_add_module() in CMakeLists.txt (STABLE_ABI), not here.
 */
#include <nanobind/nanobind.h>

#include <climits>
#include <stdexcept>

#include "abitest_facts.h"

namespace nb = nanobind;

/* An argument that is already a Python int (nb::int_ accepts int and its subclasses
 * only, never str or float) as a C int: OverflowError outside the C int range.
 * nanobind's own `int` caster would turn an out-of-range value into a TypeError
 * ("incompatible function arguments"), which the harness contract forbids. */
static int
to_c_int(nb::handle value)
{
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (v == -1 && PyErr_Occurred()) {
        throw nb::python_error();
    }
    if (overflow != 0 || v < INT_MIN || v > INT_MAX) {
        /* nanobind translates std::overflow_error to OverflowError */
        throw std::overflow_error("add(): argument does not fit in a C int");
    }
    return (int) v;
}

static int
add(nb::int_ a, nb::int_ b)
{
    long long sum = (long long) to_c_int(a) + (long long) to_c_int(b);
    if (sum > INT_MAX || sum < INT_MIN) {
        throw std::overflow_error("add(): result does not fit in a C int");
    }
    return (int) sum;
}

NB_MODULE(abitest_scikit_build_core_nanobind, m)
{
    m.doc() = "ABI test extension (nanobind): add() and compile-time header facts.";
    m.def("add", &add, nb::arg("a"), nb::arg("b"),
          "Return a + b computed on C ints.");
    m.attr("PY_VERSION_HEX") = (long) ABITEST_PY_VERSION_HEX;
    m.attr("Py_LIMITED_API") = (long) ABITEST_PY_LIMITED_API;
    m.attr("Py_TARGET_ABI3T") = (long) ABITEST_PY_TARGET_ABI3T;
    m.attr("Py_GIL_DISABLED") = (long) ABITEST_PY_GIL_DISABLED;
}
