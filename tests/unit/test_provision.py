"""Pure parts of provisioning and of the bubblewrap command line (nothing is run)."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from harness.errors import HarnessError
from harness.infra import rootfs
from harness.infra.proc import Outcome
from harness.interpreters.providers import debian, uv
from harness.interpreters.providers.base import Context
from tests.conftest import FIXTURES

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


# Recorded: this machine's ~/.cache/abi-harness/debian/unstable/ready.json (written by `provision debian`),
# and `uv python list --only-installed --output-format json` (uv 0.13.9; no uv-managed install here).
READY = (FIXTURES / "provision" / "debian-unstable-ready.json").read_text()
UV_LIST = (FIXTURES / "provision" / "uv-python-list.json").read_text()


def test_provisioned_marker(tmp_path: Path) -> None:
    rootfs_ = debian.DebianRootfs(tmp_path)
    assert rootfs_.provisioned(["python3.15"]) is None
    rootfs_.base.mkdir(parents=True)
    rootfs_.ready.write_text(READY)
    marker = rootfs_.provisioned(["python3.15", "pypy3"])
    assert marker is not None
    assert marker.interpreters == tuple(json.loads(READY)["interpreters"])
    assert json.dumps(msgspec.to_builtins(marker), indent=1) + "\n" == READY  # written through the same type
    assert rootfs_.provisioned(["python3.15", "python3.16"]) is None  # asking for more provisions again


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        ({"packages": "python3.15"}, "packages: expected array, got str"),
        ({"interpreters": ["/usr/bin/../../../bin/sh"]}, "interpreters[0]: expected str matching regex"),
        ({"interpreters": ["usr/bin/python3.15"]}, "interpreters[0]: expected str matching regex"),
        ({"suite": None}, "suite: expected str, got null"),
        ({"extra": 1}, "unknown field"),
    ],
)
def test_a_ready_marker_that_does_not_fit(tmp_path: Path, damage: dict[str, object], named: str) -> None:
    rootfs_ = debian.DebianRootfs(tmp_path)
    rootfs_.base.mkdir(parents=True)
    rootfs_.ready.write_text(json.dumps({**json.loads(READY), **damage}))
    assert rootfs_.provisioned(["python3.15"]) is None  # provisioned again, which rewrites it
    with pytest.raises(HarnessError) as caught:
        debian.read_marker(rootfs_.ready)
    assert f"{rootfs_.ready}: {named}" in str(caught.value)


def test_debian_candidates_come_from_whole_markers_and_a_damaged_one_is_said(tmp_path: Path) -> None:
    ctx = Context(tmp_path, tmp_path / "matrix.toml", (), ())
    good, bad = tmp_path / "debian" / "unstable", tmp_path / "debian" / "trixie"
    for base, text in ((good, READY), (bad, '{"interpreters": 5}')):
        base.mkdir(parents=True)
        (base / "ready.json").write_text(text)
    provider = debian.Debian()
    found = provider.candidates(ctx)
    assert [c.path for c in found] == json.loads(READY)["interpreters"]
    assert {c.root for c in found} == {str(good / "root")}
    (good / "ready.json").unlink()
    assert provider.candidates(ctx) == []
    assert "trixie/ready.json: interpreters: expected array, got int" in provider.note_when_empty(ctx)


def test_uv_python_list_is_read_through_its_type() -> None:
    paths = uv.installed_paths(Outcome(("uv",), 0, UV_LIST, "", 0.1))
    assert paths == [e["path"] for e in json.loads(UV_LIST)]
    for damaged, named in (('{"path": "/x"}', "expected array, got object"), ('[{"path": 5}]', "[0].path")):
        with pytest.raises(HarnessError, match=r"uv python list --output-format json: ") as caught:
            uv.installed_paths(Outcome(("uv",), 0, damaged, "", 0.1))
        assert named in str(caught.value)


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
