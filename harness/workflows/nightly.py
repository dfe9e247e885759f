"""The nightly's steps: shard runs, merge, diff with the previous nightly, reports; CI and the rehearsal share them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import ConfigError
from harness.infra import escape
from harness.reports import diff as diffs
from harness.reports import history
from harness.reports import markdown as report
from harness.reports import write as report_files
from harness.run import merge
from harness.run import records as results
from harness.run.manifest import RunManifest

LATEST = "nightly-latest"
Say = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    merged: Path
    change: diffs.Diff | None

    @property
    def exit_code(self) -> int:
        return 1 if self.change is not None and self.change.regressions else 0


def preference_changes(baseline: Path, new: Path) -> list[str]:
    """What pip and uv chose differently since the baseline, where both runs carry a preference.json."""
    from harness.preference import judge as preference  # noqa: PLC0415

    old_file, new_file = baseline / results.PREFERENCE_FILE, new / results.PREFERENCE_FILE
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
    change = report_files.rewrite(out, report_files.FORMATS, baseline, say, report.run_sections(out))
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
    run_shard: Callable[[str, Path], int],
    preference: Callable[[Path], int] | None = None,
    say: Say = print,
) -> Outcome:
    """The workflow on one machine: N shard runs one after another (each as `nox -s matrix -- --shard K/N`
    runs it), then the merge job's `finish`. results/nightly-latest then points at the merged run, unless it
    has regressions. *run_shard* runs shard "K/N" into a results directory, *preference* writes the
    installer preference result to a path; each returns the command's exit code."""
    if count < 1:
        raise ConfigError(f"--shards {count}: at least 1")
    previous = resolve_baseline(results_dir, baseline)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = results_dir / f"nightly-{stamp}"
    shard_dirs = []
    for k in range(1, count + 1):
        shard_results = base / f"shard-{k}"
        say(f"== shard {k}/{count}")
        code = run_shard(f"{k}/{count}", shard_results)
        if code not in (0, 1):  # 1: problem cells, which the diff judges; anything else stops here
            raise ConfigError(f"shard {k}/{count} run failed (exit {code}); see its output above")
        shard_dirs.append((shard_results / "latest").resolve())
        if preference is not None and k == 1:  # the workflow's shard 1 step
            say("== installer preference (into shard 1)")
            if preference(shard_dirs[0] / results.PREFERENCE_FILE) != 0:
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
