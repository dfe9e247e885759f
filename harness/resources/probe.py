"""Run inside each interpreter (stdlib only, Python 3.6+ syntax): print its facts as JSON.

argv[1], when given, is a directory holding the harness's copy of `packaging`, so the
installer's view of compatible tags is computed by the interpreter itself.
"""

import json
import os
import platform
import sys
import sysconfig


def supported_tags(packaging_dir):
    if not packaging_dir:
        return [], "no packaging directory given"
    sys.path.insert(0, packaging_dir)
    try:
        import packaging
        from packaging import tags
    except Exception as exc:  # current packaging does not import on old interpreters
        sys.path.remove(packaging_dir)
        for name in [m for m in sys.modules if m == "packaging" or m.startswith("packaging.")]:
            del sys.modules[name]
        try:  # the interpreter's own pip is what would install there anyway
            from pip._vendor import packaging
            from pip._vendor.packaging import tags
        except Exception:
            return [], "packaging.tags unavailable here: %s: %s" % (type(exc).__name__, exc)
        return [str(t) for t in tags.sys_tags()], "pip's vendored packaging " + packaging.__version__
    return [str(t) for t in tags.sys_tags()], "packaging " + packaging.__version__


def glibc():
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"
    except (AttributeError, ValueError, OSError):
        return None
    return value.split()[-1] if value else None


def build_dir():
    """The build directory of a CPython run from where `make` left it (not installed), else "": its headers
    and pyconfig.h are in the source and build trees, not under sys.prefix."""
    if not sysconfig.is_python_build():
        return ""
    return os.path.dirname(os.path.realpath(sys.executable))


def main():
    import importlib.machinery

    tags, tags_source = supported_tags(sys.argv[1] if len(sys.argv) > 1 else "")
    print(
        json.dumps(
            {
                "executable": sys.executable,
                "implementation": sys.implementation.name,
                "version": "%d.%d.%d" % sys.version_info[:3],
                "version_full": sys.version,
                "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
                "debug": bool(sysconfig.get_config_var("Py_DEBUG")) or hasattr(sys, "gettotalrefcount"),
                "soabi": sysconfig.get_config_var("SOABI") or "",
                "ext_suffixes": list(importlib.machinery.EXTENSION_SUFFIXES),
                "platform": sysconfig.get_platform(),
                "machine": platform.machine(),
                "glibc": glibc(),
                "prefix": sys.prefix,
                "base_prefix": getattr(sys, "base_prefix", sys.prefix),
                "config_args": sysconfig.get_config_var("CONFIG_ARGS") or "",
                "build_dir": build_dir(),
                "supported_tags": tags,
                "tags_source": tags_source,
            }
        )
    )


main()
