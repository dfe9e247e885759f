"""Measure the harness, not assert on it: cold and warm runs of a fixed subset, uv against pip.

    python benchmarks/run_bench.py [--python cp39 --python cp313 ...]

Prints one line per scenario: wall time, cells, seconds per cell, wheels built. Each scenario uses
its own throwaway cache, so "cold" really builds; "warm" reruns on that cache and must build nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CASES = ("setuptools/c-api", "scikit-build-core/c-api")


def run(cache: Path, results: Path, pythons: list[str], installer: str) -> tuple[float, int, int]:
    cmd = [
        sys.executable,
        "-m",
        "harness",
        "run",
        "--cache-dir",
        str(cache),
        "--results",
        str(results),
        "--installer",
        installer,
        "--target",
        "version-specific",
        "--target",
        "abi3",
    ]
    cmd += [a for c in CASES for a in ("--case", c)] + [a for p in pythons for a in ("--python", p)]
    start = time.monotonic()
    subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    records = [json.loads(line) for line in (results / "latest" / "results.jsonl").read_text().splitlines()]
    built = sum(1 for r in records if r.get("build_cached") is False)
    return elapsed, len(records), built


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", action="append", default=[])
    args = parser.parse_args()
    pythons = args.python or ["cp39", "cp311", "cp313"]
    print(f"cases {', '.join(CASES)}; interpreters {', '.join(pythons)}")
    for installer in ("uv", "pip"):
        with tempfile.TemporaryDirectory() as tmp:
            cache, results = Path(tmp) / "cache", Path(tmp) / "results"
            for label in ("cold", "warm"):
                elapsed, cells, built = run(cache, results, pythons, installer)
                print(
                    f"{installer:<4} {label}: {elapsed:6.1f}s  {cells} cells  {elapsed / max(cells, 1):5.2f}s/cell  "
                    f"{built} cells on freshly built wheels"
                )


if __name__ == "__main__":
    main()
