"""A copy of a real wheel under other tags: new WHEEL `Tag:` lines, new file name, RECORD updated.

Used only where no backend produces a tag the preference experiment needs; the copy is marked as
retagged (with its origin) wherever it is reported. Its extension is the origin's, so it is for
asking installers which file they pick, never for importing.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

from packaging.tags import parse_tag
from packaging.utils import parse_wheel_filename


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def retagged_name(wheel_name: str, compressed_tag: str) -> str:
    """abitest-1.0-cp312-abi3-linux_x86_64.whl + cp315-abi3t-linux_x86_64 -> abitest-1.0-cp315-abi3t-linux_x86_64.whl"""
    name, version, build, _ = parse_wheel_filename(wheel_name)
    stem = wheel_name.split("-", maxsplit=1)[0]  # the file's own spelling of the name (underscores)
    assert name  # parsed, so the file name is valid
    parts = [stem, str(version)] + ([str(build[0]) + build[1]] if build else []) + [compressed_tag]
    return "-".join(parts) + ".whl"


def retag(source: Path, compressed_tag: str, dest_dir: Path) -> Path:
    """Write a copy of *source* tagged *compressed_tag* (e.g. cp315-abi3.abi3t-linux_x86_64) into *dest_dir*."""
    tags = sorted(str(t) for t in parse_tag(compressed_tag))
    dest = dest_dir / retagged_name(source.name, compressed_tag)
    with zipfile.ZipFile(source) as src:
        names = src.namelist()
        wheel_file = next(n for n in names if n.endswith(".dist-info/WHEEL") and n.count("/") == 1)
        record_file = wheel_file.rsplit("/", 1)[0] + "/RECORD"
        kept = [ln for ln in src.read(wheel_file).decode().splitlines() if not ln.startswith("Tag:")]
        new_wheel = ("\n".join([*kept, *(f"Tag: {t}" for t in tags)]) + "\n").encode()
        record_lines = []
        for line in src.read(record_file).decode().splitlines():
            path = line.split(",", 1)[0]
            record_lines.append(f"{path},{_record_hash(new_wheel)},{len(new_wheel)}" if path == wheel_file else line)
        new_record = ("\n".join(record_lines) + "\n").encode()
        dest_dir.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == wheel_file:
                    data = new_wheel
                elif info.filename == record_file:
                    data = new_record
                out.writestr(info, data)
    return dest


def wheel_file_tags(wheel: Path) -> tuple[str, ...]:
    """The `Tag:` lines of the wheel's WHEEL file, sorted (what the file says about itself)."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/WHEEL") and n.count("/") == 1)
        lines = zf.read(name).decode().splitlines()
    return tuple(sorted(ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("Tag:")))
