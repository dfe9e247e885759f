"""Run inside a cell's environment (stdlib only): import the case module, call add(), report JSON.

Usage: call.py MODULE [--site DIR] [--path DIR] [--by-path FILE ...] [--threads N] [--import-only]
  --import-only   a wheel under `check`: MODULE is NAME[,NAME...], imported in turn; no add() calls,
                  no threads (the GIL's state after the imports is still reported)
  --site DIR      a site directory, added as a venv's site-packages is (the wheel installed there with
                  the installer's --target, or a forced load's runtime requirements)
  --path DIR      put DIR first on sys.path (a refused wheel's files, loaded anyway)
  --by-path FILE  load DIR/FILE with ExtensionFileLoader before importing MODULE, whatever its suffix
                  (the runtime safety net); its PEP 793 Py_mod_abi is read first, without loading it
  --threads N     free-threading checks: no GIL re-enabled on import, N threads calling add()
The last stdout line is `ABI_HARNESS_RESULT {json}`; anything else the module prints is kept in the log.
"""

import importlib
import importlib.machinery
import importlib.util
import json
import os
import site
import sys
import threading
import types
import warnings

COMPILED = ("PY_VERSION_HEX", "Py_LIMITED_API", "Py_TARGET_ABI3T", "Py_GIL_DISABLED")
# (expression shown in reports, arguments, expected value or exception class name)
CHECKS = (
    ("add(1, 2)", (1, 2), 3),
    ("add(-5, 5)", (-5, 5), 0),
    ("add(2**31 - 1, 1)", (2**31 - 1, 1), "OverflowError"),
    ("add(-2**31, -1)", (-(2**31), -1), "OverflowError"),
    ("add(2**31, 0)", (2**31, 0), "OverflowError"),
    ("add('1', 2)", ("1", 2), "TypeError"),
)
CALLS_PER_THREAD = 2000
# CPython 3.15's PySlot (Include/slots.h): u16 sl_id, u16 sl_flags, u32 reserved, 8-byte union.
PYSLOT_SIZE = 16
PY_MOD_ABI = 109  # Include/slots_generated.h (3.15)
MAX_SLOTS = 256


def read_abi_info(path, short_name):
    """The Py_mod_abi PyABIInfo a PEP 793 module declares: call its PyModExport_ hook (which only
    returns a static slot array) through ctypes and walk the slots. Returns (info dict or None, note)."""
    try:
        import ctypes
    except ImportError as exc:
        return None, "ctypes unavailable: %s" % exc
    try:
        lib = ctypes.CDLL(path)
    except OSError as exc:
        return None, "not readable: %s" % exc
    try:
        hook = getattr(lib, "PyModExport_" + short_name)
    except AttributeError:
        return None, ""  # no PEP 793 export: the legacy PyInit_ path, which carries no ABI info
    hook.restype = ctypes.c_void_p
    hook.argtypes = []
    slots = hook()
    if not slots:
        return None, "PyModExport_%s returned NULL" % short_name
    for n in range(MAX_SLOTS):
        base = slots + n * PYSLOT_SIZE
        slot_id = ctypes.c_uint16.from_address(base).value
        if slot_id == 0:
            return None, ""
        if slot_id == PY_MOD_ABI:
            ptr = ctypes.c_void_p.from_address(base + 8).value
            if not ptr:
                return None, "Py_mod_abi slot holds NULL"
            return {
                "major": ctypes.c_uint8.from_address(ptr).value,
                "minor": ctypes.c_uint8.from_address(ptr + 1).value,
                "flags": ctypes.c_uint16.from_address(ptr + 2).value,
                "build_version": ctypes.c_uint32.from_address(ptr + 4).value,
                "abi_version": ctypes.c_uint32.from_address(ptr + 8).value,
            }, ""
    return None, "no slot end within %d slots" % MAX_SLOTS


def load_by_path(root, relative, files, stubs):
    """Load one extension file as the module its place in the wheel names, bypassing the suffix check.
    Its report is appended to *files* before loading, so a failing load still names the file."""
    parts = relative.replace(os.sep, "/").split("/")
    short = parts[-1].split(".", 1)[0]
    dotted = ".".join(parts[:-1] + [short])
    path = os.path.join(root, relative)
    info, note = read_abi_info(path, short)
    files.append({"file": relative, "module": dotted, "abi_info": info, "abi_info_note": note})
    # Stub parent packages, so the file loads before the package's own __init__ (which may import it).
    for depth in range(1, len(parts) - 1):
        parent = ".".join(parts[:depth])
        if parent not in sys.modules:
            stub = types.ModuleType(parent)
            stub.__path__ = [os.path.join(root, *parts[:depth])]
            sys.modules[parent] = stub
            stubs.append(parent)
    loader = importlib.machinery.ExtensionFileLoader(dotted, path)
    spec = importlib.util.spec_from_file_location(dotted, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[dotted] = module
    loader.exec_module(module)


def describe(exc):
    return "%s: %s" % (type(exc).__name__, exc)


def hammer(module, n_threads):
    """N threads call add() at once; every result must be right."""
    errors = []
    barrier = threading.Barrier(n_threads)

    def work(seed):
        barrier.wait()
        for i in range(CALLS_PER_THREAD):
            a, b = seed * 100000 + i, i
            try:
                got = module.add(a, b)
            except Exception as exc:
                errors.append("add(%d, %d) raised %s" % (a, b, describe(exc)))
                return
            if got != a + b:
                errors.append("add(%d, %d) gave %r" % (a, b, got))
                return

    threads = [threading.Thread(target=work, args=(n,)) for n in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"threads": n_threads, "calls": n_threads * CALLS_PER_THREAD, "errors": errors[:5]}


def loaded_extensions(root):
    """`check`'s sys_path load: the wheel's extension files (under ROOT) that the imports really loaded. A
    name may import without its binary (a namespace package of stubs, a pure-Python fallback)."""
    prefix = os.path.abspath(root) + os.sep
    found = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        suffixes = importlib.machinery.EXTENSION_SUFFIXES
        if os.path.abspath(path).startswith(prefix) and any(path.endswith(s) for s in suffixes):
            found.append({"file": os.path.relpath(path, root).replace(os.sep, "/"), "module": name})
    return sorted(found, key=lambda f: f["file"])


def check_call(module, shown, args, expected):
    try:
        got = module.add(*args)
        actual = repr(got)
        ok = not isinstance(expected, str) and type(got) is int and got == expected
    except Exception as exc:
        actual = describe(exc)
        ok = isinstance(expected, str) and type(exc).__name__ == expected
    return {
        "call": shown,
        "expected": expected if isinstance(expected, str) else repr(expected),
        "actual": actual,
        "ok": ok,
    }


def main(argv):
    name = argv[0]
    path = argv[argv.index("--path") + 1] if "--path" in argv else None
    n_threads = int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 0
    by_path = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--by-path"]
    import_only = "--import-only" in argv
    module = current = None
    for i, arg in enumerate(argv):
        if arg == "--site":
            site.addsitedir(argv[i + 1])  # appended, its .pth files read, as a venv's site-packages
    if path:
        sys.path.insert(0, path)
    result = {"python": sys.version.split()[0]}
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if by_path:
                result["files"] = []
                stubs = []
                for relative in by_path:
                    # Said before loading, so the log of a crash names the file being loaded.
                    sys.stdout.write("ABI_HARNESS_LOADING %s\n" % relative)
                    sys.stdout.flush()
                    load_by_path(path, relative, result["files"], stubs)
                for stub in stubs:
                    sys.modules.pop(stub, None)  # the real package now imports over the loaded files
            names = name.split(",") if import_only else [name]
            for each in names:
                current = each
                imported = importlib.import_module(each)
                module = imported if module is None else module
        except BaseException as exc:  # report any import failure, SystemError included
            failed = "import %s: " % current if import_only and current else ""
            result["import_error"] = failed + describe(exc)
            result["import_error_type"] = type(exc).__name__
            if import_only and path and not by_path:
                result["files"] = loaded_extensions(path)
            return result
    if import_only and path and not by_path:
        result["files"] = loaded_extensions(path)
    # A free-threaded build warns (RuntimeWarning) when an import re-enables the GIL.
    result["import_warnings"] = ["%s: %s" % (w.category.__name__, w.message) for w in caught]
    result["module_file"] = getattr(module, "__file__", None)
    result["gil_enabled_after_import"] = is_gil_enabled() if is_gil_enabled else None
    if import_only:
        return result
    result["compiled"] = {key: getattr(module, key, None) for key in COMPILED}
    result["calls"] = [check_call(module, shown, args, expected) for shown, args, expected in CHECKS]
    if n_threads:
        result["threads"] = hammer(module, n_threads)
        result["gil_enabled_after_threads"] = is_gil_enabled() if is_gil_enabled else None
    return result


print("ABI_HARNESS_RESULT " + json.dumps(main(sys.argv[1:])))
