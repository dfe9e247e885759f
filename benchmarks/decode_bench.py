"""Decode speed of a results.jsonl: the typed msgspec schema against the decoder it replaced, side by side.

    python benchmarks/decode_bench.py [RESULTS.jsonl ...] [--repeat N]

Without arguments: results/latest/results.jsonl if there is one, else the recorded runs in
tests/fixtures/runs. Each file is decoded N times (default 5) by:

- `before`: what harness/run/records.py did up to commit bd1622e (#17), kept below verbatim in
  behaviour: `json.loads` per line, a generic type check of the top-level fields (`record_problem`),
  `Record.from_json` (a dataclass, `observed` left a dict), then `Observed.from_json` of each record's
  observations (what `--rejudge` and the reports did next to read them).
- `after`: `harness.run.records.decode_record`, which yields the whole record typed (`observed`
  included) and checks every field's type, range and meaning.

Prints records per second and the time per full read for both, and last one line `BENCH {json}`.
Measures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.run.records import decode_record  # noqa: E402

STATUSES = {"pass", "fail", "xfail", "xpass", "skip", "crash", "timeout", "error"}


@dataclass(frozen=True, kw_only=True)
class OldRecord:
    """The record dataclass before #17 (fields as in schema 2; `observed` a dict)."""

    run_id: str
    cell: str
    case: str
    backend: str
    binding: str
    target: str
    target_kind: str
    build_python: str
    run_python: str
    status: str
    reason: str
    stage: str
    expected: str
    expected_rule: str = ""
    wheel: str | None = None
    wheel_tags: list[str] = field(default_factory=list)
    ext_files: list[str] = field(default_factory=list)
    installer: str | None = None
    packaging_accepts: bool | None = None
    known_issue: str | None = None
    build_cached: bool | None = None
    build_tools: dict[str, str] = field(default_factory=dict)
    build_log: str | None = None
    duration_s: float = 0.0
    log: str | None = None
    stages: dict[str, dict[str, str]] = field(default_factory=dict)
    findings: list[dict[str, str]] = field(default_factory=list)
    observed: dict[str, Any] | None = None
    reused_from: str | None = None
    schema_version: int = 2


_REQUIRED = tuple(f.name for f in fields(OldRecord) if f.default is MISSING and f.default_factory is MISSING)
_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "None": (type(None),),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}


def old_record_problem(data: Any) -> str | None:
    """records.record_problem before #17, unchanged."""
    if not isinstance(data, dict):
        return f"expected a JSON object, got {type(data).__name__}"
    if data.get("schema_version") != 2:
        return "schema_version"
    missing = [name for name in _REQUIRED if name not in data]
    if missing:
        return f"missing field {', '.join(missing)}"
    for f in fields(OldRecord):
        if f.name not in data:
            continue
        allowed = [_TYPES.get(part.strip().split("[")[0]) for part in str(f.type).split("|")]
        if None in allowed:
            continue
        value = data[f.name]
        ok = any(isinstance(value, t) for kinds in allowed if kinds for t in kinds)
        if not ok or (isinstance(value, bool) and bool not in {t for k in allowed if k for t in k}):
            return f"field {f.name}"
    if data["status"] not in STATUSES:
        return "unknown status"
    return None


def old_observed(data: dict[str, Any]) -> tuple[Any, ...]:
    """Observed.from_json before #17, in its work: nested dataclass-like tuples built field by field."""
    wheel = data.get("wheel")
    return (
        dict(data["build"]),
        (wheel["name"], tuple(wheel["tags"]), tuple(wheel["ext_files"]), wheel.get("requires_python", ""))
        if wheel
        else None,
        data.get("audit"),
        tuple(
            (i["name"], i["version"], dict(i["env"]), i.get("resolve"), i.get("install"))
            for i in data.get("installers", ())
        ),
        tuple(
            (
                x["route"],
                x["outcome"],
                tuple(
                    (f["file"], f["module"], f.get("abi_info"), f.get("abi_info_note", "")) for f in x.get("files", ())
                ),
                tuple(x.get("calls", ())),
                x.get("compiled"),
                tuple(x.get("import_warnings", ())),
                x.get("threads"),
            )
            for x in data.get("loads", ())
        ),
        data.get("harness_error", ""),
    )


def before(lines: list[bytes]) -> int:
    n = 0
    known = {f.name for f in fields(OldRecord)}
    for line in lines:
        data = json.loads(line.decode("utf-8"))
        if old_record_problem(data) is None:
            record = OldRecord(**{k: v for k, v in data.items() if k in known})
            if record.observed is not None:
                old_observed(record.observed)
            n += 1
    return n


def after(lines: list[bytes]) -> int:
    return len([decode_record(line, source="bench", number=n) for n, line in enumerate(lines, 1)])


def timed(fn: Callable[[list[bytes]], int], lines: list[bytes], repeat: int) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = fn(lines)
        times.append(time.perf_counter() - start)
    return statistics.median(times), count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    latest = REPO / "results" / "latest" / "results.jsonl"
    files = args.files or (
        [latest] if latest.is_file() else sorted((REPO / "tests/fixtures/runs").glob("*/results.jsonl"))
    )
    out = []
    print(
        f"{'file':<60} {'records':>8} {'MB':>6} {'before s':>9} {'after s':>9} {'before rec/s':>13} {'after rec/s':>12}"
    )
    for path in files:
        lines = [ln for ln in path.read_bytes().splitlines() if ln.strip()]
        size = sum(len(ln) + 1 for ln in lines) / 1e6
        t_before, n_before = timed(before, lines, args.repeat)
        t_after, n_after = timed(after, lines, args.repeat)
        print(
            f"{str(path)[-60:]:<60} {n_after:>8} {size:>6.1f} {t_before:>9.3f} {t_after:>9.3f} "
            f"{n_before / t_before:>13.0f} {n_after / t_after:>12.0f}"
        )
        out.append(
            {
                "file": str(path),
                "records": n_after,
                "mb": round(size, 2),
                "before_s": round(t_before, 4),
                "after_s": round(t_after, 4),
                "speedup": round(t_before / t_after, 2),
            }
        )
    print("BENCH " + json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
