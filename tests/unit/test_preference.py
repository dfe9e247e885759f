"""The preference judgement over recorded installer answers (tests/fixtures/preference/, from real runs)."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from harness.build.installers import pip_report
from harness.build.retag import retag, retagged_name, wheel_file_tags
from harness.errors import DamagedResults
from harness.infra.proc import Outcome
from harness.model import Installer, Interpreter
from harness.preference.judge import (
    Answer,
    Candidate,
    Facts,
    Order,
    Result,
    Source,
    WheelSet,
    changes,
    chosen_from_pip_report,
    chosen_from_uv_log,
    judge,
    listing,
    markdown,
    rank,
    short_tag,
    tie_position,
)
from harness.reports.markdown import run_sections
from tests.conftest import FIXTURES

HERE = FIXTURES / "preference"
DIST = "abitest-sysconfig-c-api"
ABI3 = "abitest_sysconfig_c_api-1.0.0-cp315-abi3-linux_x86_64.whl"
COMPRESSED = "abitest_sysconfig_c_api-1.0.0-cp315-abi3.abi3t-linux_x86_64.whl"
ABI3T = "abitest_sysconfig_c_api-1.0.0-cp315-abi3t-linux_x86_64.whl"
CP39 = "abitest_sysconfig_c_api-1.0.0-cp39-abi3-linux_x86_64.whl"
CP315 = "abitest_sysconfig_c_api-1.0.0-cp315-cp315-linux_x86_64.whl"
CP315T = "abitest_sysconfig_c_api-1.0.0-cp315-cp315t-linux_x86_64.whl"


def recorded_result() -> Result:
    return Result.read(HERE / "result.json")


# -- what the installers printed ------------------------------------------------------------------


@pytest.mark.parametrize(("order", "expected"), [("sorted", COMPRESSED), ("reversed", ABI3)])
def test_pip_report_names_the_file(order: str, expected: str) -> None:
    stdout = (HERE / f"pip-report-cp315-stable-index-{order}.json").read_text()
    report = pip_report(Outcome(("pip",), 0, stdout, "", 0.1))
    assert chosen_from_pip_report(report, DIST) == expected
    assert chosen_from_pip_report(report, "another-dist") == ""


@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_uv_log_names_the_file(order: str) -> None:
    log = (HERE / f"uv-dry-run-cp315-stable-index-{order}.log").read_text()
    assert chosen_from_uv_log(log, DIST) == ABI3
    assert chosen_from_uv_log(log, "abitest_sysconfig_c_api") == ABI3  # names compare normalized
    assert chosen_from_uv_log(log, "other") == ""


def test_uv_log_last_selection_wins() -> None:
    log = (
        f"DEBUG Selecting: {DIST}==1.0.0 [compatible] ({CP39})\nDEBUG Selecting: {DIST}==1.0.0 [compatible] ({ABI3})\n"
    )
    assert chosen_from_uv_log(log, DIST) == ABI3


# -- packaging's order ----------------------------------------------------------------------------


def _fits(position: int | None) -> int:
    assert position is not None, "expected the candidate to fit"
    return position


def test_gil_315_ranks_abi3_and_compressed_equal(cp315: Interpreter) -> None:
    """On a GIL 3.15 the compressed wheel fits through its cp315-abi3 tag: a tie with the plain abi3 wheel."""
    ranks = {f: rank(cp315.supported_tags, Candidate(f, "x")) for f in (ABI3, COMPRESSED, ABI3T, CP39, CP315)}
    assert ranks[ABI3] == ranks[COMPRESSED]
    assert ranks[ABI3T] is None
    assert _fits(ranks[CP315]) < _fits(ranks[ABI3]) < _fits(ranks[CP39])


def test_free_threaded_315_ranks_abi3t_and_compressed_equal(cp315t: Interpreter) -> None:
    ranks = {f: rank(cp315t.supported_tags, Candidate(f, "x")) for f in (ABI3, COMPRESSED, ABI3T, CP315T, CP315)}
    assert ranks[ABI3] is None
    assert ranks[CP315] is None
    assert ranks[ABI3T] == ranks[COMPRESSED]
    assert _fits(ranks[CP315T]) < _fits(ranks[ABI3T])


def test_facts_best_reports_every_tied_file() -> None:
    facts = Facts("cp315", "", False, "packaging", ((ABI3, 40), (COMPRESSED, 40), (CP39, 80), (ABI3T, None)))
    assert facts.best([ABI3, COMPRESSED, CP39, ABI3T]) == (ABI3, COMPRESSED)
    assert facts.best([CP39, ABI3T]) == (CP39,)
    assert facts.best([ABI3T]) == ()
    assert facts.fitting([CP39, COMPRESSED, ABI3, ABI3T]) == (ABI3, COMPRESSED, CP39)


# -- listing orders -------------------------------------------------------------------------------


def test_listing_orders_are_fixed_by_the_seed() -> None:
    files = [CP39, ABI3, COMPRESSED, ABI3T, CP315]
    assert listing(files, Order.SORTED, 1) == tuple(sorted(files))
    assert listing(files, Order.REVERSED, 1) == tuple(sorted(files, reverse=True))
    assert listing(files, Order.SHUFFLED, 803) == listing(list(reversed(files)), Order.SHUFFLED, 803)
    assert sorted(listing(files, Order.SHUFFLED, 803)) == sorted(files)
    shuffles = {listing(files, Order.SHUFFLED, seed) for seed in range(20)}
    assert len(shuffles) > 1


def test_tie_position() -> None:
    tied = [ABI3, COMPRESSED]
    a = Answer(
        "cp315", WheelSet.STABLE, Installer.PIP, Source.INDEX, Order.SORTED, (CP39, ABI3, COMPRESSED), COMPRESSED
    )
    assert tie_position(a, tied) == "last listed"
    assert tie_position(a, [CP39]) == ""


# -- the judgement, on a real recorded run --------------------------------------------------------


def test_recorded_gil_315_tie_pip_follows_the_listing_uv_does_not() -> None:
    rows = {(r.interpreter, r.wheel_set): r for r in recorded_result().rows}
    row = rows[("cp315", WheelSet.STABLE)]
    assert row.tie
    assert {short_tag(f) for f in row.best} == {"cp315-abi3", "cp315-abi3.abi3t"}
    cells = {(c.installer, c.source): c for c in row.cells}
    for source in (Source.INDEX, Source.PAGE):
        pip, uv = cells[(Installer.PIP, source)], cells[(Installer.UV, source)]
        assert pip.order_dependent
        assert pip.tie_pick == "last listed"
        assert not uv.order_dependent
        assert uv.tie_pick == "not by listing position"
        assert pip.installers_differ
        assert uv.installers_differ
        assert not pip.against_packaging
        assert not uv.against_packaging


def test_recorded_version_specific_wins_everywhere() -> None:
    for row in recorded_result().rows:
        if row.wheel_set is not WheelSet.ALL:
            continue
        assert not row.tie
        for cell in row.cells:
            assert cell.files == row.best, (row.interpreter, cell)
            assert not (cell.order_dependent)
            assert not (cell.against_packaging)
            assert not (cell.installers_differ)


def test_result_json_round_trips() -> None:
    result = recorded_result()
    again = Result.decode(json.dumps(result.to_json()).encode(), source="preference.json")
    assert again == result
    assert again.rows == result.rows


# -- the judgement's flags on hand-made answers ---------------------------------------------------


def _answers(installer: Installer, chosen: dict[Order, str], error: str = "") -> list[Answer]:
    shown = {Order.SORTED: (ABI3, COMPRESSED), Order.REVERSED: (COMPRESSED, ABI3), Order.SHUFFLED: (COMPRESSED, ABI3)}
    return [
        Answer("cp315", WheelSet.STABLE, installer, Source.INDEX, o, shown[o], f, "" if f else error)
        for o, f in chosen.items()
    ]


FACTS = Facts("cp315", "", False, "packaging", ((ABI3, 40), (COMPRESSED, 40), (CP39, 80)))
CANDIDATES = (Candidate(ABI3, "b"), Candidate(COMPRESSED, "b"), Candidate(CP39, "b"))


def test_flags_installer_against_packaging_and_failure() -> None:
    answers = _answers(Installer.PIP, {Order.SORTED: CP39, Order.REVERSED: CP39, Order.SHUFFLED: CP39})
    answers += _answers(Installer.UV, {Order.SORTED: "", Order.REVERSED: "", Order.SHUFFLED: ""}, error="boom")
    (row,) = judge([FACTS], CANDIDATES, answers)
    pip, uv = row.cells
    assert pip.installer is Installer.PIP
    assert pip.against_packaging
    assert not pip.order_dependent
    assert uv.against_packaging
    assert uv.errors == (
        (Order.SORTED, "boom"),
        (Order.REVERSED, "boom"),
        (Order.SHUFFLED, "boom"),
    )
    assert pip.installers_differ
    assert uv.installers_differ


def test_markdown_marks_order_dependence_and_names_retagged_copies() -> None:
    answers = _answers(Installer.PIP, {Order.SORTED: COMPRESSED, Order.REVERSED: ABI3, Order.SHUFFLED: ABI3})
    answers += _answers(Installer.UV, {Order.SORTED: ABI3, Order.REVERSED: ABI3, Order.SHUFFLED: ABI3})
    candidates = (*CANDIDATES[:2], Candidate(CP39, "b", retagged_from="x-1.0-cp312-abi3-linux_x86_64.whl"))
    result = Result("c", DIST, "1.0.0", 7, candidates, (FACTS,), tuple(answers))
    lines = markdown(result)
    text = "\n".join(lines)
    row = next(ln for ln in lines if ln.startswith("| cp315 |"))
    assert "`cp315-abi3` = `cp315-abi3.abi3t` (tie)" in row
    assert "s:`cp315-abi3.abi3t` r:`cp315-abi3` x:`cp315-abi3` (last listed) 🔀 ≠I" in row
    assert "`cp315-abi3` (not by listing position) ≠I" in row
    assert "retagged copy of x-1.0-cp312-abi3-linux_x86_64.whl" in text
    assert "Order-dependent choices: cp315 stable-abi-only pip index." in text
    assert "seed 7" in text


# -- retagging ------------------------------------------------------------------------------------


def _wheel(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("m.abi3.so", b"\x7fELF")
        zf.writestr(
            "m-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp312-abi3-linux_x86_64\n"
        )
        zf.writestr(
            "m-1.0.dist-info/RECORD",
            "m.abi3.so,sha256=x,4\nm-1.0.dist-info/WHEEL,sha256=old,1\nm-1.0.dist-info/RECORD,,\n",
        )
    return path


def test_retag_rewrites_tags_name_and_record(tmp_path: Path) -> None:
    src = _wheel(tmp_path / "m-1.0-cp312-abi3-linux_x86_64.whl")
    out = retag(src, "cp315-abi3.abi3t-linux_x86_64", tmp_path / "out")
    assert out.name == "m-1.0-cp315-abi3.abi3t-linux_x86_64.whl"
    assert wheel_file_tags(out) == ("cp315-abi3-linux_x86_64", "cp315-abi3t-linux_x86_64")
    with zipfile.ZipFile(out) as zf:
        record = zf.read("m-1.0.dist-info/RECORD").decode()
        assert zf.read("m.abi3.so") == b"\x7fELF"
    assert "sha256=old" not in record
    assert "m.abi3.so,sha256=x,4" in record
    assert retagged_name("m-1.0-2-cp312-abi3-linux_x86_64.whl", "cp39-abi3-any") == "m-1.0-2-cp39-abi3-any.whl"


def test_a_runs_preference_result_joins_its_report(tmp_path: Path) -> None:
    """The nightly writes `preference --output RUN/preference.json`; the run's report then carries the table."""
    (tmp_path / "preference.json").write_text((FIXTURES / "preference" / "result.json").read_text())
    lines = run_sections(tmp_path)
    assert "## Preference" in lines[1]
    (tmp_path / "preference.json").write_text("{}")
    with pytest.raises(DamagedResults, match=r"preference\.json: missing required field schema_version"):
        run_sections(tmp_path)
    data = json.loads((FIXTURES / "preference" / "result.json").read_text())
    data["answers"][0]["installer"] = "conda"
    (tmp_path / "preference.json").write_text(json.dumps(data))
    with pytest.raises(
        DamagedResults, match=r'preference\.json: answers\[0\]\.installer: expected one of uv, pip, got "conda"'
    ):
        run_sections(tmp_path)
    data["answers"][0]["installer"] = "uv"
    data["interpreters"][0]["ranks"] = {"x.whl": -1}
    (tmp_path / "preference.json").write_text(json.dumps(data))
    with pytest.raises(
        DamagedResults, match=r"preference\.json: interpreters\[0\]\.ranks\[\.\.\.\]: expected int >= 0"
    ):
        run_sections(tmp_path)


def test_changes_between_two_results_name_each_choice() -> None:
    old = recorded_result()
    assert changes(old, old) == []
    row = next(r for r in old.rows if r.cells and r.cells[0].choices)
    cell = row.cells[0]
    order, chosen = cell.choices[0]
    swapped = next(c.filename for c in old.candidates if c.filename != chosen)
    answers = tuple(
        replace(a, chosen=swapped)
        if (a.interpreter, a.installer, a.source, a.order, a.wheel_set)
        == (row.interpreter, cell.installer, cell.source, order, row.wheel_set)
        else a
        for a in old.answers
    )
    lines = changes(old, replace(old, answers=answers))
    assert len(lines) == 1
    assert (
        f"{row.interpreter} {row.wheel_set.value} {cell.installer.value} {cell.source.value} {order.value}" in lines[0]
    )


def test_markdown_shows_a_hostile_result_escaped() -> None:
    """preference.json may come from another machine: its text reaches report.md without control sequences."""
    answers = _answers(Installer.PIP, {Order.SORTED: ABI3, Order.REVERSED: ABI3, Order.SHUFFLED: ABI3})
    result = Result("c\x1b[2J", DIST, "1.0\r", 7, CANDIDATES, (FACTS,), tuple(answers), notes=("n\u202e\x07",))
    text = "\n".join(markdown(result))
    assert not any(c in text for c in "\x1b\r\x07\u202e"), text
    assert "c\\x1b[2J" in text
