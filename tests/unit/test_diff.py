"""diff over two recorded runs: base, and the same inputs with the gh-122931 known issue removed."""

from __future__ import annotations

import json

import pytest

from harness.__main__ import main
from harness.model import Status
from harness.reports.diff import diff, exception_classes, markdown, text
from harness.run import records as results
from harness.run.records import Record
from tests.conftest import FIXTURES
from tests.unit.structs import replace

BASE = FIXTURES / "runs" / "base"
REGRESSED = FIXTURES / "runs" / "regressed"
# The cells the removed [[known_issue]] covered: setuptools' abi3 wheels built by 3.15.
BROKEN = sorted(f"setuptools/c-api:{t}:cp315:{r}" for t in ("abi3", "abi3-312") for r in ("cp312", "cp313", "cp315"))


@pytest.fixture(scope="module")
def base() -> list[Record]:
    return results.load(BASE)[0]


@pytest.fixture(scope="module")
def regressed() -> list[Record]:
    return results.load(REGRESSED)[0]


def test_removed_known_issue_is_exactly_those_regressions(base: list[Record], regressed: list[Record]) -> None:
    d = diff(base, regressed)
    assert [c.cell for c in d.regressions] == BROKEN
    assert {(c.before, c.after) for c in d.regressions} == {("xfail", "fail")}
    assert diff(base, regressed).clean is False
    assert not any(getattr(d, f) for f in d.__dataclass_fields__ if f != "regressions")
    assert "Regressions" in text(d)
    assert all(f"`{cell}`" in markdown(d) for cell in BROKEN)


def test_unchanged_rerun_is_clean(base: list[Record]) -> None:
    assert diff(base, base).clean
    assert "no changes" in text(diff(base, base))


def test_the_other_way_round_is_fixes(base: list[Record], regressed: list[Record]) -> None:
    d = diff(regressed, base)
    assert [c.cell for c in d.fixes] == BROKEN
    assert not d.regressions


def test_added_removed_and_new_xpass(base: list[Record]) -> None:
    dropped, *rest = base
    xfail = next(r for r in rest if r.status == "xfail")
    new = [replace(r, status=Status.XPASS) if r is xfail else r for r in rest]
    d = diff(base, new)
    assert [c.cell for c in d.removed] == [dropped.cell]
    assert [c.cell for c in d.new_xpasses] == [xfail.cell]
    assert not d.regressions
    d = diff(rest, base)
    assert [c.cell for c in d.added] == [dropped.cell]


def test_reason_change_means_another_exception_class(base: list[Record]) -> None:
    refused = next(r for r in base if "ModuleNotFoundError" in r.reason)
    assert exception_classes(refused) == ("ModuleNotFoundError",)
    reworded = replace(refused, reason=refused.reason + " (worded differently)")
    other = replace(refused, reason=refused.reason.replace("ModuleNotFoundError", "ImportError"))
    assert diff([refused], [reworded]).clean
    d = diff([refused], [other])
    assert [c.cell for c in d.reason_changes] == [refused.cell]
    assert "was ModuleNotFoundError" in text(d)


def test_observations_count_for_the_exception_class(base: list[Record]) -> None:
    """A load observed raising another class counts, though no reason mentions it."""
    r = next(x for x in base if x.observed and any(load.exception_type for load in x.observed.loads))
    assert r.observed is not None
    loads = tuple(
        replace(load, exception_type="SystemError") if load.exception_type else load for load in r.observed.loads
    )
    changed = replace(r, observed=replace(r.observed, loads=loads))
    assert "SystemError" in exception_classes(changed)
    assert "SystemError" not in exception_classes(r)
    assert [c.cell for c in diff([r], [changed]).reason_changes] == [r.cell]


def test_changed_tags_or_suffixes(base: list[Record]) -> None:
    key = "sysconfig/c-api:abi3:cp39"
    new = [replace(r, ext_files=("m.cpython-39-x86_64-linux-gnu.so",)) if r.cell.startswith(key) else r for r in base]
    d = diff(base, new)
    assert [b.key for b in d.produced] == [key]
    assert ".abi3.so" in d.produced[0].before
    assert ".cpython-39-x86_64-linux-gnu.so" in d.produced[0].after


def test_cli_exit_codes_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(BASE), str(REGRESSED)]) == 1
    assert "6 regressions" in capsys.readouterr().out
    assert main(["diff", str(BASE), str(BASE)]) == 0
    capsys.readouterr()
    assert main(["diff", str(BASE), str(REGRESSED), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [c["cell"] for c in data["regressions"]] == BROKEN
