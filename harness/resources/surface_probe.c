/* Layout and constant probe, compiled against one interpreter's own headers at one stable-ABI level.
 *
 * surface.py renders it: the DEFINES marker becomes the level's Py_LIMITED_API / Py_TARGET_ABI3T,
 * the ITEMS marker one line per struct size, member offset and constant (each constant guarded by
 * #ifdef), so a compile error names the one item the headers lack and it is recorded as absent.
 * Nothing here calls into libpython: the probe is never linked against it.
 */
@DEFINES@
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#if defined(__has_include)
#  if __has_include(<structmember.h>)
#    include <structmember.h> /* PyMemberDef before 3.12 lives here, outside Python.h */
#  endif
#endif
#include <stddef.h>
#include <stdio.h>

int main(void) {
@ITEMS@
    return 0;
}
