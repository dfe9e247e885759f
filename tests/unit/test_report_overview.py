"""The overview's heatmap and produced grid, from a recorded run (tests/fixtures/runs)."""

from __future__ import annotations

import re

from harness.reports import overview
from harness.reports.html import html_report
from harness.run import records as results
from tests.conftest import FIXTURES


def test_a_square_per_case_target_and_interpreter_showing_its_worst_cell() -> None:
    records, _environment = results.load(FIXTURES / "runs" / "regressed")
    cells = sorted(records, key=lambda r: r.cell)
    found = overview.squares(records)
    assert set(found) == {(r.case, r.target, r.run_python) for r in records}
    for (case, target, run), square in found.items():
        group = [r for r in records if (r.case, r.target, r.run_python) == (case, target, run)]
        worst = cells[square.first]
        assert worst in group
        assert square.cells == len(group)
        assert all(
            overview.SEVERITY.index(square.status) <= overview.SEVERITY.index(overview.display_status(r)) for r in group
        )
        assert square.findings == any(r.findings for r in group)
    # The regressed run's failing builds show as fail even where another build interpreter's cell passed.
    failing = {(r.case, r.target, r.run_python) for r in records if r.status == "fail"}
    assert failing
    assert all(found[key].status == "fail" for key in failing)


def test_heatmap_links_every_square_to_its_cell() -> None:
    records, environment = results.load(FIXTURES / "runs" / "regressed")
    columns = [i.id for i in environment.interpreters]
    svg = overview.heatmap(records, columns, environment.target_names)
    links = [int(n) for n in re.findall(r"<a href='#cell-(\d+)'>", svg)]
    assert len(links) == len(overview.squares(records))
    assert sorted(links) == sorted(sq.first for sq in overview.squares(records).values())
    assert svg.count("class='h-fail'") == len({(r.case, r.target, r.run_python) for r in records if r.status == "fail"})
    assert svg.count("<circle class='find'") == len({(r.case, r.target, r.run_python) for r in records if r.findings})


def test_produced_grid_says_whether_tag_and_suffix_fit_the_target() -> None:
    records, environment = results.load(FIXTURES / "runs" / "regressed")
    built = overview.builds(records, environment)
    fine = built[("sysconfig/c-api", "abi3")]["cp39"]
    assert (fine.fit, fine.what, fine.problems) == ("fits", "cp39-abi3 .abi3.so", ())
    # Recorded: setuptools on 3.15 names an abi3 extension .abi3-<multiarch>.so, which 3.9 cannot import.
    wrong = built[("setuptools/c-api", "abi3")]["cp315"]
    assert wrong.fit == "misfit"
    assert wrong.what == "cp39-abi3 .abi3-x86_64-linux-gnu.so"
    assert "suffix .abi3-x86_64-linux-gnu.so does not fit abi3" in wrong.problems[0]
    assert ("setuptools/c-api", "abi3t") not in built  # not built for that target: nothing to show
    page = overview.produced_grid(records, environment, [i.id for i in environment.interpreters])
    assert page.count("<details>") == len(built)
    # Build-only interpreters (no column of their own) sort by name, after the columns.
    assert overview.produced_grid(records, environment, []).count("<details>") == len(built)
    assert page.count("class='sw p-misfit' title=") == sum(
        b.fit == "misfit" for bs in built.values() for b in bs.values()
    )


def test_overview_is_at_the_top_of_the_page() -> None:
    records, environment = results.load(FIXTURES / "runs" / "regressed")
    page = html_report(records, environment)
    assert page.index("id='overview'") < page.index("id='findings'") < page.index("id='grids'")
    assert "id='heatmap'" in page
    assert "id='produced'" in page
