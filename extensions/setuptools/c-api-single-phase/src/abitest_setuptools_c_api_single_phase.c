/*
 * abitest_setuptools_c_api_single_phase: hand-written CPython C API extension for the ABI test harness.
 *
 * Single-phase initialisation, still the most common form in the wild:
 * PyInit_abitest_setuptools_c_api_single_phase builds the module itself with PyModule_Create from a static
 * PyModuleDef (no slots), then adds one heap type made by PyType_FromSpec.
 * Compare extensions/_shared/c_api.c (multi-phase, PEP 489): on a free-threaded 3.14, which still
 * lists .abi3.so, a GIL-built multi-phase module is turned away at init
 * ("init function ... returned uninitialized object"), while a single-phase
 * abi3 module of this shape was measured to segfault on import (issue 19).
 * The same source builds for the version-specific ABI and for the limited API
 * (Py_LIMITED_API defined by the build backend); everything used is in the
 * 3.5+ limited API.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>

#include "abitest_facts.h"

/* add(a, b) -> a + b for C ints: TypeError for non-ints, OverflowError when an
 * argument or the sum does not fit a C int (summed in long long). */
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

/* One heap type, as most single-phase modules of the stable ABI define theirs. */
static PyType_Slot abitest_box_slots[] = {
    {Py_tp_doc, (void *)"An empty object: a heap type made by PyType_FromSpec."},
    {0, NULL}
};

static PyType_Spec abitest_box_spec = {
    "abitest_setuptools_c_api_single_phase.Box",
    0,                                  /* basicsize: the base's */
    0,                                  /* itemsize */
    Py_TPFLAGS_DEFAULT,
    abitest_box_slots
};

static struct PyModuleDef abitest_module = {
    PyModuleDef_HEAD_INIT,
    "abitest_setuptools_c_api_single_phase",                         /* m_name */
    "ABI test extension (single-phase init): add() and compile-time header facts.",
    -1,                                 /* m_size: state in globals, no subinterpreters */
    abitest_methods,
    NULL, NULL, NULL, NULL
};

static int
abitest_add_facts(PyObject *m)
{
    if (PyModule_AddIntConstant(m, "PY_VERSION_HEX", (long)ABITEST_PY_VERSION_HEX) < 0
        || PyModule_AddIntConstant(m, "Py_LIMITED_API", (long)ABITEST_PY_LIMITED_API) < 0
        || PyModule_AddIntConstant(m, "Py_TARGET_ABI3T", (long)ABITEST_PY_TARGET_ABI3T) < 0
        || PyModule_AddIntConstant(m, "Py_GIL_DISABLED", (long)ABITEST_PY_GIL_DISABLED) < 0) {
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC
PyInit_abitest_setuptools_c_api_single_phase(void)
{
    PyObject *m, *box;

    m = PyModule_Create(&abitest_module);
    if (m == NULL) {
        return NULL;
    }
    if (abitest_add_facts(m) < 0) {
        goto error;
    }
    box = PyType_FromSpec(&abitest_box_spec);
    if (box == NULL) {
        goto error;
    }
    if (PyModule_AddObject(m, "Box", box) < 0) {   /* steals box only on success */
        Py_DECREF(box);
        goto error;
    }
#if defined(Py_GIL_DISABLED) && !defined(Py_LIMITED_API)
    /* The single-phase way to say the module is safe without the GIL. */
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
    return m;

error:
    Py_DECREF(m);
    return NULL;
}
