"""JUnit XML and the step summary, from recorded runs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from harness.model import Status
from harness.reports.ci import append_step_summary, junit, missing_free_threaded, step_summary
from harness.reports.diff import diff
from harness.run import records as results
from tests.conftest import FIXTURES


def test_junit_one_testcase_per_cell() -> None:
    records, environment = results.load(FIXTURES / "runs" / "regressed")
    root = ET.fromstring(junit(records, environment))
    cases = root.findall("./testsuite/testcase")
    assert sorted(f"{c.get('classname')}:{c.get('name', '').replace('/', ':')}" for c in cases) == sorted(
        r.cell for r in records
    )
    counts = Counter(r.status for r in records)
    assert len(root.findall(".//failure")) == sum(n for s, n in counts.items() if Status(s).is_problem) == 6
    assert len(root.findall(".//skipped")) == counts[Status.SKIP] == 6
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == (str(len(records)), "6", "6")


def test_junit_xfail_passes_with_a_property() -> None:
    records, environment = results.load(FIXTURES / "runs" / "base")
    root = ET.fromstring(junit(records, environment))
    xfails = [c for c in root.iter("testcase") if c.find("properties/property[@name='xfail']") is not None]
    assert len(xfails) == sum(r.status == "xfail" for r in records) == 6
    assert all(c.find("failure") is None and c.find("skipped") is None for c in xfails)
    assert {p.get("value") for c in xfails for p in c.iter("property") if p.get("name") == "xfail"} == {
        "https://github.com/python/cpython/issues/122931"
    }


def test_step_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base, _ = results.load(FIXTURES / "runs" / "base")
    records, environment = results.load(FIXTURES / "runs" / "regressed")
    summary = step_summary(records, environment, diff(base, records))
    assert "54 cells: 42 pass, 6 fail, 6 skip." in summary
    assert "**Regressions (6)**" in summary
    assert "`setuptools/c-api:abi3:cp315:cp313`: xfail -> fail" in summary
    assert "Missing free-threaded columns: 3.13t, 3.15t" in summary
    assert missing_free_threaded(environment) == ["3.13t", "3.15t"]

    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert append_step_summary(summary) is None
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    assert append_step_summary(summary) == target
    assert target.read_text() == "earlier step\n" + summary + "\n"
