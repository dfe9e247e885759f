/*
 * {module}: hand-written CPython C API extension for the ABI test harness,
 * with a PEP 793 PyModExport entry point where the headers offer one.
 *
 * Which entry point is compiled is decided by the headers alone:
 *
 *   3.15+ headers, unless a Py_LIMITED_API below 3.15 is requested
 *   (version-specific 3.15+, abi3 for 3.15+, abi3t, abi3.abi3t):
 *     PyModExport_{module} returns a static PySlot array (PEP 793, with the
 *     PEP 820 PySlot type of the final 3.15 headers): Py_mod_abi (required
 *     for abi3t), name, doc, the methods slot marked PySlot_STATIC, exec and
 *     Py_mod_gil. No PyInit_ is compiled: under Py_TARGET_ABI3T, PyObject
 *     and PyModuleDef are opaque, so a static PyModuleDef cannot exist.
 *
 *   otherwise (3.8-3.14 headers, or Py_LIMITED_API < 0x030f0000):
 *     PyInit_{module} returns a static PyModuleDef with slots (PEP 489).
 *
 * For abi3t define BOTH Py_LIMITED_API and Py_TARGET_ABI3T to 0x030f0000:
 * a lower Py_LIMITED_API next to Py_TARGET_ABI3T leaves Py_TYPE undeclared
 * in the 3.15.2 headers. (pyabi.h defines an empty Py_GIL_DISABLED under
 * Py_TARGET_ABI3T; abitest_facts.h reports that as 0, the GIL build's value.)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>

#include "abitest_facts.h"

#if PY_VERSION_HEX >= 0x030f0000 && (!defined(Py_LIMITED_API) || Py_LIMITED_API+0 >= 0x030f0000)
#  define ABITEST_MODEXPORT 1
#else
#  define ABITEST_MODEXPORT 0
#endif

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

#define ABITEST_DOC "ABI test extension: add() and compile-time header facts."

#if ABITEST_MODEXPORT

/* PEP 793 entry point. The ABI info records how this file was compiled
 * (stable or not, GIL / free-threaded / both); the interpreter checks it. */
PyABIInfo_VAR(abitest_abi_info);

static PySlot abitest_slots[] = {
    PySlot_STATIC_DATA(Py_mod_abi, &abitest_abi_info),
    PySlot_STATIC_DATA(Py_mod_name, "{module}"),
    PySlot_STATIC_DATA(Py_mod_doc, ABITEST_DOC),
    /* Py_mod_methods requires PySlot_STATIC (the table is not copied). */
    PySlot_STATIC_DATA(Py_mod_methods, abitest_methods),
    PySlot_FUNC(Py_mod_exec, abitest_exec),
    PySlot_DATA(Py_mod_gil, Py_MOD_GIL_NOT_USED),
    PySlot_END
};

PyMODEXPORT_FUNC
PyModExport_{module}(void)
{
    return abitest_slots;
}

#else  /* legacy multi-phase init (PEP 489) */

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
    ABITEST_DOC,
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

#endif  /* ABITEST_MODEXPORT */
