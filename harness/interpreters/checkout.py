"""Build CPython as a core developer does, uninstalled, from Debian's copy of the source release: the
orig tarball (checked against its sha256 from Debian's Sources index), `./configure && make` in the
source tree, and an out-of-tree `../configure --disable-gil && make` in build-ft/ of a second copy (an
in-tree build leaves objects that configure refuses for an out-of-tree one). Prints each build tree's
`python`, for `gate --python PATH` (`nox -s cpython_checkout` does both).

    python -m harness.interpreters.checkout [--dest DIR] [--jobs N] [--no-free-threaded]

DIR defaults to $ABI_HARNESS_CPYTHON_SRC, else cpython-src/ in the harness's cache directory.

A tree already built (pybuilddir.txt beside its python) is kept: `make` again in it after a change.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from harness.errors import ConfigError, HarnessError
from harness.infra.paths import cache_dir

# The newest CPython source release the Debian archive serves here (python3.13 in testing and forky);
# the 3.14 and 3.15 orig tarballs its Sources index lists are not served (HTTP 404).
VERSION = "3.13.15"
TARBALL = f"python3.13_{VERSION}.orig.tar.xz"
URL = f"http://deb.debian.org/debian/pool/main/p/python3.13/{TARBALL}"
SHA256 = "1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76"
TOP = f"Python-{VERSION}"  # the tarball's one top directory
DOWNLOAD_TIMEOUT_S = 600


def default_dest() -> Path:
    """Where the trees are built, and where the integration tests look for them."""
    return Path(os.environ.get("ABI_HARNESS_CPYTHON_SRC") or cache_dir() / "cpython-src")


def fetch(dest: Path, url: str = URL, sha256: str = SHA256) -> Path:
    """The tarball in *dest*, downloaded once and checked: a wrong digest is removed and reported."""
    path = dest / url.rsplit("/", 1)[1]
    if not path.is_file():
        part = path.with_name(path.name + ".part")
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, part.open("wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise HarnessError(f"cannot download {url}: {exc}") from None
        part.rename(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        path.unlink()
        raise HarnessError(f"{path}: sha256 {digest}, expected {sha256} (removed; run again to download it anew)")
    return path


def unpack(tarball: Path, into: Path) -> Path:
    """The tarball's source tree under *into* (unpacked once)."""
    tree = into / TOP
    if not (tree / "configure").is_file():
        into.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as tar:
            tar.extractall(into, filter="data")
    return tree


def build(source: Path, build_dir: Path, configure: Sequence[str], jobs: int) -> Path:
    """`configure && make -jN` in *build_dir* (the source tree itself, or a directory beside it); the logs
    are configure.log and make.log there. The built `python`, not installed."""
    python = build_dir / "python"
    if python.is_file() and (build_dir / "pybuilddir.txt").is_file():
        return python
    build_dir.mkdir(parents=True, exist_ok=True)
    for argv, log in (([str(source / "configure"), *configure], "configure.log"), (["make", f"-j{jobs}"], "make.log")):
        with (build_dir / log).open("w") as out:
            done = subprocess.run(argv, cwd=build_dir, stdout=out, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            raise HarnessError(
                f"{' '.join(argv)} in {build_dir} failed (exit {done.returncode}): see {build_dir / log}"
            )
    return python


def trees(dest: Path, jobs: int, free_threaded: bool) -> list[Path]:
    """The GIL build in the source tree; the free-threaded one out of tree, in a second copy's build-ft/."""
    tarball = fetch(dest)
    source = unpack(tarball, dest)
    pythons = [build(source, source, (), jobs)]
    if free_threaded:
        source = unpack(tarball, dest / "ft")
        pythons.append(build(source, source / "build-ft", ("--disable-gil",), jobs))
    return pythons


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.interpreters.checkout", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--dest", type=Path, default=default_dest(), help="where to unpack and build")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="make -jN (default 2)")
    parser.add_argument("--no-free-threaded", action="store_true", help="only the GIL build")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        raise ConfigError(f"--jobs {args.jobs}: give 1 or more")
    if shutil.which("make") is None or shutil.which("gcc") is None:
        raise ConfigError("building CPython needs make and gcc on PATH (and its build dependencies: see README)")
    for python in trees(args.dest.resolve(), args.jobs, not args.no_free_threaded):
        print(python)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except HarnessError as exc:  # ConfigError: exit 2; a failed download or build: 1
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
