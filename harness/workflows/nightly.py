"""The nightly's steps: shard runs, merge, diff with the previous nightly, reports; CI and the rehearsal share them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import ConfigError, HarnessError
from harness.reports import ci as report_ci
from harness.reports import diff as diffs
from harness.reports import escape, files, history
from harness.reports import html as report_html
from harness.reports import markdown as report
from harness.run import merge
from harness.run import records as results
from harness.run.manifest import RunManifest

LATEST = "nightly-latest"
FORMATS = ("md", "html", "junit", "summary")
Say = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    merged: Path
    change: diffs.Diff | None

    @property
    def exit_code(self) -> int:
        return 1 if self.change is not None and self.change.regressions else 0


OUTPUTS = {"md": "report.md", "html": "report.html", "junit": "junit.xml", "summary": "summary.md"}


def check_outputs(run_dir: Path, formats: Sequence[str]) -> None:
    """Every report's place is free for a file before the first is written (a directory in the way is
    said at once, not after half the reports were rewritten)."""
    blocked = [run_dir / OUTPUTS[f] for f in formats if (run_dir / OUTPUTS[f]).is_dir()]
    blocked = [p for p in blocked if not p.is_symlink()]
    if blocked:
        raise HarnessError(f"{', '.join(map(str, blocked))}: a directory where a report goes; remove it")


def write_reports(
    run_dir: Path,
    formats: Sequence[str],
    baseline: Path | None = None,
    say: Say = print,
    sections: Sequence[str] = (),
) -> diffs.Diff | None:
    """report.md / report.html / junit.xml / summary.md in *run_dir*, with the diff when a baseline is given."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ConfigError(f"--format {','.join(unknown)}: unknown; choose from {','.join(FORMATS)}")
    check_outputs(run_dir, formats)
    records, environment = results.load(run_dir)
    change = None
    baseline_id = "baseline"
    if baseline is not None:
        before, before_env = results.load(baseline)
        change = diffs.diff(before, records)
        baseline_id = before_env.run_id or str(baseline)
    if "md" in formats:
        text = report.markdown(records, environment, sections)
        if change is not None:
            text += "\n" + diffs.markdown(change, baseline_id)
        files.write(run_dir, "report.md", text)
    if "html" in formats:
        page = report_html.html_report(records, environment, change, baseline_id, history.read(run_dir))
        files.write(run_dir, "report.html", page)
    if "junit" in formats:
        files.write(run_dir, "junit.xml", report_ci.junit(records, environment))
    if "summary" in formats:
        summary = report_ci.step_summary(records, environment, change)
        files.write(run_dir, "summary.md", summary)
        written = report_ci.append_step_summary(summary)
        if written:
            say(f"step summary appended to {written}")
    say(f"reports ({', '.join(formats)}) in {run_dir}")
    return change


def preference_changes(baseline: Path, new: Path) -> list[str]:
    """What pip and uv chose differently since the baseline, where both runs carry a preference.json."""
    from harness.preference import judge as preference  # noqa: PLC0415

    old_file, new_file = baseline / report.PREFERENCE_FILE, new / report.PREFERENCE_FILE
    if not (old_file.is_file() and new_file.is_file()):
        return []
    old, now = preference.Result.read(old_file), preference.Result.read(new_file)
    changed = preference.changes(old, now)
    return [f"installer preference: {len(changed)} choices changed since the baseline", *changed] if changed else []


def carry_history(
    out: Path,
    baseline: Path | None,
    records: Sequence[results.Record],
    environment: RunManifest,
    installer_changes: Sequence[str],
    say: Say = print,
) -> None:
    """history.json in *out*: the baseline's history with tonight appended. A baseline without one (the
    first nightly, or one from before history.json existed) becomes the first night from its records."""
    previous, new_xpasses = None, None
    if baseline is not None:
        before, before_env = results.load(baseline)
        previous = history.read(baseline)
        if previous is None:
            previous = history.extend(None, *history.night(before, before_env))
        new_xpasses = [c.cell for c in diffs.diff(before, records).new_xpasses]
    entry, codes = history.night(records, environment, new_xpasses, installer_changes)
    carried = history.extend(previous, entry, codes)
    say(f"history: {len(carried.nights)} nights in {history.write(out, carried)}")


def resolve_baseline(results_dir: Path, baseline: Path | None) -> Path | None:
    """The given baseline, else the previous rehearsal's merged run (results/nightly-latest), else none."""
    if baseline is not None:
        if not (baseline / results.RESULTS_FILE).is_file():
            raise ConfigError(f"--baseline {baseline}: no {results.RESULTS_FILE} there; give a run directory")
        return baseline.resolve()
    latest = results_dir / LATEST
    return latest.resolve() if (latest / results.RESULTS_FILE).is_file() else None


def finish(shard_dirs: Sequence[Path], out: Path, baseline: Path | None, say: Say = print) -> Outcome:
    """The merge job: merge the shard runs into *out*, diff against *baseline*, write every report."""
    records, environment = merge.merge(shard_dirs, out)
    say(f"merged {len(shard_dirs)} shards into {out}: {report.totals(records)}")
    installer_changes = preference_changes(baseline, out) if baseline is not None else []
    carry_history(out, baseline, records, environment, installer_changes, say)
    change = write_reports(out, FORMATS, baseline, say, report.run_sections(out))
    for line in installer_changes:
        say(escape.text(line))
    if change is not None:
        say(escape.text(diffs.text(change), newlines=True))
    else:
        say("no baseline: nothing to diff against (the first nightly)")
    return Outcome(out, change)


def rehearse(
    count: int,
    results_dir: Path,
    baseline: Path | None,
    run_args: Sequence[str],
    run: Callable[[list[str]], int],
    say: Say = print,
    preference: bool = False,
) -> Outcome:
    """The workflow on one machine: N shard runs one after another (each as `nox -s matrix -- --shard K/N`
    runs it), then the merge job's `finish`. results/nightly-latest then points at the merged run, unless it
    has regressions."""
    if count < 1:
        raise ConfigError(f"--shards {count}: at least 1")
    previous = resolve_baseline(results_dir, baseline)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = results_dir / f"nightly-{stamp}"
    shard_dirs = []
    for k in range(1, count + 1):
        shard_results = base / f"shard-{k}"
        say(f"== shard {k}/{count}")
        code = run(["run", "--shard", f"{k}/{count}", "--results", str(shard_results), *run_args])
        if code not in (0, 1):  # 1: problem cells, which the diff judges; anything else stops here
            raise ConfigError(f"shard {k}/{count} run failed (exit {code}); see its output above")
        shard_dirs.append((shard_results / "latest").resolve())
        if preference and k == 1:  # the workflow's shard 1 step
            say("== installer preference (into shard 1)")
            if run(["preference", "--output", str(shard_dirs[0] / report.PREFERENCE_FILE)]) != 0:
                raise ConfigError("the preference experiment failed; see its output above")
    outcome = finish(shard_dirs, base / "merged", previous, say)
    if outcome.exit_code:
        # As in CI, where the baseline is the last nightly that succeeded: regressions stay visible
        # until they are fixed (or accepted by rerunning with --baseline this run).
        say(f"regressions: {results_dir / LATEST} stays at the previous baseline")
        return outcome
    link = results_dir / LATEST
    if results.point_link(link, Path(base.name) / "merged"):
        say(f"{link} -> {base.name}/merged; HTML: {base / 'merged' / 'report.html'}")
    return outcome
