"""The HTML page's static parts and its embedded data, from recorded runs (the browser test draws it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from msgspec.structs import replace

from harness.__main__ import main
from harness.errors import ConfigError
from harness.reports.diff import diff
from harness.reports.html import decode_data, html_report
from harness.reports.write import rewrite
from harness.run import records as results
from tests.conftest import FIXTURES


def blob(page: str) -> dict[str, object]:
    return decode_data(page)


def test_every_cell_embedded_and_self_contained() -> None:
    records, environment = results.load(FIXTURES / "runs" / "base")
    page = html_report(records, environment)
    cells = blob(page)["cells"]
    assert isinstance(cells, list)
    assert [c["cell"] for c in cells] == sorted(r.cell for r in records)
    # Nothing fetched to view it (links to upstream issues are fine: they are only followed on a click).
    assert not re.search(r"src=|<link|@import|url\(", page.split("<script type=")[0])
    assert "What each backend produced" in page
    assert "id='diff'" not in page


def test_script_end_inside_data_is_escaped() -> None:
    records, environment = results.load(FIXTURES / "runs" / "base")
    evil = replace(records[0], reason="</script><script>alert(1)</script>")
    page = html_report([evil, *records[1:]], environment)
    cells = blob(page)["cells"]
    assert isinstance(cells, list)
    assert cells[0]["reason"] == evil.reason


def test_diff_section_when_a_baseline_is_given() -> None:
    base, _ = results.load(FIXTURES / "runs" / "base")
    records, environment = results.load(FIXTURES / "runs" / "regressed")
    page = html_report(records, environment, diff(base, records), "base-run")
    assert "Changes since base-run" in page
    assert "<code>setuptools/c-api:abi3:cp315:cp313</code>: xfail -&gt; fail" in page


def test_report_command_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    run.mkdir()
    for name in (results.RESULTS_FILE, results.ENVIRONMENT_FILE):
        (run / name).write_text((FIXTURES / "runs" / "regressed" / name).read_text())
    base = str(FIXTURES / "runs" / "base")
    assert main(["report", str(run), "--format", "md,html,junit,summary", "--baseline", base]) == 0
    assert {p.name for p in run.iterdir()} >= {"report.md", "report.html", "junit.xml", "summary.md"}
    assert "Changes since" in (run / "report.md").read_text()
    assert "6 regressions" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="--format pdf: unknown"):
        rewrite(run, ["pdf"])
