/*
 * abitest_facts.h: compile-time facts about the CPython headers this
 * extension is compiled against, as plain integer macros.
 *
 * Every value comes from the C preprocessor at compile time, never from
 * Python at run time. Include after <Python.h> (it includes it itself).
 *
 *   ABITEST_PY_VERSION_HEX   PY_VERSION_HEX of the headers
 *   ABITEST_PY_LIMITED_API   value of Py_LIMITED_API, 0 if not defined;
 *                            1 if defined but empty or 0 (e.g. a bare
 *                            "#define Py_LIMITED_API", which CPython
 *                            treats as the 3.2 baseline: still limited)
 *   ABITEST_PY_TARGET_ABI3T  value of Py_TARGET_ABI3T (PEP 803), 0 if not
 *                            defined; 1 if defined but empty or 0
 *   ABITEST_PY_GIL_DISABLED  1 if Py_GIL_DISABLED is defined and nonzero
 */
#ifndef ABITEST_FACTS_H
#define ABITEST_FACTS_H

#include <Python.h>

#define ABITEST_PY_VERSION_HEX PY_VERSION_HEX

#if defined(Py_LIMITED_API)
#  if (Py_LIMITED_API + 0) == 0
#    define ABITEST_PY_LIMITED_API 1
#  else
#    define ABITEST_PY_LIMITED_API (Py_LIMITED_API + 0)
#  endif
#else
#  define ABITEST_PY_LIMITED_API 0
#endif

#if defined(Py_TARGET_ABI3T)
#  if (Py_TARGET_ABI3T + 0) == 0
#    define ABITEST_PY_TARGET_ABI3T 1
#  else
#    define ABITEST_PY_TARGET_ABI3T (Py_TARGET_ABI3T + 0)
#  endif
#else
#  define ABITEST_PY_TARGET_ABI3T 0
#endif

#if defined(Py_GIL_DISABLED) && (Py_GIL_DISABLED + 0) != 0
#  define ABITEST_PY_GIL_DISABLED 1
#else
#  define ABITEST_PY_GIL_DISABLED 0
#endif

#endif /* ABITEST_FACTS_H */
