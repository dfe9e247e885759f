"""`gate` on real interpreters: its cells run through the run pipeline, the surfaces are measured, one verdict.

3.10's headers give `Py_TPFLAGS_DEFAULT` 0 where 3.9's gave 262144 at the levels both share (the
version tag flag became implicit): a real change of a limited-API constant, so a gate of 3.10 against
3.9 is broken and names it, while the wheels it must accept still work.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration


def gate(cache: Path, results: Path, matrix: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "harness", "gate", "--cache-dir", str(cache), "--results", str(results)]
    cmd += ["--matrix", str(matrix), "--case", "sysconfig/c-api", "--target", "abi3", *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1200, check=False)


def test_gate_of_310_against_39_names_the_changed_constant(
    interpreter_ids: list[str], host_matrix: Path, cache_dir: Path, tmp_path: Path
) -> None:
    missing = [i for i in ("cp39", "cp310", "cp313") if i not in interpreter_ids]
    if missing:
        pytest.skip(f"the gate test needs {', '.join(missing)}")
    out = gate(cache_dir, tmp_path, host_matrix, "--python", "cp310", "--baseline", "cp39", "--json")
    assert out.returncode == 1, out.stderr
    verdict = json.loads(out.stdout)
    assert verdict["verdict"] == "promise broken"
    assert verdict["cell_problems"] == []
    # cp39-abi3 wheels built on cp39 and cp313 (host_matrix's build_on) must load on 3.10, and do.
    assert verdict["cells"] == "2 cells: 2 pass"
    broken = {(b["promise"], b["subject"]) for b in verdict["surface"]}
    assert ("PEP 384", "[3] constant Py_TPFLAGS_DEFAULT") in broken
    run_dir = Path(verdict["run_dir"])
    assert "Py_TPFLAGS_DEFAULT" in (run_dir / "gate.md").read_text()
    records = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    assert {r["cell"] for r in records} == {"sysconfig/c-api:abi3:cp39:cp310", "sysconfig/c-api:abi3:cp313:cp310"}
