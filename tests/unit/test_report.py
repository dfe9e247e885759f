"""The Markdown report and the terminal summary, drawn from real runs' records (tests/fixtures/runs: one
run, and the same run with the known issue removed; tests/fixtures/free-threaded-3.14 and
interpreters/cp314t.json: a real free-threaded 3.14, copied from ../shared/recorded/free-threaded-3.14)."""

from __future__ import annotations

from msgspec.structs import replace

from harness.config.matrix import load_matrix
from harness.interpreters import providers
from harness.model import KnownIssue, Status, TargetKind
from harness.reports.markdown import installer_disagreements, markdown, terminal_summary
from harness.run.manifest import InterpreterEntry, RunManifest, TargetEntry
from harness.run.records import Record, decode_record, load
from harness.run.rejudge import rejudge
from tests.conftest import FIXTURES, REPO, recorded

RUNS = FIXTURES / "runs"
FREE_THREADED = FIXTURES / "free-threaded-3.14"


def run(name: str) -> tuple[list[Record], RunManifest]:
    return load(RUNS / name)


def by_cell(records: list[Record]) -> dict[str, Record]:
    return {r.cell: r for r in records}


def test_grid_rows_columns_and_symbols() -> None:
    records, environment = run("base")
    text = markdown(records, environment)
    assert "| target | wheel tag | built on | cp312 | cp313 | cp315 |" in text
    # A version-specific wheel installs on its own interpreter only; the others refuse it, and the
    # binary loaded anyway worked on the newer ones (✳️ beside the 🚫: a finding, not a problem).
    assert "| version-specific | `cp312-cp312-linux_x86_64` | cp312 | ✅ | 🚫✳️ | 🚫✳️ |" in text
    assert "| version-specific | `cp315-cp315-linux_x86_64` | cp315 | 🚫 | 🚫 | ✅ |" in text
    # The abi3 wheel built by 3.15 is the known issue (gh-122931) on every column.
    assert "| abi3 | `cp39-abi3-linux_x86_64` | cp315 | ⚠️ | ⚠️ | ⚠️ |" in text
    assert "## Problems (0)" in text
    assert "## Known issues (6 cells)" in text


def test_problems_are_listed_with_status_stage_and_reason() -> None:
    records, environment = run("regressed")  # the same run judged without the known issue
    text = markdown(records, environment)
    assert "| abi3 | `cp39-abi3-linux_x86_64` | cp315 | ❌ | ❌ | ❌ |" in text
    failed = sorted(r.cell for r in records if r.status == Status.FAIL.value)
    assert len(failed) == 6
    assert f"## Problems ({len(failed)})" in text
    cell = by_cell(records)["setuptools/c-api:abi3:cp315:cp312"]
    assert f"- `{cell.cell}` **fail** at import: {cell.reason} ([log]({cell.log}))" in text


def test_free_threading_absence_is_said() -> None:
    records, environment = run("base")
    assert "No free-threaded interpreter found: abi3t rows untested on free-threading" in markdown(records, environment)
    threaded = environment.with_changes(
        interpreters=(*environment.interpreters, InterpreterEntry.of(recorded("cp314t")))
    )
    assert "No free-threaded interpreter found" not in markdown(records, threaded)


def test_skips_grouped_with_reason() -> None:
    records, environment = run("base")
    text = markdown(records, environment)
    skipped = [r for r in records if r.cell.startswith("setuptools/c-api:abi3t:")]
    assert {r.status for r in skipped} == {Status.SKIP.value}
    reason = skipped[0].reason
    assert f"- {reason} (3 cells: `setuptools/c-api:abi3t:-:cp312`" in text
    assert "| abi3t | no wheel | - | ⏭️ | ⏭️ | ⏭️ |" in text


def test_terminal_summary_lists_problems() -> None:
    records, environment = run("regressed")
    text = terminal_summary(records, environment, "results/r1")
    assert text.splitlines()[0] == "54 cells: 42 pass, 6 fail, 6 skip"
    assert "problems (6):" in text
    assert "fail    setuptools/c-api:abi3:cp315:cp313: import failed: ModuleNotFoundError" in text


def test_terminal_summary_lists_an_xpass_with_its_known_issue() -> None:
    """A known issue over cells that pass: judged again from the recorded observations, they are xpass."""
    records, environment = run("base")
    fixed = KnownIssue(
        index=0,
        case=("sysconfig/c-api",),
        target=("abi3",),
        build_python=("cp39",),
        run_python=("cp313",),
        status=Status.FAIL,
        link="https://example.org/issue/1",
        note="",
    )
    known = load_matrix(REPO / "matrix.toml", providers.names()).known_issues
    judged, changes = rejudge(records, environment, [], [*known, fixed])
    assert [(c.cell, c.old, c.new) for c in changes] == [("sysconfig/c-api:abi3:cp39:cp313", "pass", "xpass")]
    text = terminal_summary(judged, environment, "results/r1")
    assert "1 xpass" in text.splitlines()[0]
    assert "remove from matrix.toml?): https://example.org/issue/1" in text


def test_free_threaded_records_in_the_grid() -> None:
    """Real cp314t records: its own wheels pass (the threads stage), GIL wheels are refused there."""
    path = FREE_THREADED / "records.jsonl"
    lines = path.read_bytes().splitlines()
    records = [decode_record(line, source=path, number=n) for n, line in enumerate(lines, 1)]
    environment = RunManifest(
        run_id="cp314t",
        interpreters=(InterpreterEntry.of(recorded("cp314t")),),
        targets=(TargetEntry(name="version-specific", kind=TargetKind.VERSION_SPECIFIC),),
    )
    text = markdown(records, environment)
    assert "| version-specific | `cp314-cp314t-linux_x86_64` | cp314t | ✅ |" in text
    assert "| version-specific | `cp314-cp314-linux_x86_64` | cp314 | 🚫 |" in text
    assert "No free-threaded interpreter found" not in text


def test_installer_disagreements_listed() -> None:
    """Two real answers for one cell: uv refusing a cp312 wheel on cp313 (its own cell) and uv accepting
    it on cp312, given as pip's; the report must show the split, and no split in the run itself."""
    records, environment = run("base")
    assert installer_disagreements(records) == []
    cells = by_cell(records)
    refused = cells["setuptools/c-api:version-specific:cp312:cp313"]
    accepted = cells["setuptools/c-api:version-specific:cp312:cp312"]
    assert refused.observed is not None
    assert accepted.observed is not None
    (uv,) = refused.observed.installers
    (other,) = accepted.observed.installers
    observed = replace(refused.observed, installers=(uv, replace(other, name="pip")))
    split = replace(refused, observed=observed)
    text = markdown([split, accepted], environment)
    assert "## Installer disagreements (1)" in text
    assert f"- `{split.cell}`: uv refuses, pip accepts" in text
    assert "installer disagreements (1):" in terminal_summary([split, accepted], environment, "r")


def test_produced_table_shows_tag_and_suffix_per_build() -> None:
    records, environment = run("base")
    text = markdown(records, environment)
    # 3.15 names abi3 extensions .abi3-<multiarch>.so; older builds .abi3.so (the gh-122931 known issue).
    assert (
        "| setuptools/c-api | cp315: `cp39-abi3` .abi3-x86_64-linux-gnu.so<br>cp39: `cp39-abi3` .abi3.so "
        "| cp312: `cp312-abi3` .abi3.so<br>cp315: `cp312-abi3` .abi3-x86_64-linux-gnu.so | not built | not built |"
    ) in text
