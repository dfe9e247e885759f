"""harness/interpreters/checkout.py: the source tarball is checked before anything is built from it."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from harness.errors import ConfigError, HarnessError
from harness.interpreters import checkout


def served(tmp_path: Path, payload: bytes) -> str:
    """A file:// URL for *payload*: urllib reads it as it reads the archive."""
    src = tmp_path / "served" / checkout.TARBALL
    src.parent.mkdir()
    src.write_bytes(payload)
    return src.as_uri()


def test_a_tarball_with_the_wrong_digest_is_removed_and_named(tmp_path: Path) -> None:
    url = served(tmp_path, b"not cpython")
    with pytest.raises(HarnessError, match=r"sha256 .*expected 1e66a794") as caught:
        checkout.fetch(tmp_path, url)
    assert checkout.TARBALL in str(caught.value)
    assert not (tmp_path / checkout.TARBALL).exists()


def test_a_tarball_with_its_digest_is_kept_and_unpacked_once(tmp_path: Path) -> None:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as tar:
        info = tarfile.TarInfo(f"{checkout.TOP}/configure")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"#!/"))
    payload = data.getvalue()
    url = served(tmp_path, payload)
    path = checkout.fetch(tmp_path, url, hashlib.sha256(payload).hexdigest())
    tree = checkout.unpack(path, tmp_path / "src")
    assert (tree / "configure").read_bytes() == b"#!/"
    (tree / "configure").write_bytes(b"kept")
    assert (checkout.unpack(path, tmp_path / "src") / "configure").read_bytes() == b"kept"


def test_a_built_tree_is_not_configured_again(tmp_path: Path) -> None:
    (tmp_path / "python").write_bytes(b"exe")
    (tmp_path / "pybuilddir.txt").write_text("build/lib.linux-x86_64-3.13")
    # No configure script exists: building would fail, so returning the python shows nothing ran.
    assert checkout.build(tmp_path, tmp_path, (), 2) == tmp_path / "python"


def test_a_failed_configure_names_its_log(tmp_path: Path) -> None:
    (tmp_path / "configure").write_text("#!/bin/sh\necho 'no C compiler' >&2\nexit 77\n")
    (tmp_path / "configure").chmod(0o755)
    with pytest.raises(HarnessError, match=r"exit 77.*configure\.log"):
        checkout.build(tmp_path, tmp_path / "build-ft", ("--disable-gil",), 2)
    assert "no C compiler" in (tmp_path / "build-ft" / "configure.log").read_text()


def test_jobs_below_one_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--jobs 0"):
        checkout.main(["--dest", str(tmp_path), "--jobs", "0"])
