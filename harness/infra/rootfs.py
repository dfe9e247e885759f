"""Run a command inside a provisioned root filesystem with bubblewrap, host paths bound at the same place.

The rootfs is read-only at run time; the harness's cache (wheels, cell environments, build
directories) and the uv binary's directory are bound read-write/read-only at their host paths, so a
wheel built on the host installs inside and the other way round.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

# Host files that make the network work inside as it does outside: DNS, CA bundles, pip config.
_HOST_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/pip.conf", "/etc/ssl/certs/ca-certificates.crt")
_CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT", "CURL_CA_BUNDLE", "UV_CERT")


def home_for(root: str) -> Path:
    """A writable HOME beside the rootfs (uv and pip caches of the rootfs live there, not in the host's)."""
    return Path(root).parent / "home"


def host_files(*, provisioning: bool = False) -> list[str]:
    """Provisioning gets only name resolution: apt speaks plain HTTP, and the rootfs's own
    ca-certificates package must be free to write its bundle."""
    files = list(_HOST_FILES[:2] if provisioning else _HOST_FILES)
    if not provisioning:
        files += [os.environ[v] for v in _CA_VARIABLES if os.environ.get(v)]
    return sorted({f for f in files if os.path.isfile(f)})


def command(
    root: str,
    argv: Sequence[str],
    binds: Sequence[Path | str] = (),
    *,
    cwd: Path | None = None,
    writable: bool = False,
) -> list[str]:
    """The bwrap command line that runs *argv* inside *root*."""
    home = home_for(root)
    mounts: list[str] = ["--bind" if writable else "--ro-bind", root, "/"]
    mounts += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/run"]
    if not writable:
        mounts += ["--tmpfs", "/tmp"]
    for path in host_files(provisioning=writable):
        _ensure_mount_point(root, path, is_file=True)
        mounts += ["--ro-bind", path, path]
    for bind in sorted({str(b) for b in (*binds, home)}):
        os.makedirs(bind, exist_ok=True)
        if writable or not (bind == "/tmp" or bind.startswith("/tmp/")):  # /tmp is a fresh tmpfs inside
            _ensure_mount_point(root, bind, is_file=False)
        mounts += ["--bind", bind, bind]
    env = ["--setenv", "HOME", str(home), "--unsetenv", "VIRTUAL_ENV", "--unsetenv", "PYTHONPATH"]
    env += ["--setenv", "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    where = ["--chdir", str(cwd)] if cwd is not None else ["--chdir", "/"]
    return ["bwrap", "--die-with-parent", *mounts, *env, *where, "--", *argv]


def _ensure_mount_point(root: str, path: str, *, is_file: bool) -> None:
    """bwrap cannot create mount points in a read-only root: make them on the host side first."""
    target = Path(root + path)
    if target.exists() or target.is_symlink():
        return
    if is_file:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    else:
        target.mkdir(parents=True, exist_ok=True)
