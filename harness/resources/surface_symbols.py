"""Run inside each interpreter (stdlib only, Python 3.6+ syntax): which stable-ABI symbols does it export?

stdin: a JSON list of symbol names. stdout (last line): JSON with, per name, the exported name found
("" when missing), the feature macros of this build, the interpreter's own test.test_stable_abi_ctypes
list (or why there is none) and its include directories.
"""

import ast
import json
import os
import sys
import sysconfig


def library():
    import ctypes

    api = getattr(ctypes, "pythonapi", None)
    if api is not None:
        return api, "ctypes.pythonapi"
    # PyPy has no ctypes.pythonapi; its cpyext lives in libpypy*-c.so, loaded by the executable.
    return ctypes.CDLL(None), "ctypes.CDLL(None)"


def candidates(name):
    """PyPy exports the C API under mangled names: PyArg_Parse -> PyPyArg_Parse, _Py_X -> _PyPy_X, and a
    few Py_ data symbols as _PyPy_ ones (Py_FileSystemDefaultEncoding -> _PyPy_FileSystemDefaultEncoding)."""
    names = [name]
    if sys.implementation.name == "pypy":
        if name.startswith("Py"):
            names.append("PyPy" + name[2:])
        elif name.startswith("_Py"):
            names.append("_PyPy" + name[3:])
        if name.startswith("Py_"):
            names.append("_PyPy_" + name[3:])
    return names


def lookup(lib, name):
    for candidate in candidates(name):
        try:
            lib[candidate]  # __getitem__: no attribute caching, no dunder refusal
        except (AttributeError, ValueError):
            continue
        return candidate
    return ""


def feature_macros():
    """The macros Misc/stable_abi.toml makes symbols conditional on, as this build has them."""
    try:
        from _testcapi import get_feature_macros

        return dict(get_feature_macros()), "_testcapi.get_feature_macros()"
    except Exception:
        pass
    import threading

    derived = {
        "HAVE_FORK": hasattr(os, "fork"),
        "MS_WINDOWS": os.name == "nt",
        "PY_HAVE_THREAD_NATIVE_ID": hasattr(threading, "get_native_id"),
        "Py_REF_DEBUG": hasattr(sys, "gettotalrefcount"),
        "Py_TRACE_REFS": hasattr(sys, "getobjects"),
        "USE_STACKCHECK": False,  # Windows-only in CPython's sources
    }
    return derived, "derived from os, threading and sys (no _testcapi)"


def ctypes_list(macros):
    """SYMBOL_NAMES of the interpreter's own test.test_stable_abi_ctypes, read without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("test.test_stable_abi_ctypes")
    except Exception as exc:
        return None, "no test package: %s: %s" % (type(exc).__name__, exc)
    if spec is None or not spec.origin:
        return None, "test.test_stable_abi_ctypes is not shipped with this interpreter"
    with open(spec.origin) as f:
        tree = ast.parse(f.read())
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SYMBOL_NAMES" for t in node.targets):
            names += list(ast.literal_eval(node.value))
        elif isinstance(node, ast.If) and isinstance(node.test, ast.Subscript):
            key = node.test.slice
            if type(key).__name__ == "Index":  # before 3.9 the key is wrapped
                key = key.value
            macro = getattr(key, "value", getattr(key, "s", None))
            if not macros.get(macro):
                continue
            for stmt in node.body:
                if isinstance(stmt, ast.AugAssign) and getattr(stmt.target, "id", "") == "SYMBOL_NAMES":
                    names += list(ast.literal_eval(stmt.value))
    return names, spec.origin


def main():
    wanted = json.loads(sys.stdin.read())
    macros, macros_source = feature_macros()
    listed, list_source = ctypes_list(macros)
    lib, how = library()
    names = sorted(set(wanted) | set(listed or ()))
    paths = sysconfig.get_paths()
    print(
        json.dumps(
            {
                "lookup": how,
                "found": {name: lookup(lib, name) for name in names},
                "feature_macros": macros,
                "feature_macros_source": macros_source,
                "ctypes_list": listed,
                "ctypes_list_source": list_source,
                "include": paths.get("include", ""),
                "platinclude": paths.get("platinclude", ""),
            }
        )
    )


if __name__ == "__main__":  # run as `python -c`; tests load the functions alone
    main()
