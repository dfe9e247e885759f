"""Decode a file's bytes through a msgspec type; every failure becomes the project's error.

A message names the source, the line when known, the field path and what was wrong, e.g.
``results.jsonl:12: observed.loads[1].outcome: expected one of loaded, exception, crash, timeout,
no-report, got "x"``. Nothing else escapes: not msgspec's errors, not UnicodeDecodeError, not OSError.

    decode_json(data, Type, source=path, line=12)        # one JSON document (or one JSONL line)
    decode_toml(data, Type, source=path)                  # a TOML document (ConfigError by default)
    convert(obj, Type, source=path)                       # an object already parsed (tomllib, json)
    read_json(path, Type) / read_toml(path, Type)         # the file's bytes, then the above
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from harness.errors import ConfigError, DamagedResults, HarnessError

T = TypeVar("T")
ErrorType = type[DamagedResults] | type[ConfigError] | type[HarnessError]
Source = str | os.PathLike[str]


def decode_json(
    data: bytes | str, into: type[T], *, source: Source, line: int | None = None, error: ErrorType = DamagedResults
) -> T:
    """One JSON document of type *into* (strict: no string-to-number coercion), or *error*."""
    try:
        return msgspec.json.decode(data, type=into, strict=True)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeError) as exc:
        raise error(failure(exc, into, source=source, line=line)) from None


def decode_toml(data: bytes | str, into: type[T], *, source: Source, error: ErrorType = ConfigError) -> T:
    """A TOML document of type *into*, or *error* (TOML's own errors carry their line)."""
    try:
        return msgspec.toml.decode(data, type=into)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeError) as exc:
        raise error(failure(exc, into, source=source, syntax="TOML")) from None


def convert(obj: Any, into: type[T], *, source: Source, line: int | None = None, error: ErrorType = ConfigError) -> T:
    """An already-parsed object (from tomllib or json) as *into*, strictly, or *error*."""
    try:
        return msgspec.convert(obj, type=into, strict=True)
    except (msgspec.ValidationError, UnicodeError) as exc:
        raise error(failure(exc, into, source=source, line=line)) from None


def read_json(path: Path, into: type[T], *, error: ErrorType = DamagedResults) -> T:
    return decode_json(_read(path, error), into, source=path, error=error)


def read_toml(path: Path, into: type[T], *, error: ErrorType = ConfigError) -> T:
    return decode_toml(_read(path, error), into, source=path, error=error)


def _read(path: Path, error: ErrorType) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None


_AT = re.compile(r"^(?P<why>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def failure(exc: Exception, into: Any, *, source: Source, line: int | None = None, syntax: str = "JSON") -> str:
    """'SOURCE[:LINE]: FIELD.PATH: why', from a msgspec (or Unicode) error about a document of type *into*."""
    where = f"{os.fspath(source)}:{line}" if line is not None else os.fspath(source)
    if isinstance(exc, UnicodeError) or "codec can't" in str(exc):  # msgspec.toml wraps UnicodeDecodeError
        return f"{where}: not UTF-8 text ({exc})"
    if not isinstance(exc, msgspec.ValidationError):  # malformed JSON or TOML (a ValidationError is one too)
        return f"{where}: not valid {syntax}: {printable(_lower(str(exc).removeprefix('JSON is malformed: ')))}"
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches any text
    path = (match["path"] or "").lstrip(".")
    why = _reworded(match["why"], _type_at(into, path))
    return f"{where}: {path}: {why}" if path else f"{where}: {why}"


def _reworded(why: str, info: msgspec.inspect.Type | None) -> str:
    """msgspec's sentence in the harness's words, with the allowed values or range when the type knows them."""
    if why.startswith("Invalid enum value ") and isinstance(info, msgspec.inspect.EnumType):
        allowed = ", ".join(str(m.value) for m in info.cls)
        return printable(f"expected one of {allowed}, got {_quoted(why.removeprefix('Invalid enum value '))}")
    if why.startswith("Invalid enum value ") and isinstance(info, msgspec.inspect.LiteralType):
        allowed = ", ".join(str(v) for v in info.values)
        return printable(f"expected one of {allowed}, got {_quoted(why.removeprefix('Invalid enum value '))}")
    if why == "Number out of range" and isinstance(info, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        limits = ((">", info.gt), (">=", info.ge), ("<", info.lt), ("<=", info.le))
        return "out of range: must be " + " and ".join(f"{op} {v:g}" for op, v in limits if v is not None)
    why = re.sub(r"`([^`]*)`", r"\1", why)  # Expected `str`, got `int` -> expected str, got int
    why = why.replace("Object missing required field", "missing required field")
    why = why.replace("Object contains unknown field", "unknown field")
    return printable(_lower(why))


def _type_at(into: Any, path: str) -> msgspec.inspect.Type | None:
    """The msgspec type found at a field path like 'observed.loads[1].outcome' (None when not found)."""
    try:
        info: msgspec.inspect.Type | None = msgspec.inspect.type_info(into)
    except (TypeError, ValueError):
        return None
    for step in re.findall(r"[^.\[\]]+|\[[^\]]*\]", path):
        info = _step(_unwrapped(info), step)
    return _unwrapped(info)


def _step(info: msgspec.inspect.Type | None, step: str) -> msgspec.inspect.Type | None:
    if isinstance(info, msgspec.inspect.StructType) and not step.startswith("["):
        return next((f.type for f in info.fields if f.encode_name == step), None)
    if isinstance(info, msgspec.inspect.DictType):
        return info.value_type
    if step.startswith("[") and isinstance(info, msgspec.inspect.ListType | msgspec.inspect.VarTupleType):
        return info.item_type
    if step.startswith("[") and isinstance(info, msgspec.inspect.TupleType) and step[1:-1].isdigit():
        index = int(step[1:-1])
        return info.item_types[index] if index < len(info.item_types) else None
    return None


def _unwrapped(info: msgspec.inspect.Type | None) -> msgspec.inspect.Type | None:
    """X | None -> X (a path leads through the optional to the value)."""
    if isinstance(info, msgspec.inspect.UnionType):
        rest = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        return rest[0] if len(rest) == 1 else info
    if isinstance(info, msgspec.inspect.Metadata):
        return _unwrapped(info.type)
    return info


def _quoted(value: str) -> str:
    """msgspec quotes a bad string 'like this'; the harness's messages quote it "like this" (JSON)."""
    return f'"{value[1:-1]}"' if len(value) >= 2 and value[0] == value[-1] == "'" else value


def _lower(text: str) -> str:
    """'Expected ...' -> 'expected ...'; 'JSON is ...' stays."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def printable(text: str, limit: int = 300) -> str:
    """A message quoting data is printed to a terminal: control characters become escapes, length bounded."""
    out = "".join(c if unicodedata.category(c) != "Cc" else f"\\x{ord(c):02x}" for c in text)
    return out if len(out) <= limit else out[: limit - 3] + "..."
