"""The nightly rehearsal on a tiny subset: 3 shard runs merged equal one unsharded run, no wheel built twice;
the next night carries the history forward."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from harness.reports import history
from harness.run.records import load

from .conftest import Harness

pytestmark = pytest.mark.integration


def test_three_shards_merge_to_the_unsharded_run(
    harness: Harness, interpreter_ids: list[str], host_matrix: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"  # fresh: every wheel is really built, so build_cached tells who built it
    subset = ["--matrix", str(host_matrix), "--case", "sysconfig/c-api", "--python", "cp312", "--python", "cp313"]
    subset += ["-j", "2", "--no-provision", "--cache-dir", str(cache)]
    out = harness("nightly", "--shards", "3", "--results", str(tmp_path / "nightly"), "--", *subset)
    assert out.returncode == 0, out.stdout + out.stderr
    merged = tmp_path / "nightly" / "nightly-latest"
    records, environment = load(merged)
    shards = environment.shards or ()
    assert [s.shard.index for s in shards if s.shard] == [1, 2, 3]
    assert all(s.cells for s in shards)  # 4 wheels over 3 shards: none idle

    # Each wheel in exactly one shard, built there (not taken from a cache another shard filled).
    builds = Counter(
        b for s in shards for b in json.loads((Path(s.dir) / "environment.json").read_text())["shard"]["builds"]
    )
    assert set(builds.values()) == {1}
    built = {f"{r.case}:{r.target}:{r.build_python}" for r in records if r.wheel}
    assert built == set(builds)
    assert all(r.build_cached is False for r in records if r.wheel)
    for name in ("report.md", "report.html", "junit.xml", "summary.md"):
        assert (merged / name).is_file()

    single = harness("run", "--results", str(tmp_path / "single"), *subset)
    assert single.returncode == 0, single.stderr
    unsharded, _ = load(tmp_path / "single" / "latest")
    assert sorted((r.cell, r.status) for r in records) == sorted((r.cell, r.status) for r in unsharded)
    diff = harness("diff", str(tmp_path / "single" / "latest"), str(merged))
    assert diff.returncode == 0
    assert "diff: no changes" in diff.stdout

    # The next night (one shard, the first night's merged run as its default baseline): the history
    # carried forward holds both nights, and `history` prints them.
    first_night = merged.resolve()  # nightly-latest is a link: it moves to tonight's merged run
    again = harness("nightly", "--shards", "1", "--results", str(tmp_path / "nightly"), "--", *subset)
    assert again.returncode == 0, again.stdout + again.stderr
    tonight = (tmp_path / "nightly" / "nightly-latest").resolve()
    assert tonight != first_night
    carried = history.required(tonight)
    assert [n.run_id for n in carried.nights] == [environment.run_id, load(tonight)[1].run_id]
    assert all(set(n.statuses) <= set(history.CODES.values()) for n in carried.nights)
    printed = harness("history", str(tonight))
    assert printed.returncode == 0
    assert printed.stdout.startswith("history: 2 nights")
    assert "id='history-plot'" in (tonight / "report.html").read_text()
