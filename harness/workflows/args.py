"""Each command's flags checked together, before the command reads its inputs or writes anything.

One function per command (`check_run`, `check_report`, ...), so a flag error is exit 2 naming the flag,
and a later failure never leaves a half-done write behind (`report --rejudge --format bogus` used to
rewrite results.jsonl, then reject the flag).
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence
from pathlib import Path

from harness.build.installers import parse_installers
from harness.errors import ConfigError
from harness.reports.write import FORMATS, check_outputs
from harness.run import records as results
from harness.run.shard import ShardSpec

MAX_TIMEOUT_S = 86_400.0  # a day: longer is a typo (1e23) or a hang
MAX_JOBS = 1024


def path(text: str) -> Path:
    """An argparse type: a path, never empty text (Path("") is the current directory: caches and runs
    would be written into the repository)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty; give a path")
    return Path(text)


path.__name__ = "path"  # argparse names the type in its messages


def timeout(flag: str, value: float | None) -> list[str]:
    if value is None:
        return []
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT_S:
        return [f"{flag} {value}: expected seconds above 0 and at most {MAX_TIMEOUT_S:g} (a day)"]
    return []


def jobs(flag: str, value: int) -> list[str]:
    return [] if 1 <= value <= MAX_JOBS else [f"{flag} {value}: expected 1 to {MAX_JOBS}"]


def directory_to_write(flag: str, path: Path | None) -> list[str]:
    """A directory the command will create or write: not empty text, not a file (or under one)."""
    if path is None:
        return []
    for parent in (path, *path.parents):
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                what = "is a file" if parent == path else f"{parent} is a file"
                return [f"{flag} {path}: {what}, not a directory; give a directory"]
            break
    return []


def run_directory(flag: str, path: Path | None) -> list[str]:
    """A run directory to read: exists and holds results.jsonl (exit 2 naming the flag, before any read)."""
    if path is None:
        return []
    if not path.exists():
        return [f"{flag} {path}: no such directory; give a run directory such as results/latest"]
    if not path.is_dir():
        return [f"{flag} {path}: is a file, not a run directory"]
    if not (path / results.RESULTS_FILE).is_file():
        return [f"{flag} {path}: no {results.RESULTS_FILE} there; give a run directory such as results/latest"]
    return []


def formats(flag: str, text: str) -> list[str]:
    chosen = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        return [f"{flag} {','.join(unknown)}: unknown; choose from {','.join(FORMATS)}"]
    if not chosen:
        return [f"{flag} {text!r}: empty; choose from {','.join(FORMATS)}"]
    return []


def shard(flag: str, text: str | None) -> list[str]:
    if text is None:
        return []
    try:
        ShardSpec.parse(text)
    except ConfigError as exc:
        return exc.problems
    return []


def interpreter(flag: str, value: str) -> list[str]:
    """An interpreter id or glob, or the path of a python executable (a value holding a separator): a path
    must be a file to run, said before discovery probes it and a run directory is made for it."""
    if not value.strip():
        return [f"{flag} {value!r}: empty; give an interpreter id (cp313) or a python executable's path"]
    if os.sep not in value:
        return []
    found = Path(value).expanduser()
    if not found.exists():
        return [f"{flag} {value}: no such file; give an interpreter id (cp313) or a python executable's path"]
    if not found.is_file() or not os.access(found, os.X_OK):
        return [f"{flag} {value}: not an executable file; give a python executable's path"]
    return []


def selectors(flag: str, values: Sequence[str]) -> list[str]:
    """--case/--target globs: an empty one would select nothing without a word."""
    return [f"{flag} {v!r}: empty; give a name or a glob" for v in values if not v.strip()]


def installer(flag: str, text: str | None) -> list[str]:
    if text is None:
        return []
    try:
        parse_installers(text, flag)
    except ConfigError as exc:
        return exc.problems
    return []


def file_to_read(flag: str, path: Path | None) -> list[str]:
    if path is None or path.is_file():
        return []
    return [f"{flag} {path}: {'a directory' if path.is_dir() else 'no such file'}; give a file"]


def raise_if(problems: Sequence[str]) -> None:
    if problems:
        raise ConfigError(list(problems))


def check_run(args: argparse.Namespace) -> None:
    problems = timeout("--timeout", args.timeout) + jobs("--jobs", args.jobs) + shard("--shard", args.shard)
    problems += directory_to_write("--results", args.results) + directory_to_write("--cache-dir", args.cache_dir)
    if args.weights is not None and args.shard is None:
        problems.append("--weights: only with --shard K/N (it balances the shards)")
    problems += run_directory("--weights", args.weights) + run_directory("--resume", args.resume)
    if args.resume is not None and args.results != Path("results"):
        problems.append(
            f"--results {args.results} with --resume {args.resume}: a resumed run stays in its directory; "
            "drop --results"
        )
    raise_if(problems)


def check_report(args: argparse.Namespace) -> None:
    problems = run_directory("RUN_DIR", args.run_dir) + formats("--format", args.format)
    problems += run_directory("--baseline", args.baseline)
    raise_if(problems)
    # a report's place blocked is said before --rejudge rewrites results.jsonl
    check_outputs(args.run_dir, [f.strip() for f in args.format.split(",") if f.strip()])


def check_diff(args: argparse.Namespace) -> None:
    raise_if(run_directory("BASELINE_RUN", args.baseline) + run_directory("NEW_RUN", args.new))


def check_merge(args: argparse.Namespace) -> None:
    problems = [p for d in args.run_dirs for p in run_directory("RUN_DIR", d)]
    raise_if(problems + directory_to_write("--out", args.out))


def check_nightly(args: argparse.Namespace) -> None:
    problems = directory_to_write("--results", args.results) + directory_to_write("--out", args.out)
    problems += run_directory("--baseline", args.baseline)
    problems += [p for d in args.merge or () for p in run_directory("--merge", d)]
    if args.merge is None and not 1 <= args.shards <= 64:
        problems.append(f"--shards {args.shards}: expected 1 to 64")
    raise_if(problems)


def check_new_case(args: argparse.Namespace) -> None:
    raise_if(directory_to_write("--cases-dir", args.new_cases_dir))


def check_provision(args: argparse.Namespace) -> None:
    raise_if(directory_to_write("--into", args.into))


def check_preference(args: argparse.Namespace) -> None:
    problems = jobs("--jobs", args.jobs) + directory_to_write("--keep-output", args.keep_output)
    if args.output is not None and args.output.is_dir():
        problems.append(f"--output {args.output}: a directory; give a file name for the JSON result")
    elif args.output is not None and directory_to_write("--output", args.output.parent):
        problems.append(f"--output {args.output}: its directory cannot be made (a file is in the way)")
    raise_if(problems)


def _cells_flags(args: argparse.Namespace) -> list[str]:
    """The flags `gate` and `check` share with `run`: how cells run and where they are written."""
    problems = timeout("--timeout", args.timeout) + jobs("--jobs", args.jobs)
    problems += installer("--installer", args.installer) + directory_to_write("--results", args.results)
    return problems + directory_to_write("--cache-dir", args.cache_dir)


def check_gate(args: argparse.Namespace) -> None:
    problems = [] if len(args.python) == 1 else ["--python: give the new build once: --python ID or --python PATH"]
    problems += [p for value in args.python for p in interpreter("--python", value)]
    problems += interpreter("--baseline", args.baseline) if args.baseline is not None else []
    problems += selectors("--case", args.case) + selectors("--target", args.target)
    raise_if(problems + _cells_flags(args))


def check_check(args: argparse.Namespace) -> None:
    empty = [t for t in args.targets if not t.strip()]
    problems = [f"TARGET {t!r}: empty; give a wheel, a wheelhouse, NAME or NAME==VERSION" for t in empty]
    problems += [f"--import {name!r}: empty; give a module name" for name in args.imports if not name.strip()]
    if args.test is not None and not args.test.strip():
        problems.append(f"--test {args.test!r}: empty; give a command or leave the flag out")
    problems += file_to_read("--corpus", args.corpus) + shard("--shard", args.shard)
    raise_if(problems + _cells_flags(args))


def check_history(args: argparse.Namespace) -> None:
    problems = [] if args.last >= 1 else [f"--last {args.last}: expected at least 1"]
    if not args.run_dir.is_dir():
        what = "is a file" if args.run_dir.exists() else "no such directory"
        problems.append(f"RUN_DIR {args.run_dir}: {what}; give a merged run directory such as results/nightly/merged")
    raise_if(problems)
