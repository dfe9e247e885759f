"""Installer preference on real interpreters: the harness's own PEP 503 index, pip and uv resolving.

Kept small: the index source only, cp312 and cp313 from pyenv, plus GIL cp315 from the Debian
rootfs when it is provisioned (through bubblewrap, which shares the host's 127.0.0.1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Harness

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def result(harness: Harness, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = harness("interpreters", "--json")
    assert out.returncode == 0, out.stderr
    ids = {i["id"] for i in json.loads(out.stdout)["interpreters"]}
    missing = {"cp312", "cp313"} - ids
    if missing:
        pytest.skip(f"the preference test needs CPython {', '.join(sorted(missing))} (found {', '.join(sorted(ids))})")
    pythons = ["cp312", "cp313"] + (["cp315"] if "cp315" in ids else [])
    path = tmp_path_factory.mktemp("preference") / "preference.json"
    argv = ["preference", "--cache-dir", str(cache_dir), "--source", "index", "--output", str(path)]
    out = harness(*argv, *(f"--python={p}" for p in pythons))
    assert out.returncode == 0, out.stderr
    assert "## Preference" in out.stdout
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _rows(result: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["interpreter"], r["wheel_set"]): r for r in result["judgement"]}


def test_both_installers_answer_every_order(result: dict[str, Any]) -> None:
    for row in result["judgement"]:
        assert {(c["installer"], c["source"]) for c in row["cells"]} == {("pip", "index"), ("uv", "index")}
        for cell in row["cells"]:
            assert set(cell["chosen"]) == {"sorted", "reversed", "shuffled"}
            assert all(cell["chosen"].values()), (row["interpreter"], cell)


@pytest.mark.parametrize("interp", ["cp312", "cp313"])
def test_version_specific_first_then_newest_fitting_abi3(result: dict[str, Any], interp: str) -> None:
    rows = _rows(result)
    version_tag = f"{interp}-{interp}"
    for cell in rows[(interp, "all")]["cells"]:
        assert set(cell["chosen"].values()) == {version_tag}
    for cell in rows[(interp, "stable-abi-only")]["cells"]:
        assert set(cell["chosen"].values()) == {"cp312-abi3"}  # cp315-abi3 does not fit; cp312 beats cp39
        assert not cell["against_packaging"]


def test_gil_315_reports_the_abi3_tie(result: dict[str, Any]) -> None:
    rows = _rows(result)
    if ("cp315", "stable-abi-only") not in rows:
        pytest.skip("no GIL CPython 3.15: run `python -m harness provision debian`")
    row = rows[("cp315", "stable-abi-only")]
    assert row["tie"]
    assert set(row["packaging_first"]) == {"cp315-abi3", "cp315-abi3.abi3t"}
    for cell in row["cells"]:
        assert set(cell["chosen"].values()) <= {"cp315-abi3", "cp315-abi3.abi3t"}
        assert cell["order_dependent"] == (len(set(cell["chosen"].values())) > 1)
