"""rawbuild: a tiny in-tree PEP 517 backend, the no-backend baseline (stdlib only, Python 3.8+).

It compiles src/<module>.c with the build interpreter's own sysconfig flags (CC, CFLAGS,
CCSHARED, INCLUDEPY, LDSHARED: what distutils did), names the file and tags the wheel
itself, and writes the wheel with zipfile. The target comes from the environment:

    ABITEST_KIND          version-specific (default) | abi3 | abi3t | abi3.abi3t
    ABITEST_LIMITED_API   Py_LIMITED_API value, e.g. 0x03090000 (abi3*, required)
    ABITEST_PY_API        interpreter tag of a stable-ABI wheel, e.g. cp39 (abi3*, required)

    version-specific  EXT_SUFFIX       cpXY-cpXY[t][d]
    abi3              .abi3.so         {py_api}-abi3       -DPy_LIMITED_API
    abi3t             .abi3t.so        {py_api}-abi3t      -DPy_LIMITED_API -DPy_TARGET_ABI3T
    abi3.abi3t        .abi3t.so        {py_api}-abi3.abi3t -DPy_LIMITED_API -DPy_TARGET_ABI3T
"""
import base64
import hashlib
import io
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile

KINDS = ("version-specific", "abi3", "abi3t", "abi3.abi3t")


def _project():
    """(name, version, summary, requires-python) from pyproject.toml's [project] (no tomllib on 3.8-3.10)."""
    with open("pyproject.toml", encoding="utf-8") as f:
        text = f.read()
    table = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S).group(1)
    fields = dict(re.findall(r'^([\w-]+)\s*=\s*"([^"]*)"\s*$', table, re.M))
    return fields["name"], fields["version"], fields.get("description", ""), fields.get("requires-python")


def _var(name):
    value = sysconfig.get_config_var(name)
    if not value:
        raise RuntimeError("rawbuild: sysconfig has no %s for %s" % (name, sys.executable))
    return str(value)


def _target():
    """(defines, file suffix, python tag, abi tag) for ABITEST_KIND on this interpreter."""
    kind = os.environ.get("ABITEST_KIND", "version-specific").strip() or "version-specific"
    if kind not in KINDS:
        raise RuntimeError("rawbuild: ABITEST_KIND=%r is not one of %s" % (kind, ", ".join(KINDS)))
    ext = os.path.splitext(_var("EXT_SUFFIX"))[1]  # ".so"
    if kind == "version-specific":
        soabi = _var("SOABI")  # cpython-315d-x86_64-linux-gnu, pypy311-pp73-x86_64-linux-gnu
        if sys.implementation.name == "cpython":
            return [], _var("EXT_SUFFIX"), "cp%d%d" % sys.version_info[:2], "cp" + soabi.split("-")[1]
        abi = "-".join(soabi.split("-")[:2]).replace("-", "_").replace(".", "_")
        return [], _var("EXT_SUFFIX"), "pp%d%d" % sys.version_info[:2], abi
    limited = os.environ.get("ABITEST_LIMITED_API", "").strip()
    py_api = os.environ.get("ABITEST_PY_API", "").strip()
    if not re.fullmatch(r"0x[0-9a-fA-F]{8}", limited) or not re.fullmatch(r"cp3\d+", py_api):
        raise RuntimeError("rawbuild: %s needs ABITEST_LIMITED_API=0x0309.. and ABITEST_PY_API=cp3.." % kind)
    if sys.implementation.name != "cpython":
        raise RuntimeError("rawbuild: %s has no stable ABI" % sys.implementation.name)
    floor = int(limited, 16) >> 16
    if (sys.version_info[0] << 8 | sys.version_info[1]) < floor:
        raise RuntimeError("rawbuild: Py_LIMITED_API=%s is newer than this Python %s" % (limited, sys.version.split()[0]))
    if kind == "abi3":
        return ["Py_LIMITED_API=" + limited], ".abi3" + ext, py_api, "abi3"
    if floor < 0x030F:
        raise RuntimeError("rawbuild: %s needs ABITEST_LIMITED_API >= 0x030f0000 (PEP 803)" % kind)
    defines = ["Py_LIMITED_API=" + limited, "Py_TARGET_ABI3T=" + limited]
    return defines, ".abi3t" + ext, py_api, kind  # kind is the abi tag: abi3t or abi3.abi3t


def _run(argv):
    print("rawbuild: " + " ".join(shlex.quote(a) for a in argv), flush=True)
    subprocess.run(argv, check=True)


def _include_dirs():
    """INCLUDEPY, as distutils used; a CPython run from its build tree (not installed) has its headers in the
    source tree and pyconfig.h in the build tree (distutils did the same). Not sysconfig.get_paths(): in a venv
    of a build tree (every isolated build of uv) its "venv" scheme names the uninstalled prefix."""
    if sysconfig.is_python_build():
        source = os.path.join(_var("srcdir"), "Include")
        return [source, os.path.dirname(sysconfig.get_config_h_filename())]
    return [_var("INCLUDEPY")]


def _compile(module, defines, suffix, tmp):
    """Compile and link as distutils did: CC CFLAGS CCSHARED -c, then LDSHARED."""
    cc = shlex.split(_var("CC")) + shlex.split(_var("CFLAGS")) + shlex.split(_var("CCSHARED"))
    obj = os.path.join(tmp, module + ".o")
    out = os.path.join(tmp, module + suffix)
    includes = ["-Isrc"] + ["-I" + d for d in _include_dirs()]
    _run(cc + includes + ["-D" + d for d in defines] + ["-c", os.path.join("src", module + ".c"), "-o", obj])
    _run(shlex.split(_var("LDSHARED")) + [obj, "-o", out])
    return out


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\n" % (arcname, digest, len(data))


def _metadata(name, version, summary, requires_python):
    lines = ["Metadata-Version: 2.1", "Name: " + name, "Version: " + version]
    lines += ["Summary: " + summary] if summary else []
    lines += ["Requires-Python: " + requires_python] if requires_python else []
    return "\n".join(lines) + "\n"


# -- PEP 517 hooks -------------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version, summary, requires_python = _project()
    module = re.sub(r"[-_.]+", "_", name).lower()
    dist = module + "-" + version
    defines, suffix, py_tag, abi_tag = _target()
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    tags = ["%s-%s-%s" % (py_tag, abi, plat) for abi in abi_tag.split(".")]
    wheel_text = "Wheel-Version: 1.0\nGenerator: rawbuild\nRoot-Is-Purelib: false\n"
    wheel_text += "".join("Tag: %s\n" % tag for tag in tags)
    filename = "%s-%s-%s-%s.whl" % (dist, py_tag, abi_tag, plat)
    with tempfile.TemporaryDirectory(prefix="rawbuild-") as tmp:
        so_path = _compile(module, defines, suffix, tmp)
        with open(so_path, "rb") as f:
            files = [(os.path.basename(so_path), f.read())]
        info = dist + ".dist-info/"
        files.append((info + "METADATA", _metadata(name, version, summary, requires_python).encode()))
        files.append((info + "WHEEL", wheel_text.encode()))
        record = "".join(_record_line(arc, data) for arc, data in files) + info + "RECORD,,\n"
        files.append((info + "RECORD", record.encode()))
        with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as zf:
            for arcname, data in files:
                zinfo = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
                zinfo.external_attr = (0o755 if arcname.endswith(suffix) else 0o644) << 16
                zf.writestr(zinfo, data, zipfile.ZIP_DEFLATED)
    print("rawbuild: wrote %s (%s)" % (filename, ", ".join(tags)), flush=True)
    return filename


def build_sdist(sdist_directory, config_settings=None):
    name, version, summary, requires_python = _project()
    base = "%s-%s" % (re.sub(r"[-_.]+", "_", name).lower(), version)
    with tarfile.open(os.path.join(sdist_directory, base + ".tar.gz"), "w:gz") as tf:
        for path in ["pyproject.toml", "rawbuild.py", "case.toml"] + sorted(
            os.path.join("src", n) for n in os.listdir("src")
        ):
            if os.path.exists(path):
                tf.add(path, arcname=base + "/" + path)
        pkg_info = _metadata(name, version, summary, requires_python).encode()
        member = tarfile.TarInfo(base + "/PKG-INFO")
        member.size = len(pkg_info)
        tf.addfile(member, io.BytesIO(pkg_info))
    return base + ".tar.gz"
