/*
 * {module}: hand-written CPython C API extension for the ABI test harness.
 *
 * Multi-phase initialisation (PEP 489): PyInit_{module} returns a static
 * PyModuleDef with slots. The same source builds for the version-specific
 * ABI and for the limited API / stable ABI (Py_LIMITED_API defined by the
 * build backend); it uses only functions of the 3.5+ limited API and guards
 * newer slots by version.
 *
 * NOTE for 3.15 abi3t (PEP 803/793) later: abi3t needs a PyModExport_{module}
 * entry point instead of (or besides, version-guarded) PyInit_{module}.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>

#include "abitest_facts.h"

/* add(a, b) -> a + b for C ints.
 * "ii" rejects non-int objects (str, float) with TypeError and values
 * outside the C int range with OverflowError. The sum is computed in
 * long long (at least 64 bits), so it never overflows in C. */
static PyObject *
abitest_add(PyObject *self, PyObject *args)
{
    int a, b;
    long long sum;
    (void)self;

    if (!PyArg_ParseTuple(args, "ii:add", &a, &b)) {
        return NULL;
    }
    sum = (long long)a + (long long)b;
    if (sum > INT_MAX || sum < INT_MIN) {
        PyErr_SetString(PyExc_OverflowError,
                        "add(): result does not fit in a C int");
        return NULL;
    }
    return PyLong_FromLong((long)sum);
}

static PyMethodDef abitest_methods[] = {
    {"add", abitest_add, METH_VARARGS,
     "add(a, b)\n--\n\nReturn a + b computed on C ints."},
    {NULL, NULL, 0, NULL}
};

static int
abitest_exec(PyObject *m)
{
    if (PyModule_AddIntConstant(m, "PY_VERSION_HEX",
                                (long)ABITEST_PY_VERSION_HEX) < 0) {
        return -1;
    }
    if (PyModule_AddIntConstant(m, "Py_LIMITED_API",
                                (long)ABITEST_PY_LIMITED_API) < 0) {
        return -1;
    }
    if (PyModule_AddIntConstant(m, "Py_TARGET_ABI3T",
                                (long)ABITEST_PY_TARGET_ABI3T) < 0) {
        return -1;
    }
    if (PyModule_AddIntConstant(m, "Py_GIL_DISABLED",
                                (long)ABITEST_PY_GIL_DISABLED) < 0) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot abitest_slots[] = {
    {Py_mod_exec, (void *)abitest_exec},
/* Not `#ifdef Py_mod_gil`: 3.15's generated slot header defines every slot id for any
 * Py_LIMITED_API, while Py_MOD_GIL_NOT_USED (and the slot's support at run time) needs 3.13+. */
#if PY_VERSION_HEX >= 0x030d0000 && (!defined(Py_LIMITED_API) || Py_LIMITED_API+0 >= 0x030d0000)
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef abitest_module = {
    PyModuleDef_HEAD_INIT,
    "{module}",                            /* m_name */
    "ABI test extension: add() and compile-time header facts.",
    0,                                  /* m_size */
    abitest_methods,
    abitest_slots,
    NULL, NULL, NULL
};

PyMODINIT_FUNC
PyInit_{module}(void)
{
    return PyModuleDef_Init(&abitest_module);
}
