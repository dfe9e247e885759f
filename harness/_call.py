"""Run inside a cell's environment (stdlib only): import the case module, call add(), report JSON.

Usage: _call.py MODULE [--path DIR] [--threads N]
  --path DIR   put DIR first on sys.path (a refused wheel's files, loaded anyway)
  --threads N  free-threading checks: no GIL re-enabled on import, N threads calling add()
The last stdout line is `ABI_HARNESS_RESULT {json}`; anything else the module prints is kept in the log.
"""

import importlib
import json
import sys
import threading
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


def main(argv):
    name = argv[0]
    path = argv[argv.index("--path") + 1] if "--path" in argv else None
    n_threads = int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 0
    if path:
        sys.path.insert(0, path)
    result = {"python": sys.version.split()[0]}
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            module = importlib.import_module(name)
        except BaseException as exc:  # report any import failure, SystemError included
            result["import_error"] = describe(exc)
            result["import_error_type"] = type(exc).__name__
            return result
    # A free-threaded build warns (RuntimeWarning) when an import re-enables the GIL.
    result["import_warnings"] = ["%s: %s" % (w.category.__name__, w.message) for w in caught]
    result["module_file"] = getattr(module, "__file__", None)
    result["compiled"] = {key: getattr(module, key, None) for key in COMPILED}
    result["gil_enabled_after_import"] = is_gil_enabled() if is_gil_enabled else None
    calls = []
    for shown, args, expected in CHECKS:
        try:
            got = module.add(*args)
            actual = repr(got)
            ok = not isinstance(expected, str) and type(got) is int and got == expected
        except Exception as exc:
            actual = describe(exc)
            ok = isinstance(expected, str) and type(exc).__name__ == expected
        calls.append(
            {
                "call": shown,
                "expected": expected if isinstance(expected, str) else repr(expected),
                "actual": actual,
                "ok": ok,
            }
        )
    result["calls"] = calls
    if n_threads:
        result["threads"] = hammer(module, n_threads)
        result["gil_enabled_after_threads"] = is_gil_enabled() if is_gil_enabled else None
    return result


print("ABI_HARNESS_RESULT " + json.dumps(main(sys.argv[1:])))
