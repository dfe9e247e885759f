"""The one decode helper: a typed value, or the project's error naming file, line and field path."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import msgspec
import pytest

from harness.errors import ConfigError, DamagedResults
from harness.schema.decode import convert, decode_json, decode_toml, read_json, read_toml


class Outcome(enum.StrEnum):
    LOADED = "loaded"
    NO_REPORT = "no-report"


class Load(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    outcome: Outcome
    timeout_s: Annotated[float, msgspec.Meta(ge=0, le=86400)] = 0.0

    def __post_init__(self) -> None:
        if self.outcome is Outcome.NO_REPORT and self.timeout_s:
            raise ValueError("a timeout belongs to no no-report load")


class Doc(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    loads: tuple[Load, ...]
    count: int = 0
    extra: Load | None = None
    by_name: dict[str, Load] = {}


BAD_JSON = [
    # (document, what the message says after "results.jsonl:12: ")
    (
        b'{"loads": [{"outcome": "loaded"}, {"outcome": "x"}]}',
        'loads[1].outcome: expected one of loaded, no-report, got "x"',
    ),
    (b'{"loads": "abc"}', "loads: expected array, got str"),
    (b"[1, 2]", "expected object, got array"),
    (b"\xff\xfe", "not valid JSON"),
    (b'{"loads": [], "other": 1}', "unknown field other"),
    (b"{}", "missing required field loads"),
    (b'{"loads": [{"outcome": "no-report", "timeout_s": 1}]}', "loads[0]: a timeout belongs to no no-report load"),
    (
        b'{"loads": [{"outcome": "loaded", "timeout_s": 1e400}]}',
        "loads[0].timeout_s: out of range: must be >= 0 and <= 86400",
    ),
    (b'{"loads": [{"outcome": "loaded", "timeout_s": NaN}]}', "not valid JSON"),
    (b'{"loads": [], "count": true}', "count: expected int, got bool"),
    (b'{"loads": [], "count": "5"}', "count: expected int, got str"),
    (b'{"loads": [], "extra": {"outcome": "q"}}', 'extra.outcome: expected one of loaded, no-report, got "q"'),
    (b'{"loads": [], "by_name": {"a": {"outcome": 5}}}', "by_name[...].outcome: expected str, got int"),
    (b'{"loads": [{"outcome": "\\u001b[31mred"}]}', 'got "\\x1b[31mred"'),
]


@pytest.mark.parametrize(("document", "says"), BAD_JSON)
def test_a_bad_document_is_damaged_results_naming_line_and_field(document: bytes, says: str) -> None:
    with pytest.raises(DamagedResults) as caught:
        decode_json(document, Doc, source="results.jsonl", line=12)
    assert caught.value.exit_code == 3
    assert str(caught.value).startswith("results.jsonl:12: ")
    assert says in str(caught.value)
    assert "\x1b" not in str(caught.value)  # printed to a terminal: no raw control characters


def test_a_good_document_is_the_typed_value() -> None:
    doc = decode_json(b'{"loads": [{"outcome": "loaded", "timeout_s": 5}]}', Doc, source="x")
    assert doc == Doc(loads=(Load(outcome=Outcome.LOADED, timeout_s=5.0),))


def test_text_that_is_not_utf8_is_named_not_raised() -> None:
    with pytest.raises(DamagedResults, match=r"^r\.json: not UTF-8 text"):
        decode_json('{"loads": [], "x": "\udc80"}', Doc, source="r.json")


def test_toml_errors_are_configuration_errors() -> None:
    with pytest.raises(ConfigError, match=r"^cases\.toml: loads: expected array, got int$") as caught:
        decode_toml("loads = 5\n", Doc, source="cases.toml")
    assert caught.value.exit_code == 2
    with pytest.raises(ConfigError, match=r"^cases\.toml: .*line"):
        decode_toml("loads = []\ncount = = 1\n", Doc, source="cases.toml")
    with pytest.raises(ConfigError, match=r"^cases\.toml: not UTF-8 text"):
        decode_toml(b"loads = []\n# \xff\n", Doc, source="cases.toml")


def test_convert_takes_an_already_parsed_object_strictly() -> None:
    with pytest.raises(
        ConfigError, match=r'^m\.toml: loads\[0\]\.outcome: expected one of loaded, no-report, got "x"$'
    ):
        convert({"loads": [{"outcome": "x"}]}, Doc, source="m.toml")
    assert convert({"loads": []}, Doc, source="m.toml") == Doc(loads=())


def test_read_names_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(DamagedResults, match=r"environment\.json: cannot read"):
        read_json(tmp_path / "environment.json", Doc)
    (tmp_path / "cases.toml").mkdir()
    with pytest.raises(ConfigError, match=r"cases\.toml: cannot read"):
        read_toml(tmp_path / "cases.toml", Doc)
    (tmp_path / "r.json").write_bytes(b'{"loads": []}')
    assert read_json(tmp_path / "r.json", Doc) == Doc(loads=())
