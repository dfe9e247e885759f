"""merge over shard runs cut from a recorded run: the union comes back cell for cell, and bad inputs are errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.__main__ import main
from harness.errors import ConfigError
from harness.run import manifest
from harness.run import records as results
from harness.run.manifest import ShardInfo
from harness.run.merge import merge
from harness.run.records import Record
from tests.conftest import FIXTURES

BASE = FIXTURES / "runs" / "base"


def wheel(r: Record) -> str:
    return f"{r.case}:{r.target}:{r.build_python}"


def shard_runs(tmp_path: Path, count: int = 2, drop: int | None = None) -> list[Path]:
    """The recorded run cut into *count* shard runs by wheel, as `run --shard K/N` writes them."""
    records, environment = results.load(BASE)
    keys = sorted({wheel(r) for r in records})
    dirs = []
    for k in range(1, count + 1):
        if k == drop:
            continue
        run_dir = tmp_path / f"shard-{k}"
        (run_dir / "logs" / "cells").mkdir(parents=True)
        mine = [r for r in records if keys.index(wheel(r)) % count == k - 1]
        results.write_sorted(run_dir / results.RESULTS_FILE, mine)
        for r in mine:
            (run_dir / "logs" / "cells" / f"{r.cell.replace('/', '_').replace(':', '_')}.log").write_text(r.cell)
        shard = ShardInfo(index=k, count=count, plan_digest="d1")
        manifest.write(run_dir, environment.with_changes(run_id=f"run-{k}", shard=shard))
        dirs.append(run_dir)
    return dirs


def test_merge_gives_back_the_run(tmp_path: Path) -> None:
    before, _ = results.load(BASE)
    merged, environment = merge(shard_runs(tmp_path, 3), tmp_path / "out")
    assert [(r.cell, r.status) for r in merged] == [(r.cell, r.status) for r in sorted(before, key=lambda r: r.cell)]
    assert results.load(tmp_path / "out")[0] == merged
    shards = environment.shards or ()
    assert [s.shard.index for s in shards if s.shard] == [1, 2, 3]
    assert sum(s.cells for s in shards) == len(before)
    assert len(list((tmp_path / "out" / "logs" / "cells").iterdir())) == len(before)


def test_missing_shard(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing shard 2/3"):
        merge(shard_runs(tmp_path, 3, drop=2), tmp_path / "out")


def test_duplicated_cells_name_both_files(tmp_path: Path) -> None:
    one, two = shard_runs(tmp_path, 2)
    extra = results.load(one)[0][0]
    with (two / results.RESULTS_FILE).open("a") as f:
        f.write(json.dumps(extra.to_json()) + "\n")
    with pytest.raises(ConfigError) as info:
        merge([one, two], tmp_path / "out")
    assert f"{two / results.RESULTS_FILE}: cell {extra.cell} also in {one / results.RESULTS_FILE}" in str(info.value)


def test_mixed_schema_versions_name_the_file(tmp_path: Path) -> None:
    one, two = shard_runs(tmp_path, 2)
    path = two / results.RESULTS_FILE
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({**line, "schema_version": 99}) + "\n" for line in lines))
    with pytest.raises(ConfigError, match=rf"{path}: schema_version 99"):
        merge([one, two], tmp_path / "out")


def test_not_a_shard_run_and_different_plans(tmp_path: Path) -> None:
    one, two = shard_runs(tmp_path, 2)
    env = json.loads((two / results.ENVIRONMENT_FILE).read_text())
    env["shard"]["plan_digest"] = "other"
    results.write_json(two / results.ENVIRONMENT_FILE, env)
    with pytest.raises(ConfigError, match="planned from different inputs"):
        merge([one, two], tmp_path / "out")
    del env["shard"]
    results.write_json(two / results.ENVIRONMENT_FILE, env)
    with pytest.raises(ConfigError, match=rf"{two / results.ENVIRONMENT_FILE}: no `shard` entry"):
        merge([one, two], tmp_path / "out")


def test_cli_exit_2_on_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dirs = shard_runs(tmp_path, 3, drop=1)
    assert main(["merge", *map(str, dirs), "--out", str(tmp_path / "out")]) == 2
    assert "missing shard 1/3" in capsys.readouterr().err
    assert main(["merge", *map(str, shard_runs(tmp_path / "ok", 2)), "--out", str(tmp_path / "out")]) == 0


def test_merged_run_can_be_rejudged_and_keeps_run_sections(tmp_path: Path) -> None:
    """Build interpreters' facts, the Surface section and the preference result survive the merge."""
    from harness.run.rejudge import rejudge  # noqa: PLC0415

    dirs = shard_runs(tmp_path, 2)
    (dirs[1] / "surface.md").write_text("## Surface\n")
    (dirs[0] / "preference.json").write_text((FIXTURES / "preference" / "result.json").read_text())
    merged, environment = merge(dirs, tmp_path / "out")
    _, base_env = results.load(BASE)
    assert environment.build_interpreter_facts == base_env.build_interpreter_facts
    assert (tmp_path / "out" / "surface.md").read_text() == "## Surface\n"
    assert (tmp_path / "out" / "preference.json").is_file()
    rejudged, changes = rejudge(merged, environment, (), ())
    assert len(rejudged) == len(merged)
    assert all(c.old in ("xfail", "xpass") or c.new in ("xfail", "xpass") for c in changes)  # known issues removed
