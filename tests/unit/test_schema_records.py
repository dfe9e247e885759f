"""The record decoder: recorded runs decode, re-judge to themselves, and write back byte for byte; arbitrary
JSON is a typed Record or DamagedResults naming file:line and the field path, never another exception."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.config.matrix import load_matrix
from harness.errors import DamagedResults
from harness.interpreters import providers
from harness.run import manifest
from harness.run.manifest import RunManifest
from harness.run.records import Record, decode_record, load
from harness.run.rejudge import rejudge
from tests.conftest import FIXTURES

REPO = Path(__file__).resolve().parents[2]
# ../shared beside the checkout (a worktree sits one level deeper): recorded facts of a real 3.14t run.
FREE_THREADED = next(
    (
        p / "shared" / "recorded" / "free-threaded-3.14"
        for p in (REPO.parent, REPO.parent.parent)
        if (p / "shared").is_dir()
    ),
    REPO / "missing",
)
RUNS = [FIXTURES / "runs" / "base", FIXTURES / "runs" / "regressed"]


@pytest.mark.parametrize("run", RUNS, ids=[r.name for r in RUNS])
def test_a_recorded_run_rejudged_is_itself_byte_for_byte(run: Path) -> None:
    """What `report --rejudge` does, on the run's own matrix.toml: no status, reason, stage or finding moves,
    and every line written back is the line that was read (the typed schema loses and adds nothing)."""
    records, environment = load(run)
    matrix = load_matrix(REPO / "matrix.toml", providers.names())
    # regressed/ was judged without the gh-122931 entry (see runs/README.md)
    issues = [k for k in matrix.known_issues if run.name == "base" or not k.link.endswith("/122931")]
    again, changes = rejudge(records, environment, matrix.targets, issues)
    assert changes == []
    lines = (run / "results.jsonl").read_text().splitlines()
    assert [r.line() for r in again] == lines


def test_the_recorded_free_threaded_records_decode_and_write_back_unchanged() -> None:
    path = FREE_THREADED / "records.jsonl"
    if not path.is_file():
        pytest.skip(f"{path}: the shared recorded facts are not beside this checkout")
    lines = path.read_bytes().splitlines()
    records = [decode_record(line, source=path, number=n) for n, line in enumerate(lines, 1)]
    assert [r.line().encode() for r in records] == lines
    assert "cp314t" in {r.run_python for r in records}
    assert all(r.observed is not None and r.observed.loads for r in records if r.status == "pass")


def _a_record() -> dict[str, Any]:
    line = (FIXTURES / "runs" / "base" / "results.jsonl").read_text().splitlines()[0]
    data: dict[str, Any] = json.loads(line)
    return data


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every place in a JSON value (object keys and list indexes)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _replaced(value: Any, path: tuple[str | int, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replaced(copy[head], rest, new)  # type: ignore[index]
    return copy


def _decoded_or_named(line: bytes) -> None:
    damage = None
    try:
        record = decode_record(line, source="results.jsonl", number=7)
    except DamagedResults as exc:
        damage = str(exc)
    if damage is not None:
        assert damage.startswith("results.jsonl:7: "), damage
        assert "\n" not in damage
        return
    assert isinstance(record, Record)
    assert decode_record(record.line().encode(), source="x", number=1) == record  # round-trips


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_real_record_with_any_value_anywhere_is_a_record_or_named_damage(data: st.DataObject) -> None:
    """Mutations of a real record (the decoder's interesting inputs are near valid ones)."""
    record = _a_record()
    where = data.draw(st.sampled_from(_paths(record)))
    _decoded_or_named(json.dumps(_replaced(record, where, data.draw(JSON))).encode())


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_arbitrary_json_is_a_record_or_named_damage(value: Any) -> None:
    _decoded_or_named(json.dumps(value).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_are_named_damage(raw: bytes) -> None:
    _decoded_or_named(raw)


def test_a_damaged_copy_of_a_recorded_run_names_line_and_field(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(FIXTURES / "runs" / "base", run)
    lines = (run / "results.jsonl").read_text().splitlines()
    data = json.loads(lines[11])
    data["observed"]["loads"][0]["outcome"] = "x"
    lines[11] = json.dumps(data, sort_keys=True)
    (run / "results.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(DamagedResults) as caught:
        load(run)
    assert (
        f"{run / 'results.jsonl'}:12: observed.loads[0].outcome: expected one of loaded, exception, crash, "
        'timeout, no-report, got "x"'
    ) in str(caught.value)


def _manifest_or_named(raw: bytes, tmp_path: Path) -> None:
    (tmp_path / "environment.json").write_bytes(raw)
    damage = None
    try:
        found = manifest.read(tmp_path)
    except DamagedResults as exc:
        damage = str(exc)
    if damage is not None:
        assert damage.startswith(f"{tmp_path / 'environment.json'}: "), damage
        assert "\n" not in damage
        return
    assert isinstance(found, RunManifest)
    (tmp_path / "environment.json").write_text(found.text())
    assert manifest.read(tmp_path) == found  # what is read writes back to itself


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_real_manifest_with_any_value_anywhere_is_a_manifest_or_named_damage(
    tmp_path: Path, data: st.DataObject
) -> None:
    env = json.loads((FIXTURES / "runs" / "base" / "environment.json").read_text())
    where = data.draw(st.sampled_from(_paths(env)))
    _manifest_or_named(json.dumps(_replaced(env, where, data.draw(JSON))).encode(), tmp_path)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(JSON | st.binary(max_size=32).map(lambda b: b.decode("latin-1")))
def test_arbitrary_json_is_a_manifest_or_named_damage(tmp_path: Path, value: Any) -> None:
    _manifest_or_named(json.dumps(value).encode(), tmp_path)


@pytest.mark.parametrize(
    ("part", "value", "says"),
    [
        ("target", "a..b", "target: 'a..b' holds '..'"),
        ("run_python", ".hidden", "run_python: '.hidden': use letters"),
        ("build_python", "cp3 12", "build_python: 'cp3 12': use letters"),
        ("binding", "x;y", "binding: 'x;y': use letters"),
    ],
)
def test_every_id_of_a_record_fits_the_path_grammar(part: str, value: str, says: str) -> None:
    """Ids name logs and cells: a consistent record whose id is no safe path part is damaged."""
    data = _a_record()
    data[part] = value
    data["case"] = f"{data['backend']}/{data['binding']}"
    data["cell"] = ":".join(data[k] for k in ("case", "target", "build_python", "run_python"))
    with pytest.raises(DamagedResults, match="^results.jsonl:3: " + re.escape(says)):
        decode_record(json.dumps(data).encode(), source="results.jsonl", number=3)
