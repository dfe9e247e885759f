"""The one report writer: report.md, report.html, junit.xml and summary.md of a run directory.

`run` writes them as its cells finish, `report` and the nightly rewrite them from the recorded files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from harness.errors import ConfigError, HarnessError
from harness.reports import ci as report_ci
from harness.reports import diff as diffs
from harness.reports import files, history
from harness.reports import html as report_html
from harness.reports import markdown as report
from harness.run import records as results
from harness.run.manifest import RunManifest
from harness.run.records import Record
from harness.schema.history import History

FORMATS = ("md", "html", "junit", "summary")
OUTPUTS = {"md": "report.md", "html": "report.html", "junit": "junit.xml", "summary": "summary.md"}
Say = Callable[[str], None]


def check_formats(formats: Sequence[str]) -> None:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ConfigError(f"--format {','.join(unknown)}: unknown; choose from {','.join(FORMATS)}")


def check_outputs(run_dir: Path, formats: Sequence[str]) -> None:
    """Every report's place is free for a file before the first is written (a directory in the way is
    said at once, not after half the reports were rewritten)."""
    blocked = [run_dir / OUTPUTS[f] for f in formats if (run_dir / OUTPUTS[f]).is_dir()]
    blocked = [p for p in blocked if not p.is_symlink()]
    if blocked:
        raise HarnessError(f"{', '.join(map(str, blocked))}: a directory where a report goes; remove it")


def write(
    run_dir: Path,
    records: Sequence[Record],
    environment: RunManifest,
    formats: Sequence[str],
    sections: Sequence[str] = (),
    change: diffs.Diff | None = None,
    baseline_id: str = "baseline",
    say: Say | None = None,
    carried: History | None = None,
) -> None:
    """Each format's file in *run_dir*; with *change*, the diff against the baseline goes in too."""
    check_formats(formats)
    if "md" in formats:
        text = report.markdown(records, environment, sections)
        if change is not None:
            text += "\n" + diffs.markdown(change, baseline_id)
        files.write(run_dir, "report.md", text)
    if "html" in formats:
        page = report_html.html_report(records, environment, change, baseline_id, carried)
        files.write(run_dir, "report.html", page)
    if "junit" in formats:
        files.write(run_dir, "junit.xml", report_ci.junit(records, environment))
    if "summary" in formats:
        summary = report_ci.step_summary(records, environment, change)
        files.write(run_dir, "summary.md", summary)
        written = report_ci.append_step_summary(summary)
        if written and say is not None:
            say(f"step summary appended to {written}")


def rewrite(
    run_dir: Path,
    formats: Sequence[str],
    baseline: Path | None = None,
    say: Say = print,
    sections: Sequence[str] = (),
) -> diffs.Diff | None:
    """The reports of a recorded run, from its files, with the diff when a baseline is given."""
    check_formats(formats)
    check_outputs(run_dir, formats)
    records, environment = results.load(run_dir)
    change = None
    baseline_id = "baseline"
    if baseline is not None:
        before, before_env = results.load(baseline)
        change = diffs.diff(before, records)
        baseline_id = before_env.run_id or str(baseline)
    write(run_dir, records, environment, formats, sections, change, baseline_id, say, history.read(run_dir))
    say(f"reports ({', '.join(formats)}) in {run_dir}")
    return change
