"""Run inside a cell's environment (stdlib only): import the case module, call add(), report JSON.

The last stdout line is `ABI_HARNESS_RESULT {json}`; anything else the module prints is kept in the log.
"""

import importlib
import json
import sys

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


def describe(exc):
    return "%s: %s" % (type(exc).__name__, exc)


def main():
    name = sys.argv[1]
    result = {"python": sys.version.split()[0]}
    try:
        module = importlib.import_module(name)
    except BaseException as exc:  # report any import failure, SystemError included
        result["import_error"] = describe(exc)
        result["import_error_type"] = type(exc).__name__
        return result
    result["module_file"] = getattr(module, "__file__", None)
    result["compiled"] = {key: getattr(module, key, None) for key in COMPILED}
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
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
    return result


print("ABI_HARNESS_RESULT " + json.dumps(main()))
