"""A release's wheels for this platform, from the configured package index (PEP 691 JSON, or PEP 503
HTML), downloaded once into the cache by their sha256.

"This platform" is the host's architecture on Linux: `manylinux*`, `linux_<arch>` and `any` wheels,
whatever glibc they ask for (the oracle then says which interpreter's glibc suffices) and whatever
Python and ABI tag they carry (abi3, abi3t, free-threaded: every tag the release has). musllinux,
macOS and Windows wheels cannot run here and are left out, said in the log.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import platform
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import msgspec
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from harness.errors import ConfigError, HarnessError
from harness.infra import atomic
from harness.schema.decode import decode_json

DEFAULT_INDEX = "https://pypi.org/simple"
_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class IndexFile:
    """One file of a project's index page."""

    filename: str
    url: str
    sha256: str
    yanked: bool = False


@dataclass(frozen=True)
class Release:
    """The wheels of one version chosen for this platform, downloaded, and what was left out."""

    name: str
    version: str
    index: str
    wheels: tuple[tuple[IndexFile, Path], ...]
    left_out: tuple[str, ...]  # other platforms' wheels, by file name


def index_url(explicit: str | None = None) -> str:
    """--index-url, else what pip and uv are configured with ($PIP_INDEX_URL, $UV_INDEX_URL), else PyPI."""
    for value in (explicit, os.environ.get("PIP_INDEX_URL"), os.environ.get("UV_INDEX_URL")):
        if value:
            return value.rstrip("/")
    return DEFAULT_INDEX


def parse_requirement(text: str) -> Requirement:
    """'name' or 'name==version' (any specifier); ConfigError naming the target otherwise."""
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise ConfigError(f"target {text!r}: not a wheel, a directory or a requirement ({exc})") from None
    if req.url or req.extras or req.marker:
        raise ConfigError(f"target {text!r}: give NAME or NAME==VERSION (no URL, extras or marker)")
    return req


def _get(url: str) -> tuple[bytes, str]:
    parsed = urllib.parse.urlparse(url)
    local = Path(urllib.request.url2pathname(parsed.path))
    if parsed.scheme == "file" and local.is_dir():  # a file:// index: its pages are index.html (as pip reads them)
        url = (local / "index.html").as_uri()
    request = urllib.request.Request(url, headers={"Accept": _ACCEPT, "User-Agent": "abi-harness check"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        return response.read(), response.headers.get("Content-Type", "")


class _Anchors(HTMLParser):
    """PEP 503: every <a href=...>filename</a>, with data-yanked."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append((str(found["href"]), "data-yanked" in found))


class SimpleFile(msgspec.Struct, frozen=True):
    """One file of a PEP 691 project page: the keys read (an index may write more)."""

    url: str
    filename: str
    hashes: dict[str, str] = {}
    yanked: bool | str = False  # a reason string is yanked too (PEP 592)


class SimplePage(msgspec.Struct, frozen=True):
    files: tuple[SimpleFile, ...]


def parse_page(body: bytes, content_type: str, page_url: str) -> list[IndexFile]:
    """A project page, JSON (PEP 691) or HTML (PEP 503), as files with their sha256 (others left out)."""
    if "json" in content_type:
        data = decode_json(body, SimplePage, source=f"{page_url} (PEP 691 JSON)", error=HarnessError)
        entries = [(f.url, f.filename, f.hashes.get("sha256", ""), bool(f.yanked)) for f in data.files]
    else:
        parser = _Anchors()
        parser.feed(body.decode("utf-8", "replace"))
        entries = []
        for href, yanked in parser.links:
            path, _, fragment = href.partition("#")
            digest = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else ""
            entries.append((path, urllib.parse.unquote(path.rsplit("/", 1)[-1]), digest, yanked))
    return [
        IndexFile(name, urllib.parse.urljoin(page_url, url), digest, yanked)
        for url, name, digest, yanked in entries
        if digest
    ]


def project_files(index: str, name: str) -> list[IndexFile]:
    """Every file the index lists for project *name*; HarnessError when the index cannot be reached."""
    url = f"{index}/{canonicalize_name(name)}/"
    try:
        body, content_type = _get(url)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise ConfigError(f"target {name!r}: no such project on {index}") from None
        raise HarnessError(f"{url}: the index answered HTTP {exc.code}; try again, or --index-url") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HarnessError(f"{url}: index unreachable ({reason}); check the network or --index-url") from None
    try:
        return parse_page(body, content_type, url)
    except (ValueError, KeyError, TypeError) as exc:
        raise HarnessError(f"{url}: not a PEP 691/503 project page ({type(exc).__name__}: {exc})") from None


def file_version(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def choose_version(req: Requirement, files: list[IndexFile]) -> Version:
    """The newest version the specifier admits (pre-releases only when it names one), like an installer."""
    versions = {v for f in files if (v := file_version(f.filename)) is not None and not f.yanked}
    # A yanked release is still installable when pinned exactly (PEP 592).
    exact = any(s.operator in ("==", "===") for s in req.specifier)
    yanked = {v for f in files if f.yanked and (v := file_version(f.filename)) is not None} if exact else set()
    admitted = sorted(req.specifier.filter(versions | yanked))
    if not admitted:
        shown = ", ".join(str(v) for v in sorted(versions)[-5:]) or "none"
        raise ConfigError(f"target {str(req)!r}: no version matches on the index (newest: {shown})")
    return admitted[-1]


def machine() -> str:
    return platform.machine()


def fits_here(filename: str, arch: str) -> bool:
    """A wheel whose platform tags include this Linux architecture (any glibc) or 'any'."""
    try:
        tags = parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return False
    pattern = re.compile(rf"(?:manylinux\w*|linux)_{re.escape(arch)}|any")
    return any(pattern.fullmatch(t.platform) for t in tags)


def tag_set(filename: str) -> str:
    """'orjson-3.13.0-cp312-cp312-manylinux_2_17_x86_64.whl' -> 'cp312-cp312-manylinux_2_17_x86_64'."""
    return "-".join(filename.removesuffix(".whl").split("-")[-3:])


def release_wheels(
    req: Requirement, index: str, cache: Path, globs: Sequence[str] = (), arch: str | None = None
) -> Release:
    """The chosen version's wheels for this platform (those whose tag set matches a glob, when given),
    downloaded; ConfigError when it has none."""
    files = project_files(index, req.name)
    version = choose_version(req, files)
    wheels = [f for f in files if f.filename.endswith(".whl") and file_version(f.filename) == version]
    here = [f for f in wheels if fits_here(f.filename, arch or machine())]
    if globs:
        here = [f for f in here if any(fnmatch.fnmatchcase(tag_set(f.filename), g) for g in globs)]
    if not here and globs:
        raise ConfigError(
            f"target {str(req)!r}: no wheel of {req.name} {version} for this platform matches {list(globs)}"
        )
    if not here:
        others = ", ".join(f.filename for f in wheels[:4]) or "no wheels at all (sdist only)"
        raise ConfigError(
            f"target {str(req)!r}: {req.name} {version} has no wheel for linux {arch or machine()} on {index} "
            f"(it has: {others}{', ...' if len(wheels) > 4 else ''}); pin a version that has, or drop the target"
        )
    fetched = tuple((f, download(f, cache)) for f in sorted(here, key=lambda f: f.filename))
    left_out = tuple(sorted(f.filename for f in wheels if f not in here))
    return Release(str(canonicalize_name(req.name)), str(version), index, fetched, left_out)


def download(file: IndexFile, cache: Path) -> Path:
    """*file* under cache/check/wheels/<sha256>/, fetched once and checked against the index's hash."""
    dest = cache / "check" / "wheels" / file.sha256 / file.filename
    if dest.is_file():
        return dest
    try:
        body, _ = _get(file.url)
    except (urllib.error.URLError, OSError) as exc:
        raise HarnessError(f"{file.url}: download failed ({getattr(exc, 'reason', exc)})") from None
    actual = hashlib.sha256(body).hexdigest()
    if actual != file.sha256:
        raise HarnessError(f"{file.url}: sha256 {actual} is not the index's {file.sha256}; not used")
    atomic.write_bytes(dest, body)
    return dest
