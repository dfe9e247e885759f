"""Installer preference on real interpreters: the harness's own PEP 503 index, pip and uv resolving.

Kept small: the index source only, cp312 and cp313 from pyenv, plus GIL cp315 from the Debian
rootfs when it is provisioned (through bubblewrap, which shares the host's 127.0.0.1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.preference.judge import short_tag
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
    pythons = {f["id"] for f in result["interpreters"]}
    assert {"cp312", "cp313"} <= pythons
    wheel_sets, orders = ("all", "stable-abi-only"), ("sorted", "reversed", "shuffled")
    # One answer per interpreter, wheel set, installer and order (the index source only): none missing.
    asked = [(a["interpreter"], a["wheel_set"], a["installer"], a["source"], a["order"]) for a in result["answers"]]
    assert sorted(asked) == sorted(
        (p, w, i, "index", o) for p in pythons for w in wheel_sets for i in ("pip", "uv") for o in orders
    )
    for answer in result["answers"]:
        # A real answer: no error, and the chosen file is one of those the installer was shown.
        assert answer["error"] == "", answer
        assert answer["chosen"] in answer["listing"], answer
    assert {(r["interpreter"], r["wheel_set"]) for r in result["judgement"]} == {
        (p, w) for p in pythons for w in wheel_sets
    }


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
    tied = {"cp315-abi3", "cp315-abi3.abi3t"}
    row = rows[("cp315", "stable-abi-only")]
    assert row["tie"]
    assert set(row["packaging_first"]) == tied  # packaging ranks both tags of the tie first
    # What each installer did with the tie, read from every raw answer and the listing it saw (README,
    # "Measured on the reference machine"): pip takes the last listed of the two, uv cp315-abi3 always.
    answers = [a for a in result["answers"] if a["interpreter"] == "cp315" and a["wheel_set"] == "stable-abi-only"]
    assert {a["installer"] for a in answers} == {"pip", "uv"}
    for answer in answers:
        shown = [short_tag(f) for f in answer["listing"] if short_tag(f) in tied]
        assert len(shown) == 2, answer
        wanted = shown[-1] if answer["installer"] == "pip" else "cp315-abi3"
        assert short_tag(answer["chosen"]) == wanted, answer
    assert {c["installer"]: c["tie_pick"] for c in row["cells"]} == {
        "pip": "last listed",
        "uv": "not by listing position",
    }
