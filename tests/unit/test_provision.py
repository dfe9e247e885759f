"""Pure parts of provisioning and of the bubblewrap command line (nothing is run)."""

from __future__ import annotations

from pathlib import Path

from harness.infra import rootfs
from harness.infra.proc import Outcome
from harness.interpreters.providers import debian, uv

# Recorded from `uv python install 3.15t` on a machine without access to the download host.
UV_OFFLINE = """error: Failed to install cpython-3.15.2+freethreaded-linux-x86_64-gnu
  Caused by: Request failed after 1 retry
  cause: error sending request for url (https://github.com/astral-sh/python-build-standalone/releases/download/x.tar.gz)
  cause: client error (Connect)
  cause: dns error
  cause: failed to lookup address information: Name or service not known
"""


def test_debian_packages_cover_versions_debug_and_pypy() -> None:
    packages = debian.debian_packages(["3.15"], ["cargo"])
    assert {"python3.15", "python3.15-dev", "python3.15-venv", "python3.15-dbg", "pypy3", "gcc", "cargo"} <= set(
        packages
    )


def test_interpreter_names() -> None:
    assert debian._is_interpreter("python3.15")
    assert debian._is_interpreter("python3.15d")
    assert not debian._is_interpreter("python3.15-config")
    assert not debian._is_interpreter("python3.15-dbg")  # the same binary as python3.15d


def test_uv_failure_is_one_line() -> None:
    out = Outcome(("uv",), 2, "", UV_OFFLINE, 3.0)
    assert uv._cause(out) == "failed to lookup address information: Name or service not known"


def test_provisioned_marker(tmp_path: Path) -> None:
    rootfs_ = debian.DebianRootfs(tmp_path)
    assert rootfs_.provisioned(["python3.15"]) is None
    rootfs_.base.mkdir(parents=True)
    rootfs_.ready.write_text('{"packages": ["python3.15", "gcc"]}')
    assert rootfs_.provisioned(["python3.15"]) is not None
    assert rootfs_.provisioned(["python3.15", "pypy3"]) is None  # asking for more provisions again


def test_bwrap_command_binds_host_paths_at_the_same_place(tmp_path: Path) -> None:
    root = tmp_path / "debian" / "unstable" / "root"
    root.mkdir(parents=True)
    cache = tmp_path / "cache"
    argv = rootfs.command(str(root), ["/usr/bin/python3.15", "-V"], [cache], cwd=cache)
    assert argv[:2] == ["bwrap", "--die-with-parent"]
    assert argv[argv.index("--ro-bind") + 1 : argv.index("--ro-bind") + 3] == [str(root), "/"]
    assert ["--bind", str(cache), str(cache)] == argv[argv.index(str(cache)) - 1 : argv.index(str(cache)) + 2]
    assert argv[argv.index("HOME") + 1] == str(tmp_path / "debian" / "unstable" / "home")
    assert argv[argv.index("--chdir") + 1] == str(cache)
    assert argv[-3:] == ["--", "/usr/bin/python3.15", "-V"]
    # /tmp is a fresh tmpfs inside, which takes the mount point; no clutter in the rootfs
    assert not (root / str(cache).lstrip("/")).exists()


def test_provisioning_command_is_writable_and_keeps_its_own_ca_bundle(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    argv = rootfs.command(str(root), ["apt-get", "update"], [tmp_path / "cache"], writable=True)
    assert argv[2:5] == ["--bind", str(root), "/"]
    assert (root / str(tmp_path / "cache").lstrip("/")).is_dir()  # mount point made in the rootfs
    assert "/etc/ssl/certs/ca-certificates.crt" not in argv
