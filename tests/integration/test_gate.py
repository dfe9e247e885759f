"""`gate` on real interpreters: its cells run through the run pipeline, the surfaces are measured, one verdict.

CPython 3.9 does not export `PyCFunction_New`, a stable-ABI function since 3.4 that 3.8 exports (gh-87405,
a real 3.9 bug): a gate of 3.9 against 3.8 is broken and names it, while the wheels it must accept still
work. (3.10's `Py_TPFLAGS_DEFAULT` losing the version-tag bit, 262144 -> 0, is no break: the flag does
nothing since 3.10, bpo-42747; the surface calls it a no-op.)
"""

from __future__ import annotations

import json
import re
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


def test_gate_of_39_against_38_names_the_symbol_39_does_not_export(
    interpreter_ids: list[str], host_matrix: Path, cache_dir: Path, tmp_path: Path
) -> None:
    missing = [i for i in ("cp38", "cp39", "cp313") if i not in interpreter_ids]
    if missing:
        pytest.skip(f"the gate test needs {', '.join(missing)}")
    out = gate(cache_dir, tmp_path, host_matrix, "--python", "cp39", "--baseline", "cp38", "--json")
    assert out.returncode == 1, out.stderr
    verdict = json.loads(out.stdout)
    assert verdict["verdict"] == "promise broken"
    assert verdict["cell_problems"] == []
    # cp39-abi3 wheels built on cp39 and cp313 (host_matrix's build_on) must load on 3.9, and those built
    # on 3.9 everywhere they install: all pass.
    assert re.fullmatch(r"(\d+) cells: \1 pass", verdict["cells"]), verdict["cells"]
    broken = {(b["promise"], b["subject"]) for b in verdict["surface"]}
    assert broken == {("PEP 652", "symbol PyCFunction_New")}
    run_dir = Path(verdict["run_dir"])
    assert "PyCFunction_New" in (run_dir / "gate.md").read_text()
    records = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    assert {"sysconfig/c-api:abi3:cp39:cp39", "sysconfig/c-api:abi3:cp313:cp39"} <= {r["cell"] for r in records}
